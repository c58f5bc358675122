#include "src/linux/process.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "ocirt/error.hpp"
#include "src/linux/sync.hpp"
#include "src/linux/util.hpp"

namespace ocirt::linux_ {
namespace {

std::string map_text(const std::vector<spec::IdMapping>& m) {
  std::string s;
  for (auto& e : m)
    s += std::to_string(e.container_id) + " " + std::to_string(e.host_id) + " " + std::to_string(e.size) + "\n";
  return s;
}

Fd open_ns(const std::string& path, const std::string& what) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("linux.namespaces: open " + what + " namespace " + path);
  return fd;
}

// A user namespace holding the given mappings, for MOUNT_ATTR_IDMAP: a throwaway child is
// cloned into a new user namespace, its maps written, its ns fd kept, and it is reaped.
Fd make_userns(const std::vector<spec::IdMapping>& uids, const std::vector<spec::IdMapping>& gids,
               const std::string& where) {
  int pfd[2];
  if (::pipe2(pfd, O_CLOEXEC) < 0) throw_errno(where + ": pipe");
  Fd r(pfd[0]), w(pfd[1]);
  struct clone_args a {};
  a.flags = CLONE_NEWUSER;
  a.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &a, sizeof a);
  if (pid == 0) {
    ::close(w.get());  // our copy of the write end: else the parent's close would not be EOF here
    char c;
    (void)!::read(r.get(), &c, 1);  // until the parent is done with us (or gone)
    ::_exit(0);
  }
  if (pid < 0) throw_errno(where + ": clone a user namespace for the idmapped mount");
  w.reset();  // its EOF releases the child (also if we throw); it is killed below anyway
  Fd ns;
  try {
    std::string base = "/proc/" + std::to_string(pid);
    sys::write_file(base + "/uid_map", map_text(uids));
    sys::write_file(base + "/gid_map", map_text(gids));
    ns.reset(::open((base + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) throw_errno("open " + base + "/ns/user");
  } catch (const Error& e) {
    r.reset();
    ::kill(static_cast<pid_t>(pid), SIGKILL);
    ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
    throw Error(where + ": " + e.what(), e.err());
  }
  r.reset();
  ::kill(static_cast<pid_t>(pid), SIGKILL);
  while (::waitpid(static_cast<pid_t>(pid), nullptr, 0) < 0 && errno == EINTR) {
  }
  return ns;
}

}  // namespace

sync::Message next_message(int sync_fd, pid_t pid, const SpawnHooks& hooks, const char* who) {
  for (;;) {
    sync::Message m;
    int passed = -1;
    if (!sync::recv(sync_fd, m, &passed)) throw Error(std::string(who) + " exited during setup", ECHILD);
    Fd fd(passed);
    if (m.type == sync::Type::ConsoleFd) {
      if (!fd) throw Error("sync: pty master missing", EPROTO);
      if (hooks.console) hooks.console(m.text, fd.get());
      sync::send(sync_fd, sync::Type::ConsoleDone);
      continue;
    }
    if (m.type == sync::Type::SeccompFd) {
      if (!fd) throw Error("sync: seccomp listener fd missing", EPROTO);
      if (hooks.seccomp_listener) hooks.seccomp_listener(pid, fd.get());
      sync::send(sync_fd, sync::Type::SeccompDone);
      continue;
    }
    if (m.type == sync::Type::Error) throw Error(m.text, m.err);
    return m;
  }
}

void report_notes(std::string_view text) {
  for (std::string_view w = text; !w.empty();) {
    size_t nl = w.find('\n');
    // notes the child marks "debug:" (runc logs them at that level) and warnings
    std::string_view line = w.substr(0, nl);
    if (line.rfind("debug:", 0) == 0) spdlog::debug("{}", line.substr(6));
    else if (!line.empty()) spdlog::warn("{}", line);
    w = nl == std::string_view::npos ? std::string_view() : w.substr(nl + 1);
  }
}

Spawned spawn(InitContext& ctx, int cgroup_fd, const SpawnHooks& hooks) {
  const spec::Config& cfg = *ctx.cfg;
  // The init holds host things (our root and cwd until pivot_root, the fifo, the caller's fds)
  // while others may already see it (a pod sibling joining its pid namespace, `exec`): it is
  // non-dumpable, inherited from us at clone, so /proc/PID/{fd,root,cwd} are closed to them.
  // Its exec makes the container's process dumpable again.
  if (::prctl(PR_SET_DUMPABLE, 0) < 0) throw_errno("prctl(PR_SET_DUMPABLE)");
  uint64_t flags = 0;
  std::vector<Fd> join_fds;
  Fd own_pidns, own_timens;
  if (cfg.linux) {
    for (auto& ns : cfg.linux->namespaces) {
      unsigned long f = ns_flag(ns.type);
      if (ns.path.empty()) {
        if (f == CLONE_NEWCGROUP && cgroup_fd < 0) ctx.unshare_cgroupns = true;  // after joining the cgroup
        else if (f == CLONE_NEWTIME) continue;  // made below, so offsets can be written first
        else flags |= f;
        continue;
      }
      Fd fd = open_ns(ns.path, ns.type);
      if (f == CLONE_NEWPID || f == CLONE_NEWTIME) {
        // pid and time namespaces apply to children: the parent enters them for the clone only
        Fd& own = f == CLONE_NEWPID ? own_pidns : own_timens;
        own = open_ns(f == CLONE_NEWPID ? "/proc/self/ns/pid_for_children" : "/proc/self/ns/time_for_children", ns.type);
        if (::setns(fd.get(), f) < 0) throw_errno("linux.namespaces: join " + ns.type + " namespace " + ns.path);
        continue;
      }
      ctx.joins.push_back({fd.get(), static_cast<int>(f), ns.type + " namespace " + ns.path});
      join_fds.push_back(std::move(fd));
    }
    // mount is joined last: the other paths are resolved in the runtime's mount namespace
    std::stable_partition(ctx.joins.begin(), ctx.joins.end(), [](auto& j) { return j.type != CLONE_NEWNS; });
    const spec::Namespace* time = cfg.find_namespace("time");
    if (time && time->path.empty()) {
      own_timens = open_ns("/proc/self/ns/time_for_children", "time");
      if (::unshare(CLONE_NEWTIME) < 0) throw_errno("linux.namespaces: create time namespace");
      std::string offs;
      for (auto& [clock, o] : cfg.linux->time_offsets)
        offs += clock + " " + std::to_string(o.secs) + " " + std::to_string(o.nanosecs) + "\n";
      if (!offs.empty()) sys::write_file("/proc/self/timens_offsets", offs);
    }
  }
  ctx.new_userns = flags & CLONE_NEWUSER;
  if (cgroup_fd >= 0 && cfg.find_namespace("cgroup") && cfg.find_namespace("cgroup")->path.empty())
    flags |= CLONE_NEWCGROUP;

  // Bind mounts the init cannot make itself are made whole here, as host root, as detached
  // trees with their attributes; the init only attaches them. Idmapped ones (an init in a user
  // namespace may not idmap): a user namespace with the mount's mappings (or, for "idmap"
  // without any, the container's). With a new user namespace, every bind: its source is opened
  // before the init enters the namespace, where it may not reach it (runc does the same).
  std::vector<Fd> trees_owned;
  ctx.mount_trees.assign(cfg.mounts.size(), -1);
  for (size_t i = 0; i < cfg.mounts.size(); ++i) {
    const auto& m = cfg.mounts[i];
    bool idmap = !m.uid_mappings.empty(), bind = m.type == "bind";
    for (auto& o : m.options) {
      idmap |= o == "idmap" || o == "ridmap";
      bind |= o == "bind" || o == "rbind";
    }
    if (!idmap && !(bind && ctx.new_userns)) continue;
    std::string where = "mounts[" + std::to_string(i) + "]";
    Fd userns;
    if (idmap) {
      bool own = !m.uid_mappings.empty();
      userns = make_userns(own ? m.uid_mappings : cfg.linux->uid_mappings,
                           own ? m.gid_mappings : cfg.linux->gid_mappings, where);
    }
    trees_owned.push_back(prepare_bind_tree(m, ctx.bundle, userns.get(), where));
    ctx.mount_trees[i] = trees_owned.back().get();
  }

  int sp[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) throw_errno("sync socketpair");
  Spawned s;
  s.sync.reset(sp[0]);
  ctx.sync_fd = sp[1];

  int pidfd = -1;
  struct clone_args args {};
  args.flags = flags | CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0);
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  args.cgroup = cgroup_fd >= 0 ? static_cast<uint64_t>(cgroup_fd) : 0;
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0 && errno == ENOSYS && cgroup_fd < 0)  // old kernel: plain clone, fork-like
    pid = ::syscall(SYS_clone, flags | CLONE_PIDFD | SIGCHLD, nullptr, &pidfd, nullptr, nullptr);
  int clone_errno = errno;
  if (pid == 0) init_main(ctx);  // never returns
  ::close(sp[1]);
  // back to our own pid/time namespace for whatever we spawn next (hooks)
  int back = 0;
  if (own_pidns && ::setns(own_pidns.get(), CLONE_NEWPID) < 0) back = errno;
  if (own_timens && ::setns(own_timens.get(), CLONE_NEWTIME) < 0) back = errno;
  if (pid < 0) throw_errno("clone the container process", clone_errno);
  s.pid = static_cast<pid_t>(pid);
  s.pidfd.reset(pidfd);
  if (back) {
    sys::kill_and_reap(s.pidfd.get(), s.pid);
    throw_errno("return to the runtime's own pid/time namespace", back);
  }

  try {
    if (cfg.linux && (flags & CLONE_NEWUSER)) {
      std::string base = "/proc/" + std::to_string(s.pid);
      try {
        sys::write_file(base + "/uid_map", map_text(cfg.linux->uid_mappings));
      } catch (const Error& e) {
        throw Error(std::string("linux.uidMappings: ") + e.what(), e.err());
      }
      try {
        sys::write_file(base + "/gid_map", map_text(cfg.linux->gid_mappings));
      } catch (const Error& e) {
        throw Error(std::string("linux.gidMappings: ") + e.what(), e.err());
      }
    }
    if (cfg.process->oom_score_adj) {
      try {
        sys::write_file("/proc/" + std::to_string(s.pid) + "/oom_score_adj", std::to_string(*cfg.process->oom_score_adj));
      } catch (const Error& e) {
        throw Error(std::string("process.oomScoreAdj: ") + e.what(), e.err());
      }
    }
    sync::expect(s.sync.get(), sync::Type::Ready, "wait for the container process");
    // the steps in runc's debug words, so a runc user's log reading carries over
    spdlog::debug("nsexec container setup: init pid {} cloned into its namespaces", s.pid);
    spdlog::debug("child process in init(): set-up begins");
    if (hooks.on_clone) hooks.on_clone(s.pid);
    sync::send(s.sync.get(), sync::Type::Go, s.pid);
    for (;;) {
      sync::Message m = next_message(s.sync.get(), s.pid, hooks, "container init");
      if (m.type == sync::Type::Created) {
        report_notes(m.text);
        break;
      }
      if (m.type == sync::Type::RunHooks) {
        if (hooks.run_hooks) hooks.run_hooks(s.pid);
        sync::send(s.sync.get(), sync::Type::HooksDone);
        continue;
      }
      throw Error("sync: unexpected message from container init", EPROTO);
    }
  } catch (...) {
    sys::kill_and_reap(s.pidfd.get(), s.pid);
    throw;
  }
  return s;
}

}  // namespace ocirt::linux_

namespace ocirt::linux_ {

void sync_ack(Spawned& s) { sync::send(s.sync.get(), sync::Type::Ack); }

void sync_start(Spawned& s) {
  spdlog::debug("init: closing the pipe to signal completion (exec the process)");
  sync::send(s.sync.get(), sync::Type::Start);
}

}  // namespace ocirt::linux_
