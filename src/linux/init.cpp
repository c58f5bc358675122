// The container's init, from clone to exec: joins and makes its namespaces, builds the
// rootfs, runs the createContainer hooks, takes the console, then the steps it shares with exec
// (finalize.cpp); reports Created and waits for start. Every failure before start goes to the
// runtime as a typed sync message and the init exits.
#include <malloc.h>
#include <fcntl.h>
#include <sched.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <sstream>
#include <tuple>

#include "ocirt/error.hpp"
#include "ocirt/hooks.hpp"
#include "ocirt/state.hpp"
#include "src/linux/attributes.hpp"
#include "src/linux/files.hpp"
#include "src/linux/finalize.hpp"
#include "src/linux/inherited.hpp"
#include "src/linux/linux.hpp"
#include "src/linux/sync.hpp"
#include "src/linux/procfs.hpp"
#include "src/linux/process.hpp"

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

namespace ocirt::linux_ {
namespace {

// The state the createContainer and startContainer hooks get on stdin.
std::string hook_state(const InitContext& ctx, pid_t pid, state::Status status) {
  state::Record r;
  r.oci_version = ctx.cfg->oci_version;
  r.id = ctx.id;
  r.pid = pid;
  r.bundle = ctx.bundle;
  r.annotations = ctx.cfg->annotations;
  return state::state_json(r, status, false);
}

// Through the verified procfs handle, never a path the container's mounts could redirect.
void apply_sysctl(const spec::Config& cfg, int procfd) {
  if (!cfg.linux) return;
  for (auto& [key, value] : cfg.linux->sysctl) {
    std::string path = "sys/" + key;
    for (size_t i = 4; i < path.size(); ++i)
      if (path[i] == '.') path[i] = '/';
    int fd = sys::procfs_open(procfd, path, O_WRONLY);
    if (fd < 0) throw_errno("linux.sysctl." + key + ": open /proc/" + path, -fd);
    Fd f(fd);
    if (::write(f.get(), value.data(), value.size()) < 0) throw_errno("linux.sysctl." + key + ": write /proc/" + path);
  }
}

[[gnu::noinline]] void touch_stack(size_t bytes) {
  volatile char* buf = static_cast<volatile char*>(__builtin_alloca(bytes));
  for (size_t i = 0; i < bytes; i += 4096) buf[i] = 0;
}

// Before the parent moves us into the container's cgroup (cgroup v1 and hybrid hosts), the
// memory our own setup will write is made ours: 32 KB of stack and 64 KB at the top of the heap
// (kept: no trim). Each page is then charged to the runtime's cgroup, where the runtime's work
// belongs, not to the container's limit; the pages go with our image at exec. On cgroup v2 the
// init is cloned into the container's cgroup (CLONE_INTO_CGROUP): there this does not hold,
// the pages are charged to the container either way (docs/performance.md has the figures).
// Stdio on the host's /dev/null is reopened from the container's own /dev/null (runc's
// reOpenDevNull): criu cannot dump a file whose mount is outside the container ("Can't lookup
// mount ... path=/dev/null"), and conmon gives a container without -i /dev/null as stdin.
// Three fstat calls; an open and dup3 only for a /dev/null stdio.
void reopen_dev_null() {
  Fd null_fd;
  for (int fd = 0; fd < 3; ++fd) {
    struct stat st;
    if (::fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) continue;
    if (!null_fd) {
      null_fd.reset(::open("/dev/null", O_RDWR | O_CLOEXEC));
      struct stat in;
      if (!null_fd || ::fstat(null_fd.get(), &in) < 0 || !S_ISCHR(in.st_mode) || in.st_rdev != st.st_rdev) return;
    }
    if (::dup3(null_fd.get(), fd, 0) < 0) throw_errno("reopen /dev/null inside the container");
  }
}

// In a network namespace of its own the loopback device starts down; runc brings it up (its
// "loopback" network, added for every new network namespace) and so do crun and callers'
// expectations (`nc 127.0.0.1` inside a plain `run`). A namespace joined by path is the
// caller's: untouched. Two ioctls on a datagram socket; an error names the step.
bool new_netns(const spec::Config& cfg) {
  if (!cfg.linux) return false;
  for (const auto& ns : cfg.linux->namespaces)
    if (ns.type == "network") return ns.path.empty();
  return false;
}

void bring_up_loopback() {
  Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) throw_errno("linux.namespaces: bring up lo in the new network namespace: socket");
  struct ifreq ifr {};
  memcpy(ifr.ifr_name, "lo", 3);
  if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) < 0) throw_errno("linux.namespaces: bring up lo in the new network namespace");
  if (ifr.ifr_flags & IFF_UP) return;
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) < 0) throw_errno("linux.namespaces: bring up lo in the new network namespace");
}

