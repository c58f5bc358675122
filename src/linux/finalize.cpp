// The shared last steps of the init and of exec'd processes (see finalize.hpp).
#include "src/linux/finalize.hpp"

#include <linux/close_range.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstring>

#include "ocirt/error.hpp"
#include "src/linux/console.hpp"
#include "src/linux/linux.hpp"
#include "src/linux/seccomp.hpp"
#include "src/linux/inherited.hpp"
#include "src/linux/sync.hpp"
#include "src/common/strings.hpp"
#include "src/linux/procfs.hpp"

namespace ocirt::linux_ {

int LazyProcfs::get() {
  if (!fd_) fd_ = sys::open_procfs(what_);
  return fd_.get();
}

namespace {

// chdir to process.cwd; false if denied and `may_defer`. CVE-2024-21626: a cwd like
// /proc/self/fd/N could reach a host directory through one of our fds; the kernel reports such a
// cwd as unreachable from our root.
bool enter_cwd(const spec::Process& proc, bool may_defer) {
  if (::chdir(proc.cwd.c_str()) < 0) {
    if (may_defer && (errno == EACCES || errno == EPERM)) return false;
    throw_errno("process.cwd: chdir " + proc.cwd);
  }
  char cwd[4096];
  if (!::getcwd(cwd, sizeof cwd) || cwd[0] != '/')
    throw Error(ErrorKind::Invalid, "process.cwd", "\"" + proc.cwd + "\" is outside the container", EPERM);
  return true;
}

}  // namespace

Ready finalize(const Finish& f, LazyProcfs& procfs, std::vector<std::string>& notes) {
  const spec::Process& proc = *f.proc;
  Ready r;
  apply_rlimits(proc);
  // A cwd only the process's user may enter (root of a user namespace need not have that right)
  // is entered again once the identity is set, as runc does.
  const bool cwd_later = !enter_cwd(proc, true);
  // Attributes that need privileges, while we still have all our capabilities.
  if (f.linux) {
    apply_personality(*f.linux);
    apply_memory_policy(*f.linux);
  }
  apply_io_priority(proc);
  apply_scheduler(proc);
  apply_lsm(proc, f.lsm, [&procfs]() { return procfs.get(); }, notes);
  if (!proc.args.empty()) r.home = home_of(proc);  // before seccomp and the user change
  if (f.last_procfs) f.last_procfs(procfs);
  procfs.reset();
  // Our own last steps come before the filter, which may refuse newer syscalls (or answer them
  // with ENOSYS): every fd of ours is close-on-exec from here on, signals are reset (whatever
  // the caller or anything of ours left ignored would survive the exec).
  if (::syscall(SYS_close_range, 3 + f.preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0) throw_errno("close_range");
  sys::reset_signals();
  // Seccomp is loaded as late as possible: without no_new_privs while we still have
  // CAP_SYS_ADMIN (runc); with it, right before exec, unless the runtime must pass a listener
  // on (it is there only until Created).
  if (f.seccomp && !proc.no_new_privileges) load_seccomp(*f.seccomp, f.sync_fd);
  apply_identity(proc, f.in_userns, notes);
  if (cwd_later) enter_cwd(proc, false);
  if (f.seccomp && proc.no_new_privileges && f.seccomp->has_notify()) load_seccomp(*f.seccomp, f.sync_fd);
  if (!proc.args.empty()) r.exe = find_executable(proc);
  if (f.dumpable_when_created && ::prctl(PR_SET_DUMPABLE, 1) < 0)
    notes.push_back(std::string("debug:rootless: the created init stays non-dumpable (exec before start will fail): ") +
                    strerror(errno));
  sync::send_text(f.sync_fd, sync::Type::Created, sys::join(notes, "\n"));
  return r;
}

namespace {

[[noreturn]] void start_failed(int fd, const std::string& msg, bool echo, int code) {
  if (fd >= 0) (void)!::write(fd, msg.data(), msg.size());
  if (echo) {  // the container's stderr, where its own output goes (runc's init does the same)
    std::string line = "oci-rt: " + msg + "\n";
    (void)!::write(2, line.data(), line.size());
  }
  ::_exit(code);
}

}  // namespace

void exec_started(const Finish& f, const Ready& r, int started_fd, bool echo, const std::function<void()>& last) {
  const spec::Process& proc = *f.proc;
  try {
    if (proc.exec_cpu_affinity) apply_cpu_affinity(proc.exec_cpu_affinity->final_, "process.execCPUAffinity.final");
    // with no_new_privs the filter goes on last; without, it is on already (loading it again now
    // would be refused)
    if (f.seccomp && proc.no_new_privileges) f.seccomp->load();
    if (last) last();
  } catch (const std::exception& e) {
    start_failed(started_fd, e.what(), echo, 1);
  }
  int e = exec_process(r.exe, proc, r.home);
  start_failed(started_fd, "exec " + r.exe + ": " + strerror(e), echo, e == ENOENT ? 127 : 126);
}

void setup_failed(int sync_fd, const std::exception& e) {
  try {
    sync::send_error(sync_fd, e);
  } catch (...) {
    // the runtime is gone or has already returned: say it where the caller can see it
    std::string line = std::string("oci-rt: container process: ") + e.what() + "\n";
    (void)!::write(2, line.data(), line.size());
  }
  ::_exit(1);
}

void hand_over_console(const spec::Process& p, int sync_fd, bool bind_dev_console) {
  std::string pty;
  Fd master = setup_console(p, pty);
  if (bind_dev_console) bind_console();
  sync::send_fd(sync_fd, sync::Type::ConsoleFd, master.get(), pty);
  sync::expect(sync_fd, sync::Type::ConsoleDone, "wait for the console hand-off");
}

}  // namespace ocirt::linux_
