// The sync channel's messages: fixed header, text, at most one fd (see sync.hpp).
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

void send_error(int fd, const std::exception& e) {
  Message m{};
  m.type = Type::Error;
  const auto* oe = dynamic_cast<const Error*>(&e);
  m.err = oe ? oe->err() : EINVAL;
  m.kind = static_cast<uint32_t>(oe ? oe->kind() : ErrorKind::Invalid);
  // a field travels on its own unless context stands in front of it
  const bool field = oe && oe->context().empty() && oe->field().size() < sizeof m.field;
  if (field) snprintf(m.field, sizeof m.field, "%s", oe->field().c_str());
  snprintf(m.text, sizeof m.text, "%s", field ? oe->message().c_str() : e.what());
  send_msg(fd, m);
}

Error error_of(const Message& m) {
  uint32_t k = m.kind <= static_cast<uint32_t>(ErrorKind::Failed) ? m.kind : 0;
  return Error(static_cast<ErrorKind>(k), m.field, m.text, m.err);
}

void send_text(int fd, Type t, const std::string& text) {
  Message m{};
  m.type = t;
  snprintf(m.text, sizeof m.text, "%s", text.c_str());
  send_msg(fd, m);
}

bool recv(int fd, Message& m, int* fd_out) {
  for (;;) {
    memset(&m, 0, offsetof(Message, text) + 1);  // header and field zeroed: a short Error is still whole
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
    m.field[sizeof m.field - 1] = 0;
    m.text[sizeof m.text - 1] = 0;
    return true;
  }
}

void send_fd(int fd, Type t, int passed, const std::string& text, int64_t value) {
  Message m{};
  m.type = t;
  m.value = value;
  snprintf(m.text, sizeof m.text, "%s", text.c_str());
  sys::send_with_fd(fd, &m, offsetof(Message, text) + strlen(m.text) + 1, passed, "sync: send fd");
}

void expect(int fd, Type want, const char* step) {
  Message m;
  if (!recv(fd, m)) throw Error(std::string(step) + ": the other side of the sync channel is gone", EPIPE);
  if (m.type == Type::Error) throw error_of(m);
  if (m.type != want) throw Error(std::string(step) + ": unexpected sync message", EPROTO);
}

}  // namespace ocirt::sync
