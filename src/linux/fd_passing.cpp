// Passing a file descriptor over a unix socket (see fd_passing.hpp).
#include "src/linux/fd_passing.hpp"

#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "ocirt/error.hpp"

namespace ocirt::sys {

Fd connect_unix(const std::string& path, const std::string& what) {
  Fd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!sock) throw_errno(what + ": socket");
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.c_str(), std::min(path.size() + 1, sizeof addr.sun_path - 1));
  struct timespec now, end;
  ::clock_gettime(CLOCK_MONOTONIC, &end);
  end.tv_sec += kConnectWaitMs / 1000;
  long pause_ns = 1'000'000;  // 1 ms, doubled up to 100 ms
  for (;;) {
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return sock;
    if (errno == EINTR) continue;
    if (errno != EAGAIN) throw_errno(what);
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
      throw_errno(what + " (its listen backlog stayed full for " + std::to_string(kConnectWaitMs / 1000) + " s: nothing accepts)", EAGAIN);
    struct timespec pause = {0, pause_ns};
    ::nanosleep(&pause, nullptr);
    pause_ns = std::min(pause_ns * 2, 100'000'000L);
  }
}

void send_with_fd(int sock, const void* data, size_t len, int fd, const std::string& what) {
  struct iovec iov = {const_cast<void*>(data), len};
  alignas(struct cmsghdr) char ctrl[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr mh {};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = ctrl;
  mh.msg_controllen = sizeof ctrl;
  struct cmsghdr* c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  while (::sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
    if (errno != EINTR) throw_errno(what);
}

}  // namespace ocirt::sys