void prefault_scratch() {
  touch_stack(32 * 1024);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  if (void* p = malloc(64 * 1024)) {
    memset(p, 0, 64 * 1024);
    free(p);
  }
}

// A user namespace joined by path with linux.uidMappings/gidMappings given too: they must be
// the namespace's own (runc 1.2); read from our maps, which show the host's ids to us.
void check_joined_maps(const spec::Config& cfg, const std::string& what) {
  if (!cfg.linux) return;
  auto check = [&](const std::vector<spec::IdMapping>& want, const char* file, const char* field) {
    if (want.empty()) return;
    std::string text;
    if (!sys::try_read_file(std::string("/proc/self/") + file, text)) throw_errno(std::string("read /proc/self/") + file);
    std::vector<spec::IdMapping> have;
    std::istringstream in(text);
    for (uint64_t c, h, n; in >> c >> h >> n;)
      have.push_back({static_cast<uint32_t>(c), static_cast<uint32_t>(h), static_cast<uint32_t>(n)});
    auto key = [](const spec::IdMapping& m) { return std::tuple(m.container_id, m.host_id, m.size); };
    std::vector<spec::IdMapping> a = want, b = have;
    auto less = [&](auto& x, auto& y) { return key(x) < key(y); };
    std::sort(a.begin(), a.end(), less);
    std::sort(b.begin(), b.end(), less);
    if (!std::equal(a.begin(), a.end(), b.begin(), b.end(), [&](auto& x, auto& y) { return key(x) == key(y); }))
    {
      std::string shown;
      for (auto& m : have)
        shown += (shown.empty() ? "" : ", ") + std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
                 std::to_string(m.size);
      throw Error(std::string(field) + ": not the mappings of the " + what + " (its " + file + ": " + shown + ")", EINVAL);
    }
  };
  check(cfg.linux->uid_mappings, "uid_map", "linux.uidMappings");
  check(cfg.linux->gid_mappings, "gid_map", "linux.gidMappings");
}

}  // namespace

