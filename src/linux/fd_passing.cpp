// Passing a file descriptor over a unix socket (see fd_passing.hpp).
#include "src/linux/fd_passing.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

#include "ocirt/error.hpp"

namespace ocirt::sys {

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
