// Shared by the lifecycle operations (see internal.hpp), and the small public helpers.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "config.h"
#include "ocirt/cgroups.hpp"
#include "ocirt/error.hpp"
#include "ocirt/hooks.hpp"
#include "src/container/internal.hpp"
#include "src/linux/console.hpp"
#include "src/linux/selfprotect.hpp"
#include "src/common/strings.hpp"
#include "src/linux/fd_passing.hpp"
#include "src/linux/files.hpp"
#include "src/linux/processes.hpp"

namespace ocirt {

std::string now_rfc3339() { return sys::now_rfc3339(); }

void protect_binary(char** argv) { linux_::reexec_protected(argv); }

bool rootless_default(bool systemd_cgroup) {
  if (systemd_cgroup) return false;
  return sys::unprivileged();
}

std::string default_state_root() {
  const char* xdg = getenv("XDG_RUNTIME_DIR");
  if (!xdg || !*xdg) return "/run/oci-rt";
  if (sys::euid() == 0) {
    if (!sys::in_user_namespace()) return "/run/oci-rt";  // the real root: /run/user/0 is not for us
    const char* user = getenv("USER");
    if (user && std::string_view(user) == "root") return "/run/oci-rt";
  }
  std::string root = std::string(xdg) + "/oci-rt";
  if (::mkdir(root.c_str(), 0700) < 0 && errno != EEXIST) throw_errno("state root " + root + ": mkdir");
  if (::chmod(root.c_str(), 0700 | S_ISVTX) < 0) throw_errno("state root " + root + ": chmod");
  return root;
}

}  // namespace ocirt

