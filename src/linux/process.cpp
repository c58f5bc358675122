// The runtime's side of process creation (see process.hpp): the one clone path, the sync loop,
// the init's parent-side steps.
#include "src/linux/process.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spawn.h>

#include <algorithm>
#include <cstring>

#include <spdlog/spdlog.h>

#include "ocirt/error.hpp"
#include "src/linux/sync.hpp"
#include "src/linux/files.hpp"
#include "src/linux/processes.hpp"

namespace ocirt::linux_ {

Child::~Child() {
  if (armed && pidfd) sys::kill_and_reap(pidfd.get(), pid);
}

std::string id_map_text(const std::vector<spec::IdMapping>& m) {
  std::string s;
  for (auto& e : m)
    s += std::to_string(e.container_id) + " " + std::to_string(e.host_id) + " " + std::to_string(e.size) + "\n";
  return s;
}

void ForClone::enter(int fd, int type, const std::string& what) {
  Fd& own = type == CLONE_NEWPID ? own_pid_ : own_time_;
  const char* self = type == CLONE_NEWPID ? "/proc/self/ns/pid_for_children" : "/proc/self/ns/time_for_children";
  if (!own) {
    own.reset(::open(self, O_RDONLY | O_CLOEXEC));
    if (!own) throw_errno(std::string("open ") + self);
  }
  if (::setns(fd, type) < 0) throw_errno(what);
}

void ForClone::new_time(const std::map<std::string, spec::TimeOffset>& offsets) {
  if (!own_time_) {
    own_time_.reset(::open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC));
    if (!own_time_) throw_errno("open /proc/self/ns/time_for_children");
  }
  if (::unshare(CLONE_NEWTIME) < 0) throw_errno("linux.namespaces: create time namespace");
  std::string offs;
  for (auto& [clock, o] : offsets) offs += clock + " " + std::to_string(o.secs) + " " + std::to_string(o.nanosecs) + "\n";
  if (!offs.empty()) sys::write_file("/proc/self/timens_offsets", offs);
}

int ForClone::leave() {
  int err = 0;
  if (own_pid_ && ::setns(own_pid_.get(), CLONE_NEWPID) < 0) err = errno;
  if (own_time_ && ::setns(own_time_.get(), CLONE_NEWTIME) < 0) err = errno;
  own_pid_.reset();
  own_time_.reset();
  return err;
}

Child clone_child(uint64_t flags, int cgroup_fd, ForClone& ns, const std::function<void(int)>& child_main,
                  const char* what, bool stay_dumpable) {
  int sp[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
    int e = errno;
    ns.leave();
    throw_errno("sync socketpair", e);
  }
  // Until it is set up the child holds host things (our root and cwd, the caller's fds) while
  // others may already see it (a pod sibling in its pid namespace, `exec`): it is non-dumpable
  // from its first instruction, inherited from us at clone, so /proc/PID/{fd,root,cwd} are
  // closed to them. Its exec makes the container's process dumpable again. Ours is the caller's
  // to keep: given back right after the clone.
  const int dumpable = stay_dumpable ? 0 : ::prctl(PR_GET_DUMPABLE);
  if (dumpable != 0 && ::prctl(PR_SET_DUMPABLE, 0) < 0) {
    int e = errno;
    ::close(sp[0]);
    ::close(sp[1]);
    ns.leave();
    throw_errno("prctl(PR_SET_DUMPABLE)", e);
  }
  Child c;
  c.sync.reset(sp[0]);
  Fd theirs(sp[1]);
  int pidfd = -1;
  struct clone_args args {};
  args.flags = flags | CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0);
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  args.cgroup = cgroup_fd >= 0 ? static_cast<uint64_t>(cgroup_fd) : 0;
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0 && errno == ENOSYS && cgroup_fd < 0)  // old kernel: plain clone, fork-like
    pid = ::syscall(SYS_clone, flags | CLONE_PIDFD | SIGCHLD, nullptr, &pidfd, nullptr, nullptr);
  const int clone_errno = errno;
  if (pid == 0) {
    child_main(theirs.get());
    ::_exit(1);  // child_main never returns
  }
  if (dumpable > 0) ::prctl(PR_SET_DUMPABLE, dumpable);
  theirs.reset();
  // back in our own pid/time namespaces for whatever we start next (hooks, the next container)
  const int back = ns.leave();
  if (pid < 0) throw_errno(std::string("clone the ") + what, clone_errno);
  c.pid = static_cast<pid_t>(pid);
  c.pidfd.reset(pidfd);
  if (back) throw_errno("return to the runtime's own pid/time namespace", back);  // ~Child kills it
  return c;
}

