#include "src/linux/console.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include "ocirt/error.hpp"
#include "src/linux/util.hpp"

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

void send_console(const std::string& socket_path, const std::string& name, int master) {
  Fd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) throw Error("--console-socket: path too long", ENAMETOOLONG);
  memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  if (!sock || ::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    throw_errno("--console-socket: connect " + socket_path);
  sys::send_with_fd(sock.get(), name.data(), name.size(), master, "--console-socket: send to " + socket_path);
}

}  // namespace ocirt::linux_
