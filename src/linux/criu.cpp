// criu swrk: see criu.hpp.
#include "src/linux/criu.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include <spdlog/spdlog.h>

#include "ocirt/error.hpp"
#include "rpc.pb-c.h"
#include "src/linux/files.hpp"

extern char** environ;

namespace ocirt::criu {
namespace {

const char* type_name(int t) {
  switch (t) {
    case CRIU_REQ_TYPE__DUMP: return "DUMP";
    case CRIU_REQ_TYPE__PRE_DUMP: return "PRE_DUMP";
    case CRIU_REQ_TYPE__RESTORE: return "RESTORE";
    case CRIU_REQ_TYPE__VERSION: return "VERSION";
    case CRIU_REQ_TYPE__FEATURE_CHECK: return "FEATURE_CHECK";
    case CRIU_REQ_TYPE__NOTIFY: return "NOTIFY";
    default: return "UNKNOWN";
  }
}

void send_req(int sock, const CriuReq& req) {
  size_t len = criu_req__get_packed_size(&req);
  std::unique_ptr<uint8_t[]> buf(new uint8_t[len ? len : 1]);
  criu_req__pack(&req, buf.get());
  ssize_t n;
  do n = ::send(sock, buf.get(), len, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw_errno("criu: send request");
}

struct Resp {
  CriuResp* r = nullptr;
  ~Resp() {
    if (r) criu_resp__free_unpacked(r, nullptr);
  }
};

// One message; fd gets an fd that came with it (SCM_RIGHTS), else -1. False on EOF.
bool recv_resp(int sock, Resp& out, Fd& fd) {
  static constexpr size_t kBuf = 40960;  // runc's size; criu's answers are far smaller
  std::unique_ptr<uint8_t[]> buf(new uint8_t[kBuf]);
  alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * 4)];
  struct iovec iov = {buf.get(), kBuf};
  struct msghdr mh {};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = cbuf;
  mh.msg_controllen = sizeof cbuf;
  ssize_t n;
  do n = ::recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw_errno("criu: receive");
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < k; ++i) {
        int got;
        memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
        if (i == 0) fd.reset(got);
        else ::close(got);
      }
    }
  if (n == 0) return false;
  if (static_cast<size_t>(n) == kBuf) throw Error("criu: a message does not fit in the buffer", EMSGSIZE);
  out.r = criu_resp__unpack(nullptr, static_cast<size_t>(n), buf.get());
  if (!out.r) throw Error("criu: cannot parse its answer", EPROTO);
  return true;
}

struct Swrk {
  pid_t pid = -1;
  Fd sock;
  ~Swrk() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
  int wait() {
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    pid = -1;
    return st;
  }
};

// criu swrk 3 with the server end at fd 3, stdio and the extra fds as c says.
void start(Swrk& w, const Call& c) {
  int sv[2];
  if (::socketpair(AF_LOCAL, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) throw_errno("criu: socketpair");
  w.sock.reset(sv[0]);
  Fd server(sv[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  // dup2 onto fd 3 first through a number above everything we place (sources may sit at 0..4+n)
  const int base = 100 + static_cast<int>(c.extra.size());
  posix_spawn_file_actions_adddup2(&fa, server.get(), base);
  for (int i = 0; i < 3; ++i)
    if (c.stdio[i] >= 0) posix_spawn_file_actions_adddup2(&fa, c.stdio[i], base + 1 + i);
  for (size_t k = 0; k < c.extra.size(); ++k) posix_spawn_file_actions_adddup2(&fa, c.extra[k], base + 4 + int(k));
  for (int i = 0; i < 3; ++i) {
    if (c.stdio[i] >= 0) posix_spawn_file_actions_adddup2(&fa, base + 1 + i, i);
    else posix_spawn_file_actions_addopen(&fa, i, "/dev/null", O_RDWR, 0);
  }
  posix_spawn_file_actions_adddup2(&fa, base, 3);
  for (size_t k = 0; k < c.extra.size(); ++k) posix_spawn_file_actions_adddup2(&fa, base + 4 + int(k), 4 + int(k));
  for (int i = 0; i < 4 + static_cast<int>(c.extra.size()); ++i) posix_spawn_file_actions_addclose(&fa, base + i);
  // our signal mask may block what we forward: criu gets a clean one
  posix_spawnattr_t at;
  posix_spawnattr_init(&at);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &all);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const char* argv[] = {c.criu.c_str(), "swrk", "3", nullptr};
  int rc = ::posix_spawnp(&w.pid, c.criu.c_str(), &fa, &at, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  if (rc != 0) {
    w.pid = -1;
    throw Error(ErrorKind::System, "", "cannot run " + c.criu + ": " + strerror(rc) +
                (rc == ENOENT ? " (is criu installed? Debian: apt-get install criu)" : ""), rc);
  }
}

std::string log_hint(const std::string& path) {
  std::string s = "\nlog file: " + path;
  std::string errs = log_errors(path);
  if (!errs.empty()) s += "\n" + errs;
  return s;
}

}  // namespace

std::string log_errors(const std::string& path) {
  std::string text, out;
  try {
    if (!sys::try_read_file(path, text)) return "";
  } catch (const Error&) {
    return "";
  }
  int n = 0;
  for (size_t at = 0; at < text.size() && n < 5;) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + at, nl - at);
    size_t e = line.find("Error (");
    if (e != std::string_view::npos) {
      if (!out.empty()) out += "\n";
      out += "  " + std::string(line.substr(e));
      ++n;
    }
    at = nl + 1;
  }
  return out;
}

