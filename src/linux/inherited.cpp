// Signals and fds a process would inherit across execve (see inherited.hpp). pthread_sigmask:
// the library may live in a threaded program, where sigprocmask is unspecified.
#include "src/linux/inherited.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

namespace ocirt::sys {

void unblock_signals() {
  sigset_t none;
  sigemptyset(&none);
  ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
}

void reset_signals() {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);  // EINVAL for glibc's own: harmless
  unblock_signals();
}

void close_fds_except(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned lo = 3;
  for (int k : keep) {
    if (k < static_cast<int>(lo)) continue;
    if (static_cast<unsigned>(k) > lo) ::syscall(SYS_close_range, lo, k - 1, 0);
    lo = k + 1;
  }
  ::syscall(SYS_close_range, lo, ~0U, 0);
}

}  // namespace ocirt::sys