int64_t reborn_in_pidns(int sync_fd) {
  int pidfd = -1;
  struct clone_args a {};
  a.flags = CLONE_PARENT | CLONE_PIDFD;  // exit_signal must be 0 with CLONE_PARENT: the parent's is used
  a.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  long pid = ::syscall(SYS_clone3, &a, sizeof a);
  if (pid < 0) throw_errno("clone into the container's pid namespace");
  if (pid > 0) {
    sync::send_fd(sync_fd, sync::Type::Reborn, pidfd, "", pid);
    ::_exit(0);
  }
  sync::Message go;
  if (!sync::recv(sync_fd, go)) ::_exit(1);  // the runtime is gone
  if (go.type != sync::Type::Go) throw Error("sync: expected go after reborn", EPROTO);
  return go.value;
}

namespace {

// The child's Created text: one note a line, "debug:" ones at debug level, the rest warnings.
void report_notes(std::string_view text) {
  for (std::string_view w = text; !w.empty();) {
    size_t nl = w.find('\n');
    std::string_view line = w.substr(0, nl);
    if (line.rfind("debug:", 0) == 0) spdlog::debug("{}", line.substr(6));
    else if (!line.empty()) spdlog::warn("{}", line);
    w = nl == std::string_view::npos ? std::string_view() : w.substr(nl + 1);
  }
}

}  // namespace