void init_main(InitContext& ctx) {
  const int sync_fd = ctx.sync_fd;
  const spec::Config& cfg = *ctx.cfg;
  const spec::Process& proc = *cfg.process;
  Finish fin(proc, ctx.seccomp, ctx.lsm, ctx.new_userns, ctx.preserve_fds, sync_fd);
  fin.linux = cfg.linux ? &*cfg.linux : nullptr;
  fin.dumpable_when_created = ctx.dumpable_until_go;
  Ready ready;
  int started_fd = -1;  // after start: errors are written here for the starter to report
  pid_t host_pid = 0;   // our pid as the runtime sees it (for the hooks' state)
  try {
    // If the runtime dies before it recorded us, our next send or receive on the sync channel
    // fails (EPIPE/EOF) and we exit: the child always talks to it before blocking on the fifo.
    // (No PR_SET_PDEATHSIG: clearing it after Ack would race with the parent's exit.)
    sys::unblock_signals();  // the runtime's caller may block what it forwards
    // Nothing of the runtime's stays open: only stdio, --preserve-fds and our own channels.
    std::vector<int> keep = {sync_fd};
    if (ctx.fifo_fd >= 0) keep.push_back(ctx.fifo_fd);
    for (auto& j : ctx.joins) keep.push_back(j.fd);
    if (ctx.pidns_fd >= 0) keep.push_back(ctx.pidns_fd);
    if (ctx.userns_fd >= 0) keep.push_back(ctx.userns_fd);
    for (int i = 0; i < ctx.preserve_fds; ++i) keep.push_back(3 + i);
    for (int fd : ctx.mount_trees)
      if (fd >= 0) keep.push_back(fd);
    sys::close_fds_except(keep);

    prefault_scratch();
    sync::send(sync_fd, sync::Type::Ready);
    sync::Message go;
    if (!sync::recv(sync_fd, go)) ::_exit(1);  // the parent is gone
    if (go.type != sync::Type::Go) throw Error("sync: expected go", EPROTO);
    host_pid = static_cast<pid_t>(go.value);
    // rootless: our id maps are written; from here nothing outside may reach our host things
    if (ctx.dumpable_until_go && ::prctl(PR_SET_DUMPABLE, 0) < 0) throw_errno("prctl(PR_SET_DUMPABLE)");

    if (ctx.userns_fd >= 0) {  // first: what we join or make next belongs to it
      if (::setns(ctx.userns_fd, CLONE_NEWUSER) < 0) throw_errno("join " + ctx.userns_what);
      ::close(ctx.userns_fd);
      check_joined_maps(cfg, ctx.userns_what);
    }
    if (ctx.new_userns) {
      if (::setresgid(0, 0, 0) < 0) throw_errno("become root in the user namespace: setresgid");
      if (::setresuid(0, 0, 0) < 0) throw_errno("become root in the user namespace: setresuid");
    }
    for (auto& j : ctx.joins) {
      if (::setns(j.fd, j.type) < 0) throw_errno("join " + j.what);
      ::close(j.fd);
    }
    if (ctx.unshare_flags && ::unshare(static_cast<int>(ctx.unshare_flags)) < 0)
      throw_errno("linux.namespaces: create namespaces in the " + ctx.userns_what);
    if (ctx.pidns_fd >= 0 || ctx.new_pidns_in_userns) {
      if (ctx.pidns_fd >= 0 && ::setns(ctx.pidns_fd, CLONE_NEWPID) < 0) throw_errno("join " + ctx.pidns_what);
      if (ctx.pidns_fd >= 0) ::close(ctx.pidns_fd);
      if (ctx.new_pidns_in_userns && ::unshare(CLONE_NEWPID) < 0)
        throw_errno("linux.namespaces: create a pid namespace in the " + ctx.userns_what);
      host_pid = static_cast<pid_t>(reborn_in_pidns(sync_fd));
    }
    if (ctx.unshare_cgroupns && ::unshare(CLONE_NEWCGROUP) < 0) throw_errno("create cgroup namespace");
    if (new_netns(cfg)) bring_up_loopback();
    if (proc.exec_cpu_affinity) apply_cpu_affinity(proc.exec_cpu_affinity->initial, "process.execCPUAffinity.initial");
    if (::setsid() < 0) throw_errno("setsid");
    if (!ctx.no_new_keyring) {
      std::string name = "_ses." + ctx.id;
      if (::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.c_str()) < 0 && errno != ENOSYS && errno != EPERM &&
          errno != EACCES && errno != EDQUOT)
        throw_errno("join session keyring");
    }

    // Nothing of the host is kept across pivot_root: we are non-dumpable (the runtime was when
    // it cloned us; exec makes the container's process dumpable again), and the procfs we use
    // later is the container's, verified, opened once the root is in place.
    // Without a mount namespace every mount would land on the host: the plan makes none (as
    // runc), and the runtime has said so.
    const bool mntns = !ctx.mounts->skipped;
    std::vector<std::string> notes;
    if (mntns) {
      prepare_rootfs(ctx);
      for (int& fd : ctx.mount_trees)  // attached now: nothing detached of the host stays open
        if (fd >= 0) ::close(std::exchange(fd, -1));
    }
    if (cfg.hooks && (!cfg.hooks->prestart.empty() || !cfg.hooks->create_runtime.empty())) {
      sync::send(sync_fd, sync::Type::RunHooks);
      sync::expect(sync_fd, sync::Type::HooksDone, "wait for createRuntime hooks");
    }
    if (cfg.hooks && !cfg.hooks->create_container.empty())  // in the rootfs, as runc runs them
      hooks::run(cfg.hooks->create_container, hook_state(ctx, host_pid, state::Status::Creating), "createContainer",
                 ctx.rootfs);
    if (mntns) {
      enter_rootfs(ctx);
      if (!ctx.console) reopen_dev_null();
    } else if (::chroot(ctx.rootfs.c_str()) < 0 || ::chdir("/") < 0) {
      throw_errno("chroot " + ctx.rootfs);
    }
    LazyProcfs procfs("procfs for sysctl, LSM and the exec fifo");
    if (cfg.linux && !cfg.linux->sysctl.empty()) apply_sysctl(cfg, procfs.get());
    if (!cfg.hostname.empty() && ::sethostname(cfg.hostname.data(), cfg.hostname.size()) < 0) throw_errno("hostname");
    if (!cfg.domainname.empty() && ::setdomainname(cfg.domainname.data(), cfg.domainname.size()) < 0)
      throw_errno("domainname");
    // the container's own devpts: after pivot_root, before /dev may turn read-only
    if (ctx.console) hand_over_console(proc, sync_fd, mntns);
    if (mntns) finish_rootfs(ctx);
    // The exec fifo is reopened later through our own fd dir in the verified procfs (runc does
    // the same). The dir is opened before the filter: a profile need not allow openat2.
    Fd fifo_dir;
    if (ctx.fifo_fd >= 0)
      fin.last_procfs = [&fifo_dir](LazyProcfs& p) {
        int fds = sys::procfs_open(p.get(), "thread-self/fd", O_PATH | O_DIRECTORY);
        if (fds < 0) throw_errno("open exec fifo: /proc/thread-self/fd", -fds);
        fifo_dir.reset(fds);
      };
    ready = finalize(fin, procfs, notes);
    sync::expect(sync_fd, sync::Type::Ack, "wait for the runtime to record the container");

    if (ctx.fifo_fd >= 0) {
      // Blocks until `start` opens the fifo for reading.
      Fd w(::openat(fifo_dir.get(), std::to_string(ctx.fifo_fd).c_str(), O_WRONLY | O_CLOEXEC));
      if (!w) throw_errno("open exec fifo");
      fifo_dir.reset();
      ::close(ctx.fifo_fd);
      ::close(sync_fd);
      if (::write(w.get(), "0", 1) != 1) throw_errno("write exec fifo");
      started_fd = w.release();  // close-on-exec: `start` sees EOF when we exec
    } else {
      sync::expect(sync_fd, sync::Type::Start, "wait for start");
      started_fd = sync_fd;  // close-on-exec too
    }
  } catch (const std::exception& e) {
    setup_failed(sync_fd, e);
  }
  if (proc.args.empty()) ::_exit(0);  // created without a process: start refuses, we go
  // Started: from here errors go to the container's stderr too. The startContainer hooks run
  // last, as the container's process would, seccomp filter included (runc's order).
  exec_started(fin, ready, started_fd, true, [&] {
    if (cfg.hooks && !cfg.hooks->start_container.empty())
      hooks::run(cfg.hooks->start_container, hook_state(ctx, host_pid, state::Status::Created), "startContainer");
  });
}

}  // namespace ocirt::linux_