namespace ocirt::container {

Fd live_pidfd(const state::Record& r) {
  if (r.pid <= 0) return Fd();
  if (!r.boot_id.empty() && r.boot_id != sys::boot_id()) return Fd();
  Fd pidfd(sys::pidfd_open(r.pid));
  if (!pidfd) return Fd();
  uint64_t st;
  char c;
  // checked after pidfd_open: if it matches now, the pidfd refers to our process
  if (!sys::proc_stat(r.pid, st, c) || st != r.start_time || c == 'Z' || c == 'X') return Fd();
  return pidfd;
}

void wait_exit(int pidfd, int timeout_ms) {
  struct pollfd p = {pidfd, POLLIN, 0};
  while (::poll(&p, 1, timeout_ms) < 0 && errno == EINTR) {
  }
}

spec::Config created_config(const state::Dir& dir, const state::Record& r) {
  try {
    std::string text;
    try {
      text = dir.load_config();
    } catch (const Error& e) {
      if (e.err() != ENOENT) throw;
      text = sys::read_file(r.bundle + "/config.json");
    }
    return spec::load(text);
  } catch (Error& e) {
    e.prefix("the container's config.json");
    throw;
  }
}

const cgroups::Driver& driver_of(const state::Record& r) {
  return cgroups::driver(r.cgroup_driver == "systemd" ? cgroups::DriverKind::Systemd : cgroups::DriverKind::Cgroupfs);
}

cgroups::Plan plan_of(const state::Record& r) {
  cgroups::Plan p;
  p.leaves = r.cgroup_leaves;
  p.to_create = r.cgroup_created;
  p.unit = r.cgroup_unit;
  return p;
}

void remove_cgroup(const state::Record& r, const char* what) {
  try {
    driver_of(r).destroy(plan_of(r), !r.private_pidns);
  } catch (const Error& e) {
    spdlog::warn("{}: {}", what, e.what());
  }
}

void teardown(state::Dir& dir, const state::Record& r, bool run_poststop) {
  spdlog::debug("delete {}: pid {}, {} cgroup dirs to remove", r.id, r.pid, r.cgroup_created.size());
  if (Fd pidfd = live_pidfd(r)) {
    sys::pidfd_send_signal(pidfd.get(), SIGKILL);
    // a frozen init (v1 freezer) does not die until thawed: thawed now (it dies at once, the
    // kill is pending), not after waiting for it in vain
    if (state::frozen(r)) {
      try {
        cgroups::Manager(r.cgroup_leaves).freeze(false);
      } catch (const Error& e) {
        spdlog::debug("delete {}: thaw: {}", r.id, e.what());
      }
    }
    wait_exit(pidfd.get(), 10000);
  }
  driver_of(r).destroy(plan_of(r), !r.private_pidns);
  if (run_poststop) hooks::run_warn(r.poststop, state::state_json(r, state::Status::Stopped, false), "poststop", r.bundle);
  dir.remove();
}

void run_poststart(const state::Record& r) {
  hooks::run_warn(r.poststart, state::state_json(r, state::Status::Running, false), "poststart", r.bundle);
}

std::string wait_exec(int fd) {
  std::string err;
  char buf[1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (err.size() < 4096) err.append(buf, n);
  }
  while (!err.empty() && (err.back() == '\n' || err.back() == 0)) err.pop_back();
  return err;
}

void send_seccomp_listener(const spec::Seccomp& sc, const std::string& state_json, pid_t pid, int fd) {
  std::string msg = "{\"ociVersion\":\"" OCIRT_SPEC_VERSION "\",\"fds\":[\"seccompFd\"],\"pid\":" + std::to_string(pid) +
                    ",\"metadata\":";
  {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.String(sc.listener_metadata.c_str(), sc.listener_metadata.size());
    msg += sb.GetString();
  }
  msg += ",\"state\":" + state_json + "}";
  struct sockaddr_un addr {};
  if (sc.listener_path.size() >= sizeof addr.sun_path)
    throw Error(ErrorKind::Invalid, "linux.seccomp.listenerPath", "path too long", ENAMETOOLONG);
  Fd sock = sys::connect_unix(sc.listener_path, "linux.seccomp.listenerPath: failed to connect with seccomp agent at " + sc.listener_path);
  sys::send_with_fd(sock.get(), msg.data(), msg.size(), fd, "linux.seccomp.listenerPath: send to " + sc.listener_path);
}

void take_console(const std::string& console_socket, Fd& held, const std::string& name, int master) {
  if (console_socket.empty()) held.reset(::fcntl(master, F_DUPFD_CLOEXEC, 3));
  else linux_::send_console(console_socket, name, master);
}

Fd cgroup_fd_for(const std::vector<std::string>& leaves) {
  Fd fd;
  if (cgroups::System::get().layout == cgroups::Layout::V2 && !leaves.empty()) {
    fd.reset(::open(leaves[0].c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw_errno("open cgroup " + leaves[0]);
  }
  return fd;
}

Fd bind_notify(const state::Dir& dir) {
  struct stat st;
  if (::fstatat(dir.fd(), "notify", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) return Fd();
  std::string path = dir.path() + "/notify/notify.sock";
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    throw Error(ErrorKind::Invalid, "notify_socket", path + ": path too long", ENAMETOOLONG);
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  Fd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  ::unlink(path.c_str());
  if (!sock || ::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    throw_errno("NOTIFY_SOCKET: bind " + path);
  ::chmod(path.c_str(), 0777);  // the container's user may be anyone
  return sock;
}

bool relay_notify(int sock, const std::string& host, pid_t pid) {
  char buf[4096];
  ssize_t n = ::recv(sock, buf, sizeof buf - 1, 0);
  if (n <= 0) return false;
  std::string_view got(buf, static_cast<size_t>(n));
  for (size_t at = 0; at < got.size();) {
    size_t nl = got.find('\n', at);
    std::string_view line = got.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at);
    at = nl == std::string_view::npos ? got.size() : nl + 1;
    if (line.rfind("READY=", 0) != 0) continue;
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    if (host.empty() || host.size() >= sizeof addr.sun_path) return true;
    memcpy(addr.sun_path, host.data(), host.size());
    if (host[0] == '@') addr.sun_path[0] = 0;  // abstract
    socklen_t len = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + host.size());
    Fd out(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    std::string msg = "MAINPID=" + std::to_string(pid) + "\n" + std::string(line) + "\n";
    if (!out || ::sendto(out.get(), msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&addr), len) < 0)
      spdlog::warn("NOTIFY_SOCKET: send to {}: {}", host, strerror(errno));
    return true;
  }
  return false;
}

Live open_live(const std::string& root, const std::string& id, bool lock) {
  state::Dir dir = state::Dir::open(root, id, lock);
  state::Record r = dir.load();
  state::Status status = state::derive_status(r, dir.fd());
  return Live{std::move(dir), std::move(r), status};
}

cgroups::Manager manager_of(const Live& l) {
  if (l.rec.cgroup_leaves.empty())
    throw Error(ErrorKind::State, "",
                "container " + l.rec.id + " has no cgroup on this host" +
                    (sys::euid() != 0 ? " (rootless: none was delegated to this user when it was created)" : ""),
                ENOTSUP);
  return cgroups::Manager(l.rec.cgroup_leaves);
}

}  // namespace ocirt::container
