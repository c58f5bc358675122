// The last steps every container process takes, the init's and an exec'd one's alike: from the
// working directory to the identity change and seccomp, the report to the runtime, and, once
// told to start, the exec. One copy, so a fix (the cwd check, the signal reset, the fd rules,
// the seccomp order) lands in both.
#pragma once

#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "ocirt/fd.hpp"
#include "ocirt/spec.hpp"
#include "src/linux/attributes.hpp"

namespace ocirt::linux_ {

class SeccompFilter;

// The root of a verified procfs (sys::open_procfs), opened when first asked for.
class LazyProcfs {
 public:
  explicit LazyProcfs(const char* what) : what_(what) {}
  int get();
  void reset() { fd_.reset(); }

 private:
  const char* what_;
  Fd fd_;
};

struct Finish {
  Finish(const spec::Process& p, SeccompFilter* sc, const Lsm& l, bool userns, int preserve, int sync)
      : proc(&p), seccomp(sc), lsm(l), in_userns(userns), preserve_fds(preserve), sync_fd(sync) {}
  const spec::Process* proc = nullptr;
  const spec::Linux* linux = nullptr;  // the init: personality and memory policy; exec: none
  SeccompFilter* seccomp = nullptr;
  Lsm lsm;
  bool in_userns = false;  // a user namespace of the container's own (identity rules)
  int preserve_fds = 0;
  int sync_fd = -1;
  // Rootless init: dumpable again once it holds nothing of the host (its root is the
  // container's, its identity set), so that its user's `exec` can join a created container, as
  // with runc (whose rootless init is never made non-dumpable at all).
  bool dumpable_when_created = false;
  // Last use of procfs before the fds are closed on exec (the init opens its fifo's fd dir).
  std::function<void(LazyProcfs&)> last_procfs;
};

// What the process execs once started.
struct Ready {
  std::string exe, home;
};

// rlimits, the working directory (which must be inside the container: CVE-2024-21626),
// personality and memory policy (the init), I/O priority, scheduler, LSM labels, HOME; then
// every fd of ours close-on-exec, signals reset, seccomp and the identity in runc's order; the
// executable looked up; Created sent with `notes` (warnings) to the runtime.
Ready finalize(const Finish& f, LazyProcfs& procfs, std::vector<std::string>& notes);

// Started: execCPUAffinity.final, seccomp when no_new_privs put it last, `last` (the init's
// startContainer hooks), then execve. A failure is written to `started_fd` (the starter sees it
// before EOF) and, with echo, to our stderr; exits 127 when the executable is missing, else 126
// (1 for a failed step before the exec).
[[noreturn]] void exec_started(const Finish& f, const Ready& r, int started_fd, bool echo,
                               const std::function<void()>& last = {});

// Before start: the error goes to the runtime as a typed sync message; exits 1.
[[noreturn]] void setup_failed(int sync_fd, const std::exception& e);

// A pty for the process made inside the container (its devpts) and its master handed to the
// runtime over the sync channel; with bind_dev_console, the pty also at /dev/console.
void hand_over_console(const spec::Process& p, int sync_fd, bool bind_dev_console);

}  // namespace ocirt::linux_
