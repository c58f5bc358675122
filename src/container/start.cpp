// start, and run (create + start): the exec fifo opened (the init execs), poststart hooks, the
// sd_notify relay; a foreground run hands the started init to the caller as a Process.
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "ocirt/container.hpp"
#include "ocirt/error.hpp"
#include "src/container/internal.hpp"
#include "src/linux/process.hpp"

namespace ocirt {
namespace {

// start and run -d: wait until the container says READY (or its init is gone), then relay it.
void wait_notify(int sock, const std::string& host, int pidfd, pid_t pid) {
  for (;;) {
    struct pollfd p[2] = {{sock, POLLIN, 0}, {pidfd, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      throw_errno("NOTIFY_SOCKET: wait for the container");
    }
    if ((p[0].revents & POLLIN) && container::relay_notify(sock, host, pid)) return;
    if (p[1].revents) return;
  }
}

// Opens the exec fifo once the init has it open for writing (it then execs), returns the fifo.
Fd open_fifo(const state::Dir& dir, int pidfd) {
  Fd fifo(::openat(dir.fd(), state::kExecFifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo) throw_errno("open exec fifo");
  struct pollfd p[2] = {{fifo.get(), POLLIN, 0}, {pidfd, POLLIN, 0}};
  char c = 0;
  for (;;) {
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      throw_errno("wait for container init");
    }
    if ((p[0].revents & POLLIN) && ::read(fifo.get(), &c, 1) == 1) {
      ::fcntl(fifo.get(), F_SETFL, ::fcntl(fifo.get(), F_GETFL) & ~O_NONBLOCK);
      return fifo;
    }
    if (p[1].revents || (p[0].revents & POLLHUP)) {
      // POLLHUP before any writer just means none has opened yet; only a dead init is fatal
      if (p[1].revents) throw Error(ErrorKind::Failed, "", "container init exited before start", ECHILD);
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, nullptr);
    }
  }
}

}  // namespace

void start(const std::string& root, const std::string& id, const std::string& notify_socket) {
  state::Dir dir = state::Dir::open(root, id);
  state::Record r = dir.load();
  state::Status status = state::derive_status(r, dir.fd());
  if (status == state::Status::Stopped)
    throw Error(ErrorKind::State, "", "cannot start a container that has stopped", EINVAL);
  if (status == state::Status::Paused)  // (a created container can be paused: runc's words)
    throw Error(ErrorKind::State, "", "cannot start a container in the paused state", EINVAL);
  if (status != state::Status::Created)
    throw Error(ErrorKind::State, "", std::string("cannot start an already ") + state::status_name(status) + " container",
                EINVAL);
  Fd pidfd = container::live_pidfd(r);
  if (!pidfd) throw Error(ErrorKind::State, "", "cannot start container " + id + ": its init has exited", ECHILD);
  if (!r.has_process) {
    // Nothing to run: release the init (it exits) and say so.
    Fd fifo(::openat(dir.fd(), state::kExecFifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    ::unlinkat(dir.fd(), state::kExecFifo, 0);
    container::wait_exit(pidfd.get(), 1000);
    throw Error(ErrorKind::Invalid, "", "cannot start container " + id + ": config.json has no process", EINVAL);
  }
  Fd notify = notify_socket.empty() ? Fd() : container::bind_notify(dir);
  Fd fifo = open_fifo(dir, pidfd.get());
  spdlog::debug("init: closing the pipe to signal completion (exec the process)");
  std::string err = container::wait_exec(fifo.get());
  ::unlinkat(dir.fd(), state::kExecFifo, 0);
  spdlog::debug("start {}: pid {} {}", id, r.pid, err.empty() ? "executed its process" : "failed: " + err);
  if (!err.empty()) throw Error(ErrorKind::Failed, "", "container process failed to start: " + err, ENOEXEC);
  container::run_poststart(r);
  if (notify) {
    { state::Dir unlock = std::move(dir); }  // others may act on the container while we wait
    wait_notify(notify.get(), notify_socket, pidfd.get(), r.pid);
  }
}

void run(const CreateOptions& o) {
  create(o);
  try {
    start(o.root, o.id, o.notify_socket);
  } catch (...) {
    // runc destroys a container it could not start: nothing stays behind
    try {
      destroy(o.root, o.id, true);
    } catch (const Error& e) {
      spdlog::warn("remove the container after the failed start: {}", e.what());
    }
    throw;
  }
}

Process run_attached(const CreateOptions& o, bool keep) {
  container::Created c = container::create_init(o, false, o.console_socket.empty());
  Fd notify;
  try {
    if (!o.notify_socket.empty()) notify = container::bind_notify(c.dir);
  } catch (...) {
    container::abandon(c);
    throw;
  }
  container::ack(c);
  c.init.release();  // recorded: from here `delete` (ours, or anyone's) removes it
  { state::Dir unlock = std::move(c.dir); }  // others (delete --force) may act while it runs
  try {
    linux_::sync_start(c.init);
    std::string err = container::wait_exec(c.init.sync.get());
    c.init.sync.reset();
    if (!err.empty()) spdlog::error("container process failed to start: {}", err);
    else container::run_poststart(c.rec);
  } catch (...) {
    if (!keep) destroy(o.root, o.id, true);
    throw;
  }
  return Process(c.init.pid, std::move(c.init.pidfd), std::move(c.master), std::move(notify), o.notify_socket);
}

}  // namespace ocirt
