#include "src/linux/sync.hpp"

#include <sys/socket.h>

#include <sys/uio.h>
#include <unistd.h>

#include <cstring>

#include "ocirt/error.hpp"
#include "src/linux/fd_passing.hpp"

namespace ocirt::sync {

static void send_msg(int fd, const Message& m) {
  // Only the header and the used part of the text travel.
  size_t len = offsetof(Message, text) + strnlen(m.text, sizeof m.text) + 1;
  while (::send(fd, &m, len, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) throw_errno("sync: send");
  }
}

void send(int fd, Type t, int64_t value) {
  Message m{};
  m.type = t;
  m.value = value;
  send_msg(fd, m);
}

void send_error(int fd, int err, const std::string& text) {
  Message m{};
  m.type = Type::Error;
  m.err = err;
  snprintf(m.text, sizeof m.text, "%s", text.c_str());
  send_msg(fd, m);
}

void send_text(int fd, Type t, const std::string& text) {
  Message m{};
  m.type = t;
  snprintf(m.text, sizeof m.text, "%s", text.c_str());
  send_msg(fd, m);
}

bool recv(int fd, Message& m, int* fd_out) {
  for (;;) {
    memset(&m, 0, offsetof(Message, text) + 1);
    struct iovec iov = {&m, sizeof m};
    alignas(struct cmsghdr) char ctrl[CMSG_SPACE(sizeof(int))];
    struct msghdr mh {};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctrl;
    mh.msg_controllen = sizeof ctrl;
    ssize_t n = ::recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("sync: receive");
    if (n == 0) return false;
    if (static_cast<size_t>(n) < offsetof(Message, text)) throw Error("sync: short message", EPROTO);
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        int passed;
        memcpy(&passed, CMSG_DATA(c), sizeof passed);
        if (fd_out) *fd_out = passed;
        else ::close(passed);
      }
    }
    m.text[sizeof m.text - 1] = 0;
    return true;
  }
}

void send_fd(int fd, Type t, int passed, const std::string& text) {
  Message m{};
  m.type = t;
  snprintf(m.text, sizeof m.text, "%s", text.c_str());
  sys::send_with_fd(fd, &m, offsetof(Message, text) + strlen(m.text) + 1, passed, "sync: send fd");
}

void expect(int fd, Type want, const char* step) {
  Message m;
  if (!recv(fd, m)) throw Error(std::string(step) + ": the other side of the sync channel is gone", EPIPE);
  if (m.type == Type::Error) throw Error(m.text, m.err);
  if (m.type != want) throw Error(std::string(step) + ": unexpected sync message", EPROTO);
}

}  // namespace ocirt::sync