void drive(Child& c, const SpawnHooks& hooks, const char* who) {
  const int fd = c.sync.get();
  sync::expect(fd, sync::Type::Ready, "wait for the container process");
  if (hooks.on_clone) hooks.on_clone(c.pid);
  sync::send(fd, sync::Type::Go, c.pid);
  for (;;) {
    sync::Message m;
    int passed = -1;
    if (!sync::recv(fd, m, &passed)) throw Error(ErrorKind::Failed, "", std::string(who) + " exited during setup", ECHILD);
    Fd got(passed);
    switch (m.type) {
      case sync::Type::ConsoleFd:
        if (!got) throw Error("sync: pty master missing", EPROTO);
        if (hooks.console) hooks.console(m.text, got.get());
        sync::send(fd, sync::Type::ConsoleDone);
        continue;
      case sync::Type::SeccompFd:
        if (!got) throw Error("sync: seccomp listener fd missing", EPROTO);
        if (hooks.seccomp_listener) hooks.seccomp_listener(c.pid, got.get());
        sync::send(fd, sync::Type::SeccompDone);
        continue;
      case sync::Type::RunHooks:
        if (hooks.run_hooks) hooks.run_hooks(c.pid);
        sync::send(fd, sync::Type::HooksDone);
        continue;
      case sync::Type::Reborn: {
        // our child could not be cloned into the pid namespace (rootless exec): it joined and
        // cloned the process that goes on, as our child (CLONE_PARENT), and exits now
        if (!got || m.value <= 0) throw Error("sync: reborn process missing", EPROTO);
        Fd old = std::move(c.pidfd);
        const pid_t old_pid = c.pid;
        c.pid = static_cast<pid_t>(m.value);
        c.pidfd = std::move(got);
        while (::waitpid(old_pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        sync::send(fd, sync::Type::Go, c.pid);  // its pid, as we see it
        continue;
      }
      case sync::Type::Created:
        report_notes(m.text);
        return;
      case sync::Type::Error:
        throw sync::error_of(m);
      default:
        throw Error(std::string("sync: unexpected message from the ") + who, EPROTO);
    }
  }
}

namespace {

Fd open_ns(const std::string& path, const std::string& what) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("linux.namespaces: open " + what + " namespace " + path);
  return fd;
}

// A user namespace holding the given mappings, for MOUNT_ATTR_IDMAP: a throwaway child is
// cloned into a new user namespace and waits; its maps are written, its ns fd is kept, and it is
// killed and reaped. It also exits by itself if we die first (EOF on its pipe: our end is the
// only writer, kept open until we are done with it).
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
    ::close(w.get());  // our copy of the write end: the parent's is then the only one
    char c;
    (void)!::read(r.get(), &c, 1);  // blocks until the parent kills us (or dies)
    ::_exit(0);
  }
  if (pid < 0) throw_errno(where + ": clone a user namespace for the idmapped mount");
  Fd ns;
  try {
    std::string base = "/proc/" + std::to_string(pid);
    sys::write_file(base + "/uid_map", id_map_text(uids));
    sys::write_file(base + "/gid_map", id_map_text(gids));
    ns.reset(::open((base + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) throw_errno("open " + base + "/ns/user");
  } catch (Error& e) {
    ::kill(static_cast<pid_t>(pid), SIGKILL);
    while (::waitpid(static_cast<pid_t>(pid), nullptr, 0) < 0 && errno == EINTR) {
    }
    e.prefix(where);
    throw;
  }
  ::kill(static_cast<pid_t>(pid), SIGKILL);
  while (::waitpid(static_cast<pid_t>(pid), nullptr, 0) < 0 && errno == EINTR) {
  }
  return ns;
}

void write_proc(pid_t pid, const char* file, const std::string& text, const char* field) {
  try {
    sys::write_file("/proc/" + std::to_string(pid) + "/" + file, text);
  } catch (Error& e) {
    throw Error(ErrorKind::System, field, e.what(), e.err());
  }
}

// newuidmap/newgidmap (the uidmap package: setuid root, they check the caller's /etc/subuid or
// /etc/subgid ranges) write a map an unprivileged runtime may not: PID then the triplets.
void run_map_tool(const char* tool, pid_t pid, const std::vector<spec::IdMapping>& m, const char* field) {
  std::string path;
  for (const char* dir : {"/usr/bin/", "/bin/", "/usr/local/bin/", "/usr/sbin/"}) {
    std::string p = std::string(dir) + tool;
    if (::access(p.c_str(), X_OK) == 0) {
      path = p;
      break;
    }
  }
  if (path.empty())
    throw Error(ErrorKind::System, field,
                std::string("more than a mapping of our own id needs ") + tool + " (install the uidmap package)", ENOENT);
  std::vector<std::string> args = {tool, std::to_string(pid)};
  for (auto& e : m) {
    args.push_back(std::to_string(e.container_id));
    args.push_back(std::to_string(e.host_id));
    args.push_back(std::to_string(e.size));
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  if (::pipe2(out, O_CLOEXEC) < 0) throw_errno(std::string(field) + ": " + tool + ": pipe");
  Fd r(out[0]), w(out[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, w.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, w.get(), 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  static char* const no_env[] = {nullptr};
  pid_t child = -1;
  const int err = ::posix_spawn(&child, path.c_str(), &fa, &attr, argv.data(), no_env);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  w.reset();
  if (err) throw Error(ErrorKind::System, field, std::string("run ") + path + ": " + strerror(err), err);
  std::string said;
  char buf[512];
  for (ssize_t n; (n = ::read(r.get(), buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (said.size() < 4096) said.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  while (!said.empty() && (said.back() == '\n' || said.back() == ' ')) said.pop_back();
  throw Error(ErrorKind::System, field,
              path + " failed" + (said.empty() ? std::string() : ": " + said) +
                  " (the ranges must be the caller's in /etc/" + (tool[3] == 'u' ? "subuid" : "subgid") + ")",
              EPERM);
}

// The init's id maps. As root (or root in a user namespace with the ids mapped): written
// directly. Unprivileged (rootless), as runc: a single mapping of our own euid (egid) is written
// directly, setgroups denied first for the gid map as the kernel requires; anything more goes
// through newuidmap/newgidmap. The init is dumpable until then (clone_child), so that its
// /proc/PID files are ours and the tools accept it as our process.
void write_id_maps(pid_t pid, const spec::Linux& l) {
  if (sys::euid() == 0) {
    write_proc(pid, "uid_map", id_map_text(l.uid_mappings), "linux.uidMappings");
    write_proc(pid, "gid_map", id_map_text(l.gid_mappings), "linux.gidMappings");
    return;
  }
  auto own = [](const std::vector<spec::IdMapping>& m, uint32_t id) {
    return m.size() == 1 && m[0].size == 1 && m[0].host_id == id;
  };
  if (own(l.uid_mappings, sys::euid())) write_proc(pid, "uid_map", id_map_text(l.uid_mappings), "linux.uidMappings");
  else run_map_tool("newuidmap", pid, l.uid_mappings, "linux.uidMappings");
  if (own(l.gid_mappings, ::getegid())) {
    write_proc(pid, "setgroups", "deny", "linux.gidMappings");
    write_proc(pid, "gid_map", id_map_text(l.gid_mappings), "linux.gidMappings");
  } else {
    run_map_tool("newgidmap", pid, l.gid_mappings, "linux.gidMappings");
  }
}

}  // namespace

Child spawn(InitContext& ctx, int cgroup_fd, const SpawnHooks& hooks) {
  const spec::Config& cfg = *ctx.cfg;
  uint64_t flags = 0;
  std::vector<Fd> join_fds;
  ForClone for_clone;
  try {
    if (cfg.linux) {
      // A user namespace joined by path (a Kubernetes pod's, hostUsers: false): the namespaces
      // the container makes must be owned by it, or its root could not use them (mount its
      // /proc, its sysfs). The init joins it first and unshares them there; a new pid namespace
      // comes with a rebirth (the init's children are the ones in it).
      const spec::Namespace* user = cfg.find_namespace("user");
      const bool join_user = user && !user->path.empty();
      for (auto& ns : cfg.linux->namespaces) {
        unsigned long f = ns_flag(ns.type);
        if (ns.path.empty()) {
          if (f == CLONE_NEWCGROUP && (cgroup_fd < 0 || join_user)) ctx.unshare_cgroupns = true;  // after joining the cgroup
          else if (join_user && f == CLONE_NEWPID) ctx.new_pidns_in_userns = true;
          else if (join_user && f != CLONE_NEWTIME) ctx.unshare_flags |= f;
          else if (f != CLONE_NEWTIME) flags |= f;  // time: made below, so offsets can be written first
          continue;
        }
        Fd fd = open_ns(ns.path, ns.type);
        if (f == CLONE_NEWUSER) {
          ctx.userns_fd = fd.get();
          ctx.userns_what = "user namespace " + ns.path;
          join_fds.push_back(std::move(fd));
          continue;
        }
        if (f == CLONE_NEWPID && sys::unprivileged()) {
          // we could enter it but not come back (that needs CAP_SYS_ADMIN in the initial user
          // namespace): the init joins it and clones the process that goes on (Reborn)
          ctx.pidns_fd = fd.get();
          ctx.pidns_what = "pid namespace " + ns.path;
          join_fds.push_back(std::move(fd));
          continue;
        }
        if (f == CLONE_NEWPID || f == CLONE_NEWTIME) {  // they apply to children: entered for the clone
          for_clone.enter(fd.get(), static_cast<int>(f), "linux.namespaces: join " + ns.type + " namespace " + ns.path);
          continue;
        }
        ctx.joins.push_back({fd.get(), static_cast<int>(f), ns.type + " namespace " + ns.path});
        join_fds.push_back(std::move(fd));
      }
      // mount is joined last: the other paths are resolved in the runtime's mount namespace
      std::stable_partition(ctx.joins.begin(), ctx.joins.end(), [](auto& j) { return j.type != CLONE_NEWNS; });
      const spec::Namespace* time = cfg.find_namespace("time");
      if (time && time->path.empty()) for_clone.new_time(cfg.linux->time_offsets);
    }
    ctx.new_userns = (flags & CLONE_NEWUSER) || ctx.userns_fd >= 0;
    if (cgroup_fd >= 0 && !ctx.unshare_cgroupns && cfg.find_namespace("cgroup") && cfg.find_namespace("cgroup")->path.empty())
      flags |= CLONE_NEWCGROUP;
  } catch (...) {
    for_clone.leave();
    throw;
  }

  // The mount plan, made here once (every option parsed once, nothing planned in the init).
  // Bind mounts the init cannot make itself are made whole here, as host root, as detached
  // trees with their attributes; the init only attaches them. Idmapped ones (an init in a user
  // namespace may not idmap): a user namespace with the mount's mappings (or, for "idmap"
  // without any, the container's). With a new user namespace, every bind: its source is opened
  // before the init enters the namespace, where it may not reach it (runc does the same).
  std::vector<Fd> trees_owned;
  try {
    ctx.mounts = plan_mounts(cfg, mount_host(ctx));
    for (auto& w : ctx.mounts->warnings) spdlog::warn("{}", w);
    ctx.mount_trees.assign(cfg.mounts.size(), -1);
    for (const MountStep& step : ctx.mounts->steps) {
      if (step.kind != MountKind::ParentTree) continue;
      Fd userns;
      if (step.idmap && step.mount->uid_mappings.empty() && ctx.userns_fd >= 0) {
        // "idmap" without mappings of its own: the container's user namespace, joined by path
        userns.reset(::fcntl(ctx.userns_fd, F_DUPFD_CLOEXEC, 3));
        if (!userns) throw_errno("mounts[" + std::to_string(step.index) + "]: dup the user namespace");
      } else if (step.idmap) {
        const spec::Mount& m = *step.mount;
        const bool own = !m.uid_mappings.empty();
        userns = make_userns(own ? m.uid_mappings : cfg.linux->uid_mappings, own ? m.gid_mappings : cfg.linux->gid_mappings,
                             "mounts[" + std::to_string(step.index) + "]");
      }
      trees_owned.push_back(prepare_bind_tree(step, userns.get()));
      ctx.mount_trees[step.index] = trees_owned.back().get();
    }
  } catch (...) {
    for_clone.leave();
    throw;
  }

  // rootless: dumpable until its id maps are written (the init then clears it, after Go)
  ctx.dumpable_until_go = ctx.rootless && (flags & CLONE_NEWUSER);
  Child c = clone_child(flags, cgroup_fd, for_clone, [&ctx](int sync_fd) {
    ctx.sync_fd = sync_fd;
    init_main(ctx);
  }, "container process", ctx.dumpable_until_go);
  if (cfg.linux && (flags & CLONE_NEWUSER)) write_id_maps(c.pid, *cfg.linux);
  if (cfg.process->oom_score_adj)
    write_proc(c.pid, "oom_score_adj", std::to_string(*cfg.process->oom_score_adj), "process.oomScoreAdj");
  // the steps in runc's debug words, so a runc user's log reading carries over
  spdlog::debug("nsexec container setup: init pid {} cloned into its namespaces", c.pid);
  spdlog::debug("child process in init(): set-up begins");
  drive(c, hooks, "container init");
  return c;
}

void sync_ack(Child& c) { sync::send(c.sync.get(), sync::Type::Ack); }

void sync_start(Child& c) {
  spdlog::debug("init: closing the pipe to signal completion (exec the process)");
  sync::send(c.sync.get(), sync::Type::Start);
}

}  // namespace ocirt::linux_
