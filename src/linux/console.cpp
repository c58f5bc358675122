// The console: the pty made in the container, /dev/console, and fds handed to the caller's sockets.
#include "src/linux/console.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "ocirt/error.hpp"
#include "src/linux/fd_passing.hpp"
#include "src/linux/in_root.hpp"

namespace ocirt::linux_ {

Fd setup_console(const spec::Process& p, std::string& name) {
  Fd master(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) throw_errno("process.terminal: open /dev/ptmx in the container");
  int unlock = 0, n = 0;
  if (::ioctl(master.get(), TIOCSPTLCK, &unlock) < 0 || ::ioctl(master.get(), TIOCGPTN, &n) < 0)
    throw_errno("process.terminal: unlock the pty");
  name = "/dev/pts/" + std::to_string(n);
  // the slave through the master (TIOCGPTPEER): never a path someone could swap
  Fd slave(::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY));
  if (!slave) throw_errno("process.terminal: open " + name);
  // the process's user owns its terminal; the group stays devpts's (gid=5, tty), as with runc
  if (::fchown(slave.get(), p.user.uid, static_cast<gid_t>(-1)) < 0) throw_errno("process.terminal: chown " + name);
  if (p.console_size) {
    struct winsize ws {};
    ws.ws_row = static_cast<unsigned short>(p.console_size->height);
    ws.ws_col = static_cast<unsigned short>(p.console_size->width);
    if (::ioctl(slave.get(), TIOCSWINSZ, &ws) < 0) throw_errno("process.consoleSize: TIOCSWINSZ");
  }
  for (int fd = 0; fd < 3; ++fd)
    if (::dup2(slave.get(), fd) < 0) throw_errno("process.terminal: stdio on " + name);
  if (::ioctl(0, TIOCSCTTY, 0) < 0) throw_errno("process.terminal: controlling terminal");
  return master;
}

void bind_console() {
  // an empty file inside the container's /dev (resolved in its root), the pty slave (our stdin
  // now) bound over it, as runc does
  Fd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) throw_errno("process.terminal: open /");
  Fd target = sys::mkdir_in_root(root.get(), "/dev/console", true, 0600);
  Fd tree(::open_tree(0, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
  if (!tree) throw_errno("process.terminal: bind the pty to /dev/console: open_tree");
  if (::move_mount(tree.get(), "", target.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    throw_errno("process.terminal: bind the pty to /dev/console");
}

namespace {

// option: the CreateOptions/ExecOptions member that named the socket (the error's field)
void send_fd_to(const std::string& socket_path, const std::string& msg, int fd, const char* option) {
  struct sockaddr_un addr {};
  if (socket_path.size() >= sizeof addr.sun_path)
    throw Error(ErrorKind::Invalid, option, socket_path + ": path too long", ENAMETOOLONG);
  try {
    Fd sock = sys::connect_unix(socket_path, "connect " + socket_path);
    sys::send_with_fd(sock.get(), msg.data(), msg.size(), fd, "send to " + socket_path);
  } catch (const Error& e) {
    throw Error(ErrorKind::System, option, e.message(), e.err());
  }
}

}  // namespace

void send_console(const std::string& socket_path, const std::string& name, int master) {
  send_fd_to(socket_path, name, master, "console_socket");
}

void send_pidfd(const std::string& socket_path, const char* kind, int pidfd) {
  send_fd_to(socket_path, kind, pidfd, "pidfd_socket");
}

}  // namespace ocirt::linux_
