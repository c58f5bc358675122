// ocirt::Process: a started container process the caller waits on (see container.hpp).
#include <sys/wait.h>

#include "ocirt/container.hpp"
#include "src/container/internal.hpp"
#include "src/linux/processes.hpp"

namespace ocirt {

Process::Process(pid_t pid, Fd pidfd, Fd pty_master, Fd notify, std::string notify_host)
    : pid_(pid), pidfd_(std::move(pidfd)), master_(std::move(pty_master)), notify_(std::move(notify)),
      notify_host_(std::move(notify_host)) {}

void Process::relay_notify() {
  if (notify_ && container::relay_notify(notify_.get(), notify_host_, pid_)) notify_.reset();  // once
}

int Process::kill(int sig) const { return sys::pidfd_send_signal(pidfd_.get(), sig); }

int Process::wait() {
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace ocirt
