// A foreground `run` or `exec`: the CLI owns the terminal and the signals. What it receives is
// forwarded to the container process until it exits; with the pty master (no console socket)
// our stdio is copied to and from it, in raw mode, and SIGWINCH becomes a resize.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "ocirt/error.hpp"
#include "src/cli/cli.hpp"

namespace ocirt::cli {

sigset_t forwarded_signals() {
  sigset_t fwd;
  sigfillset(&fwd);
  for (int s : {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTTIN, SIGTTOU}) sigdelset(&fwd, s);
  return fwd;
}

SignalsHeld::SignalsHeld() : fwd_(forwarded_signals()) { ::sigprocmask(SIG_BLOCK, &fwd_, &old_); }

SignalsHeld::~SignalsHeld() {
  struct timespec zero {};
  while (::sigtimedwait(&fwd_, nullptr, &zero) > 0) {  // what came during the teardown
  }
  ::sigprocmask(SIG_SETMASK, &old_, nullptr);
}

namespace {

// The held pty master and our stdio. The master is non-blocking: a process that does not read
// its input never stops the loop that forwards signals; input waits in `pending` until the
// master takes it.
struct TtyProxy {
  int master;
  bool in_tty = ::isatty(0);
  bool in_open = true;
  std::string pending;  // stdin bytes the master has not taken yet
  struct termios saved {};
  explicit TtyProxy(int m) : master(m) {
    ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
    // our own terminal translates \n already: no \r\n from the pty too (runc's ClearONLCR)
    struct termios t;
    if (::tcgetattr(master, &t) == 0) {
      t.c_oflag &= ~static_cast<tcflag_t>(ONLCR);
      ::tcsetattr(master, TCSANOW, &t);
    }
    if (in_tty && ::tcgetattr(0, &saved) == 0) {
      struct termios raw = saved;
      ::cfmakeraw(&raw);
      ::tcsetattr(0, TCSANOW, &raw);
      resize();
    } else {
      in_tty = false;
    }
  }
  ~TtyProxy() {
    if (in_tty) ::tcsetattr(0, TCSANOW, &saved);
  }
  void resize() {
    struct winsize ws;
    if (in_tty && ::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
  }
  // master -> stdout; false on EOF or error (EAGAIN: nothing more for now, true)
  bool output() {
    char buf[8192];
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n <= 0) return false;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(1, buf + off, n - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      off += w;
    }
    return true;
  }
  // stdin -> pending; at EOF an end-of-input character for the process
  void input() {
    char buf[8192];
    ssize_t n = ::read(0, buf, sizeof buf);
    if (n < 0 && errno == EINTR) return;
    if (n <= 0) {
      in_open = false;
      pending += '\x04';
      return;
    }
    pending.append(buf, static_cast<size_t>(n));
  }
  void flush_input() {
    while (!pending.empty()) {
      ssize_t w = ::write(master, pending.data(), pending.size());
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) return;
      if (w <= 0) {  // the process side is gone: drop what it would not read
        pending.clear();
        return;
      }
      pending.erase(0, static_cast<size_t>(w));
    }
  }
  void drain() {  // what the process wrote before it exited
    while (output()) {
      struct pollfd p = {master, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) break;
    }
  }
};

}  // namespace

int wait_forwarding(Process& proc, const SignalsHeld& held) {
  Fd sfd(::signalfd(-1, &held.forwarded(), SFD_CLOEXEC));
  if (!sfd) throw_errno("signalfd for signal forwarding");
  const int master = proc.pty_master();
  std::optional<TtyProxy> tty;
  if (master >= 0) tty.emplace(master);
  bool master_open = master >= 0;
  for (;;) {
    const bool want_in = tty && tty->in_open && tty->pending.size() < 65536;
    struct pollfd p[5] = {{proc.pidfd(), POLLIN, 0},
                          {sfd.get(), POLLIN, 0},
                          {want_in ? 0 : -1, POLLIN, 0},
                          {master_open ? master : -1, static_cast<short>(POLLIN | (tty && !tty->pending.empty() ? POLLOUT : 0)), 0},
                          {proc.notify_fd(), POLLIN, 0}};
    if (::poll(p, 5, -1) < 0) {
      if (errno == EINTR) continue;
      throw_errno("wait for the container process");
    }
    if (p[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (::read(sfd.get(), &si, sizeof si) == sizeof si) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGWINCH && tty) tty->resize();
        else if (sig != SIGCHLD && sig != SIGPIPE && sig != SIGURG) proc.kill(sig);
      }
    }
    if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) tty->input();
    if (tty && !tty->pending.empty()) tty->flush_input();
    if (p[3].revents & (POLLIN | POLLHUP | POLLERR)) master_open = tty->output();
    if (p[4].revents & POLLIN) proc.relay_notify();
    if (p[0].revents & POLLIN) {
      if (tty) tty->drain();
      break;
    }
  }
  tty.reset();
  int code = proc.wait();
  proc.close_pty();
  return code;
}

}  // namespace ocirt::cli
