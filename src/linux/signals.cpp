// Signal state of the children the library creates (see signals.hpp). pthread_sigmask: the
// library may live in a threaded program, where sigprocmask is unspecified.
#include "src/linux/signals.hpp"

#include <pthread.h>
#include <signal.h>

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

}  // namespace ocirt::sys