int version(const std::string& criu) {
  Call c;
  c.criu = criu;
  c.type = CRIU_REQ_TYPE__VERSION;
  Swrk w;
  start(w, c);
  CriuReq req = CRIU_REQ__INIT;
  req.type = CRIU_REQ_TYPE__VERSION;
  send_req(w.sock.get(), req);
  Resp r;
  Fd fd;
  if (!recv_resp(w.sock.get(), r, fd) || !r.r->success || !r.r->version)
    throw Error(ErrorKind::System, "", "CRIU version check failed: " + criu + " swrk gave no version", EPROTO);
  int v = r.r->version->major_number * 10000 + r.r->version->minor_number * 100;
  if (r.r->version->has_sublevel) v += r.r->version->sublevel;
  if (r.r->version->gitid) v = v - v % 100 + 100;
  ::shutdown(w.sock.get(), SHUT_WR);
  w.wait();
  return v;
}

pid_t run(Call& c, CriuOpts* opts) {
  Swrk w;
  start(w, c);
  spdlog::debug("criu: {} swrk (pid {}) for {}", c.criu, w.pid, type_name(c.type));
  if (c.started) c.started(w.pid, opts);
  CriuReq req = CRIU_REQ__INIT;
  req.type = static_cast<CriuReqType>(c.type);
  req.opts = opts;
  send_req(w.sock.get(), req);
  pid_t restored = 0;
  for (;;) {
    Resp r;
    Fd fd;
    if (!recv_resp(w.sock.get(), r, fd)) {
      int st = w.wait();
      throw Error(ErrorKind::System, "",
                  std::string("criu failed: type ") + type_name(c.type) + ": unexpected EOF (criu " +
                      (WIFSIGNALED(st) ? "killed by signal " + std::to_string(WTERMSIG(st))
                                       : "exit " + std::to_string(WEXITSTATUS(st))) + ")" + log_hint(c.log_path),
                  EPROTO);
    }
    if (!r.r->success && r.r->type != CRIU_REQ_TYPE__NOTIFY) {
      std::string msg = std::string("criu failed: type ") + type_name(r.r->type) + " errno " +
                        std::to_string(r.r->has_cr_errno ? r.r->cr_errno : 0);
      if (r.r->cr_errmsg) msg += std::string(" (") + r.r->cr_errmsg + ")";
      throw Error(ErrorKind::System, "", msg + log_hint(c.log_path), r.r->has_cr_errno ? r.r->cr_errno : 0);
    }
    if (r.r->type == CRIU_REQ_TYPE__NOTIFY) {
      std::string script = r.r->notify && r.r->notify->script ? r.r->notify->script : "";
      pid_t pid = r.r->notify && r.r->notify->has_pid ? r.r->notify->pid : 0;
      spdlog::debug("criu: notify {} (pid {})", script, pid);
      if (c.notify) c.notify(script, pid, fd.get());
      CriuReq ack = CRIU_REQ__INIT;
      ack.type = CRIU_REQ_TYPE__NOTIFY;
      ack.has_notify_success = true;
      ack.notify_success = true;
      send_req(w.sock.get(), ack);
      continue;
    }
    if (r.r->type != c.type) throw Error(ErrorKind::System, "", std::string("unable to parse the response ") + type_name(r.r->type), EPROTO);
    if (r.r->type == CRIU_REQ_TYPE__RESTORE && r.r->restore) restored = r.r->restore->pid;
    break;
  }
  ::shutdown(w.sock.get(), SHUT_WR);
  int st = w.wait();
  // after PRE_DUMP criu waits for the next request and exits non-zero when the socket closes
  if (c.type != CRIU_REQ_TYPE__PRE_DUMP && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
    throw Error(ErrorKind::System, "",
                std::string("criu failed: ") +
                    (WIFSIGNALED(st) ? "killed by signal " + std::to_string(WTERMSIG(st)) : "exit status " + std::to_string(WEXITSTATUS(st))) +
                    log_hint(c.log_path),
                EPROTO);
  return restored;
}

}  // namespace ocirt::criu
