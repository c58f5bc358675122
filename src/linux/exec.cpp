// `exec`: a new process in a running container. It joins every namespace of the container's
// init through its pidfd (the pid namespace by the parent, for its children), the init's
// cgroups, and gets the process's identity, capabilities, rlimits, no_new_privs and seccomp.
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include <spdlog/spdlog.h>

#include "ocirt/error.hpp"
#include "src/linux/attributes.hpp"
#include "src/linux/console.hpp"
#include "src/linux/exec.hpp"
#include "src/linux/linux.hpp"
#include "src/linux/process.hpp"
#include "src/linux/seccomp.hpp"
#include "src/linux/sync.hpp"
#include "src/linux/util.hpp"

namespace ocirt::linux_ {
namespace {

[[noreturn]] void exec_child(ExecRequest& r, int sync_fd, int init_pidfd, unsigned long ns_flags) {
  spec::Process& proc = r.process;
  SeccompFilter* seccomp = r.seccomp;
  std::string exe, home;
  try {
    sigset_t none;  // the runtime blocks what it forwards; we take signals from the start
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<int> keep = {sync_fd, init_pidfd};
    for (int i = 0; i < r.preserve_fds; ++i) keep.push_back(3 + i);
    sys::close_fds_except(keep);
    sync::Message go;
    if (!sync::recv(sync_fd, go)) ::_exit(1);
    if (go.type != sync::Type::Go) throw Error("sync: expected go", EPROTO);
    // all of the init's namespaces at once (the pid namespace came with the clone)
    if (ns_flags && ::setns(init_pidfd, static_cast<int>(ns_flags)) < 0) throw_errno("join the container's namespaces");
    ::close(init_pidfd);
    if (!r.user.empty()) resolve_user(r.user, proc.user);
    if (::chdir(proc.cwd.c_str()) < 0) throw_errno("process.cwd: chdir " + proc.cwd);
    char cwd[4096];
    if (!::getcwd(cwd, sizeof cwd) || cwd[0] != '/')
      throw Error("process.cwd: \"" + proc.cwd + "\" is outside the container", EPERM);
    if (r.console) {
      if (::setsid() < 0) throw_errno("setsid");
      std::string pty;
      Fd master = setup_console(proc, pty);
      sync::send_fd(sync_fd, sync::Type::ConsoleFd, master.get(), pty);
      sync::expect(sync_fd, sync::Type::ConsoleDone, "wait for the console hand-off");
    }
    apply_rlimits(proc);
    apply_io_priority(proc);
    apply_scheduler(proc);
    std::vector<std::string> notes;
    Fd procfd;
    apply_lsm(proc, r.lsm, [&procfd]() {
      if (!procfd) procfd = sys::open_procfs("procfs for the LSM label");
      return procfd.get();
    }, notes);
    procfd.reset();
    home = home_of(proc);
    // Without no_new_privs the filter is loaded while we still have CAP_SYS_ADMIN; with it, after
    // the identity change, and before Created when the runtime must pass a listener on.
    // Our own last steps come before the filter, which may refuse newer syscalls (or answer
    // them with ENOSYS): every fd of ours is close-on-exec from here on, signals are reset.
    if (::syscall(SYS_close_range, 3 + r.preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0) throw_errno("close_range");
    sys::reset_signals();  // once: whatever the caller left ignored
    if (seccomp && !proc.no_new_privileges) load_seccomp(*seccomp, sync_fd);
    apply_identity(proc, r.userns, notes);
    if (seccomp && proc.no_new_privileges && seccomp->has_notify()) load_seccomp(*seccomp, sync_fd);
    exe = find_executable(proc);
    sync::send_text(sync_fd, sync::Type::Created, sys::join(notes, "\n"));
    sync::expect(sync_fd, sync::Type::Start, "wait for start");
  } catch (const std::exception& e) {
    const auto* oe = dynamic_cast<const Error*>(&e);
    try {
      sync::send_error(sync_fd, oe ? oe->err() : EINVAL, e.what());
    } catch (...) {
    }
    ::_exit(1);
  }
  // the sync socket stays open (close-on-exec): the parent sees EOF when we exec
  try {
    if (proc.exec_cpu_affinity) apply_cpu_affinity(proc.exec_cpu_affinity->final_, "process.execCPUAffinity.final");
    // with no_new_privs the filter goes on last; without, it was loaded while we still had
    // CAP_SYS_ADMIN (loading it again now would be refused)
    if (seccomp && proc.no_new_privileges) seccomp->load();
  } catch (const std::exception& e) {
    (void)!::write(sync_fd, e.what(), strlen(e.what()));
    ::_exit(1);
  }
  int e = exec_process(exe, proc, home);
  std::string msg = "exec " + exe + ": " + strerror(e);
  (void)!::write(sync_fd, msg.data(), msg.size());
  ::_exit(e == ENOENT ? 127 : 126);
}

}  // namespace

ExecSpawned spawn_exec(ExecRequest& r, int init_pidfd, const SpawnHooks& on) {
  // Until it joins the container's mount namespace the child has the host's root and cwd, in
  // the container's pid namespace: non-dumpable (inherited from us), nobody there can reach them
  // through /proc/PID. exec makes it dumpable again.
  if (::prctl(PR_SET_DUMPABLE, 0) < 0) throw_errno("prctl(PR_SET_DUMPABLE)");
  // The pid namespace applies to children: enter it for the clone only.
  Fd own_pidns(::open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC));
  if (!own_pidns) throw_errno("open /proc/self/ns/pid_for_children");
  if (::setns(init_pidfd, CLONE_NEWPID) < 0) throw_errno("join the container's pid namespace");
  int sp[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) throw_errno("sync socketpair");
  ExecSpawned s;
  s.sync.reset(sp[0]);
  int pidfd = -1;
  struct clone_args a {};
  a.flags = CLONE_PIDFD | (r.cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0);
  a.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  a.exit_signal = SIGCHLD;
  a.cgroup = r.cgroup_fd >= 0 ? static_cast<uint64_t>(r.cgroup_fd) : 0;
  long pid = ::syscall(SYS_clone3, &a, sizeof a);
  int e = errno;
  if (pid == 0) exec_child(r, sp[1], init_pidfd, r.ns_flags);
  ::close(sp[1]);
  if (::setns(own_pidns.get(), CLONE_NEWPID) < 0 && pid > 0) {
    e = errno;
    sys::kill_and_reap(pidfd, static_cast<pid_t>(pid));
    throw_errno("return to our own pid namespace", e);
  }
  if (pid < 0) throw_errno("clone the exec process", e);
  s.pid = static_cast<pid_t>(pid);
  s.pidfd.reset(pidfd);
  try {
    if (on.on_clone) on.on_clone(s.pid);
    spdlog::debug("nsexec container setup: exec process {} cloned into the container's pid namespace", s.pid);
    sync::send(s.sync.get(), sync::Type::Go);
    sync::Message m = next_message(s.sync.get(), s.pid, on, "exec process");
    if (m.type != sync::Type::Created) throw Error("sync: unexpected message from the exec process", EPROTO);
    report_notes(m.text);
    spdlog::debug("child process in init(): joined the container, set up");
  } catch (...) {
    sys::kill_and_reap(s.pidfd.get(), s.pid);
    throw;
  }
  return s;
}

}  // namespace ocirt::linux_
