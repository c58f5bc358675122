// The lifecycle: create, start, run, state, list, kill, delete. Glue between the spec, the
// state dir, cgroups, hooks and the process creation in src/linux.
#include "ocirt/container.hpp"

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <climits>
#include <optional>
#include <cstdlib>
#include <cstring>

#include "config.h"
#include "ocirt/cgroups.hpp"
#include "ocirt/error.hpp"
#include "ocirt/hooks.hpp"
#include "src/linux/attributes.hpp"
#include "src/linux/console.hpp"
#include "src/linux/exec.hpp"
#include "src/linux/process.hpp"
#include "src/linux/seccomp.hpp"
#include "src/linux/sync.hpp"
#include "src/linux/util.hpp"
#include "src/spec/mount_options.hpp"

namespace ocirt {
namespace {

const char kFifo[] = "exec.fifo";

std::string absolute_path(const std::string& p, const char* what) {
  char buf[PATH_MAX];
  if (!::realpath(p.c_str(), buf)) throw_errno(std::string(what) + " " + p);
  return buf;
}

std::string hook_state(const state::Record& r, const char* status) { return state::state_json(r, status, false); }

// Is the recorded pid still our container process? Returns an open pidfd, or an empty Fd.
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

struct Prepared {
  spec::Config cfg;
  std::string text;  // config.json as read: kept in the state dir for exec and update
  std::string bundle, rootfs;
  bool has_process = true;
};

Prepared prepare(const CreateOptions& o, bool hold_console = false) {
  Prepared p;
  p.bundle = absolute_path(o.bundle, "bundle");
  try {
    p.text = sys::read_file(p.bundle + "/config.json");
    p.cfg = spec::load(p.text);
  } catch (const Error& e) {
    throw Error(std::string("config.json: ") + e.what(), e.err());
  }
  const std::string& root = p.cfg.root->path;
  p.rootfs = absolute_path(root[0] == '/' ? root : p.bundle + "/" + root, "root.path:");
  struct stat st;
  if (::stat(p.rootfs.c_str(), &st) < 0 || !S_ISDIR(st.st_mode)) throw Error("root.path: " + p.rootfs + " is not a directory", ENOTDIR);
  if (!p.cfg.process) {
    // Allowed by the spec at create; the init sets everything up and start refuses.
    p.has_process = false;
    p.cfg.process.emplace();
    p.cfg.process->cwd = "/";
  }
  for (size_t i = 0; i < p.cfg.mounts.size(); ++i) {  // filesystem data a bind mount ignores
    const auto& m = p.cfg.mounts[i];
    spec::MountOptions opts = spec::parse_mount_options(m.options);
    if (m.type != "bind" && !opts.bind) continue;
    for (size_t j : opts.unknown)
      spdlog::warn("mounts[{}].options[{}]: \"{}\" is filesystem data, which a bind mount ignores", i, j, m.options[j]);
  }
  if (p.cfg.process && p.cfg.process->terminal && o.console_socket.empty() && !hold_console)
    throw Error("process.terminal: cannot allocate a terminal without --console-socket (set terminal to false)", EINVAL);
  if (!o.console_socket.empty() && !(p.cfg.process && p.cfg.process->terminal))
    throw Error("--console-socket: given, but process.terminal is false", EINVAL);
  return p;
}

// The state's "owner": the host's /etc/passwd name of our euid, else the number. Read directly
// (as runc's user.LookupUid does): the binary is static, and glibc's NSS would dlopen modules.
std::string owner_name() {
  const std::string uid = std::to_string(::geteuid());
  std::string passwd;
  try {
    if (!sys::try_read_file("/etc/passwd", passwd)) return uid;
  } catch (const Error&) {
    return uid;
  }
  for (size_t at = 0; at < passwd.size();) {
    size_t end = passwd.find('\n', at);
    if (end == std::string::npos) end = passwd.size();
    std::string_view line(passwd.data() + at, end - at);  // name:x:uid:gid:...
    size_t c1 = line.find(':'), c2 = c1 == line.npos ? line.npos : line.find(':', c1 + 1);
    size_t c3 = c2 == line.npos ? line.npos : line.find(':', c2 + 1);
    if (c3 != line.npos && c1 > 0 && line.substr(c2 + 1, c3 - c2 - 1) == uid) return std::string(line.substr(0, c1));
    at = end + 1;
  }
  return uid;
}

// The config the container was created with (the state dir's copy; a container made by an
// older oci-rt has none: its bundle's, as then).
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
  } catch (const Error& e) {
    throw Error(std::string("the container's config.json: ") + e.what(), e.err());
  }
}

// Undo everything a container made: its processes, cgroups, state dir. Idempotent.
void teardown(state::Dir& dir, const state::Record& r, bool run_poststop) {
  spdlog::debug("delete {}: pid {}, {} cgroup dirs to remove", r.id, r.pid, r.cgroup_created.size());
  if (Fd pidfd = live_pidfd(r)) {
    sys::pidfd_send_signal(pidfd.get(), SIGKILL);
    wait_exit(pidfd.get(), 10000);
  }
  cgroups::Manager::destroy(r.cgroup_leaves, r.cgroup_created, !r.private_pidns);
  if (run_poststop) hooks::run_warn(r.poststop, hook_state(r, "stopped"), "poststop", r.bundle);
  dir.remove();
}

// linux.seccomp.listenerPath: one message with the ContainerProcessState JSON and the listener
// fd (SCM_RIGHTS), as config-linux.md says.
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
  Fd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (sc.listener_path.size() >= sizeof addr.sun_path) throw Error("linux.seccomp.listenerPath: path too long", ENAMETOOLONG);
  memcpy(addr.sun_path, sc.listener_path.c_str(), sc.listener_path.size() + 1);
  if (!sock || ::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    throw_errno("linux.seccomp.listenerPath: failed to connect with seccomp agent at " + sc.listener_path);
  sys::send_with_fd(sock.get(), msg.data(), msg.size(), fd, "linux.seccomp.listenerPath: send to " + sc.listener_path);
}

struct Created {
  state::Dir dir;
  state::Record rec;
  linux_::Spawned proc;
  Fd master;  // the pty master when run holds the terminal itself
};

Created do_create(const CreateOptions& o, bool with_fifo, bool hold_console = false) {
  Prepared p = prepare(o, hold_console);
  const spec::Config& cfg = p.cfg;  // (NOTIFY_SOCKET adds a mount and an env entry to p.cfg)
  state::Dir dir = state::Dir::claim(o.root, o.id);
  state::Record rec;
  rec.oci_version = cfg.oci_version;
  rec.id = o.id;
  rec.status = "creating";
  rec.bundle = p.bundle;
  rec.rootfs = p.rootfs;
  rec.created = sys::now_rfc3339();
  rec.owner = owner_name();
  rec.boot_id = sys::boot_id();
  rec.annotations = cfg.annotations;
  rec.has_process = p.has_process;
  {
    const spec::Namespace* pidns = cfg.find_namespace("pid");
    rec.private_pidns = pidns && pidns->path.empty();
  }
  if (cfg.hooks) {
    rec.poststart = cfg.hooks->poststart;
    rec.poststop = cfg.hooks->poststop;
  }
  cgroups::Plan plan = cgroups::plan(cfg.linux ? cfg.linux->cgroups_path : "", o.id);
  rec.cgroup_leaves = plan.leaves;
  rec.cgroup_created = plan.to_create;
  if (!o.notify_socket.empty()) {
    // sd_notify through the container (runc's way): <state>/notify, where start binds the socket,
    // is bound read-only at /run/notify, and the process is told where it is
    if (::mkdirat(dir.fd(), "notify", 0755) < 0) throw_errno("NOTIFY_SOCKET: create " + dir.path() + "/notify");
    p.cfg.mounts.push_back({"/run/notify", "bind", dir.path() + "/notify", {"bind", "nosuid", "noexec", "nodev", "ro"}, {}, {}});
    p.cfg.process->env.push_back("NOTIFY_SOCKET=/run/notify/notify.sock");
  }
  dir.save_config(p.text);
  dir.save(rec);  // recorded before anything is made: `delete --force` can always clean up
  spdlog::debug("create {}: bundle {}, rootfs {}, cgroup {} ({})", o.id, p.bundle, p.rootfs, plan.path,
                cgroups::layout_name(cgroups::System::get().layout));
  // A leaf that is there already (the caller made it): a frozen one would stop our init before
  // it could answer (create must never wait on a child that cannot run), and processes in it
  // are worth a warning (runc's words, both). Fresh leaves cost nothing here.
  {
    std::vector<std::string> existing;
    for (auto& leaf : plan.leaves)
      if (std::find(plan.to_create.begin(), plan.to_create.end(), leaf) == plan.to_create.end()) existing.push_back(leaf);
    if (!existing.empty()) {
      cgroups::Manager m(existing);
      if (m.can_freeze() && m.frozen()) throw Error("container's cgroup unexpectedly frozen", EBUSY);
      size_t n = 0;
      for (auto& leaf : existing) n = std::max(n, cgroups::Manager({leaf}).pids().size());
      if (n) spdlog::warn("container's cgroup is not empty: {} process(es) found", n);
    }
  }
  try {
    cgroups::Manager::create(plan);
    cgroups::Manager cgm(plan.leaves);
    rec.cgroup_freeze_file = cgm.freeze_file();
    {
      static const spec::Resources no_resources;
      const spec::Resources& res = cfg.linux && cfg.linux->resources ? *cfg.linux->resources : no_resources;
      for (auto& w : cgm.apply(res, true)) spdlog::warn("{}", w);
    }
    Fd fifo;
    if (with_fifo) {
      // 0622 whatever the umask: the container process may write it after dropping root
      if (::mkfifoat(dir.fd(), kFifo, 0622) < 0 || ::fchmodat(dir.fd(), kFifo, 0622, 0) < 0)
        throw_errno("create exec fifo");
      fifo.reset(::openat(dir.fd(), kFifo, O_PATH | O_CLOEXEC));
      if (!fifo) throw_errno("open exec fifo");
    }
    const auto& sysc = cgroups::System::get();
    Fd cgfd;
    if (sysc.layout == cgroups::Layout::V2 && !plan.leaves.empty()) {
      cgfd.reset(::open(plan.leaves[0].c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!cgfd) throw_errno("open cgroup " + plan.leaves[0]);
    }
    linux_::InitContext ctx;
    ctx.cfg = &cfg;
    ctx.id = o.id;
    ctx.bundle = p.bundle;
    ctx.rootfs = p.rootfs;
    ctx.fifo_fd = fifo.get();
    ctx.no_pivot = o.no_pivot;
    ctx.no_new_keyring = o.no_new_keyring;
    ctx.preserve_fds = o.preserve_fds;
    ctx.cgroup = &plan;
    std::optional<linux_::SeccompFilter> filter;
    if (cfg.linux && cfg.linux->seccomp) {
      filter.emplace(*cfg.linux->seccomp, o.root + "/.seccomp-cache");
      spdlog::debug("create {}: seccomp filter of {} instructions{}", o.id, filter->size(),
                    filter->from_cache() ? " from the cache" : " compiled");
      ctx.seccomp = &*filter;
    }
    ctx.console = !o.console_socket.empty() || (hold_console && cfg.process->terminal);
    ctx.lsm = linux_::host_lsm(*cfg.process, cfg.linux ? cfg.linux->mount_label : std::string());
    Fd held;
    linux_::SpawnHooks sh;
    if (!cgfd) sh.on_clone = [&](pid_t pid) { cgm.add_process(pid); };
    sh.run_hooks = [&](pid_t pid) {
      state::Record r = rec;
      r.pid = pid;
      std::string st = hook_state(r, "creating");
      if (cfg.hooks) {
        hooks::run(cfg.hooks->prestart, st, "prestart", p.bundle);
        hooks::run(cfg.hooks->create_runtime, st, "createRuntime", p.bundle);
      }
    };
    sh.console = [&](const std::string& name, int master) {
      if (o.console_socket.empty()) held.reset(::fcntl(master, F_DUPFD_CLOEXEC, 3));
      else linux_::send_console(o.console_socket, name, master);
    };
    sh.seccomp_listener = [&](pid_t pid, int fd) {
      state::Record r = rec;
      r.pid = pid;
      send_seccomp_listener(*cfg.linux->seccomp, state::state_json(r, "creating", false), pid, fd);
    };
    linux_::Spawned proc = linux_::spawn(ctx, cgfd.get(), sh);
    spdlog::debug("create {}: init pid {} is set up, waiting for start", o.id, proc.pid);
    char c;
    rec.pid = proc.pid;
    rec.status = "created";
    try {
      if (!sys::proc_stat(proc.pid, rec.start_time, c) || c == 'Z')
        throw Error("container init exited before it was recorded", ECHILD);
      dir.save(rec);
      if (!o.pid_file.empty()) sys::write_atomic(o.pid_file, std::to_string(proc.pid), 0644);
      if (!o.pidfd_socket.empty()) linux_::send_pidfd(o.pidfd_socket, "standard", proc.pidfd.get());
    } catch (...) {
      sys::kill_and_reap(proc.pidfd.get(), proc.pid);
      throw;
    }
    return Created{std::move(dir), std::move(rec), std::move(proc), std::move(held)};
  } catch (...) {
    try {
      cgroups::Manager::destroy(rec.cgroup_leaves, rec.cgroup_created, !rec.private_pidns);
    } catch (const Error& e) {
      spdlog::warn("cleanup after failed create: {}", e.what());
    }
    throw;  // ~Dir removes the state dir
  }
}

// sd_notify relay: the socket the container's NOTIFY_SOCKET names, bound in the state dir when
// the container was created with one (an empty Fd otherwise).
Fd bind_notify(const state::Dir& dir) {
  struct stat st;
  if (::fstatat(dir.fd(), "notify", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) return Fd();
  std::string path = dir.path() + "/notify/notify.sock";
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw Error("NOTIFY_SOCKET: " + path + ": path too long", ENAMETOOLONG);
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  Fd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  ::unlink(path.c_str());
  if (!sock || ::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    throw_errno("NOTIFY_SOCKET: bind " + path);
  ::chmod(path.c_str(), 0777);  // the container's user may be anyone
  return sock;
}

// Reads what the container sent; on READY=, tells the caller's NOTIFY_SOCKET MAINPID and that
// line (runc's relay) and returns true.
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

// start and run -d: wait until the container says READY (or its init is gone), then relay it.
void wait_notify(int sock, const std::string& host, int pidfd, pid_t pid) {
  for (;;) {
    struct pollfd p[2] = {{sock, POLLIN, 0}, {pidfd, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      throw_errno("NOTIFY_SOCKET: wait for the container");
    }
    if ((p[0].revents & POLLIN) && relay_notify(sock, host, pid)) return;
    if (p[1].revents) return;
  }
}

void run_poststart(const state::Record& r) {
  hooks::run_warn(r.poststart, hook_state(r, "running"), "poststart", r.bundle);
}

// After the go signal the init keeps its close-on-exec end (fifo or sync socket) open: EOF
// means it exec'd (or died). Text before EOF is its error. Returns that text.
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

sigset_t forwarded_signals() {
  sigset_t fwd;
  sigfillset(&fwd);
  for (int s : {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTTIN, SIGTTOU}) sigdelset(&fwd, s);
  return fwd;
}

// Foreground with a held pty master (no console socket): copies between our stdio and the
// master. The master is non-blocking: a process that does not read its input never stops the
// loop that forwards signals; input waits in `pending` until the master takes it.
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

// Foreground: forward what we receive (fwd is blocked) to the process until it exits; with a
// held pty master, also copy stdio and turn SIGWINCH into a resize. The exit status, or 128+N.
struct Notify {
  int sock;
  std::string host;
};

int wait_forwarding(int pidfd, pid_t pid, const sigset_t& fwd, int master = -1, const Notify* notify = nullptr) {
  Fd sfd(::signalfd(-1, &fwd, SFD_CLOEXEC));
  if (!sfd) throw_errno("signalfd for signal forwarding");
  std::optional<TtyProxy> tty;
  if (master >= 0) tty.emplace(master);
  bool master_open = master >= 0;
  int status = 0;
  for (;;) {
    const bool want_in = tty && tty->in_open && tty->pending.size() < 65536;
    struct pollfd p[5] = {{pidfd, POLLIN, 0},
                          {sfd.get(), POLLIN, 0},
                          {want_in ? 0 : -1, POLLIN, 0},
                          {master_open ? master : -1, static_cast<short>(POLLIN | (tty && !tty->pending.empty() ? POLLOUT : 0)), 0},
                          {notify ? notify->sock : -1, POLLIN, 0}};
    if (::poll(p, 5, -1) < 0) {
      if (errno == EINTR) continue;
      throw_errno("wait for the container process");
    }
    if (p[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (::read(sfd.get(), &si, sizeof si) == sizeof si) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGWINCH && tty) tty->resize();
        else if (sig != SIGCHLD && sig != SIGPIPE && sig != SIGURG) sys::pidfd_send_signal(pidfd, sig);
      }
    }
    if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) tty->input();
    if (tty && !tty->pending.empty()) tty->flush_input();
    if (p[3].revents & (POLLIN | POLLHUP | POLLERR)) master_open = tty->output();
    if ((p[4].revents & POLLIN) && relay_notify(notify->sock, notify->host, pid)) notify = nullptr;  // once
    if (p[0].revents & POLLIN) {
      if (tty) tty->drain();
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The exec'd process: --process FILE, or the container's process with the flags' changes.
// A --user with a name goes to `user_name`, resolved inside the container.
spec::Process exec_process(const ExecOptions& o, const spec::Config& cfg, std::string& user_name) {
  spec::Process p;
  if (!o.process_file.empty()) {
    try {
      p = spec::load_process(sys::read_file(o.process_file));
    } catch (const Error& e) {
      throw Error("--process " + o.process_file + ": " + e.what(), e.err());
    }
    if (p.args.empty()) throw Error("--process: process.args must contain the program to run", EINVAL);
    if (p.cwd.empty()) p.cwd = "/";
    if (p.cwd[0] != '/') throw Error("--process: process.cwd \"" + p.cwd + "\" is not an absolute path", EINVAL);
  } else {
    if (cfg.process) p = *cfg.process;
    else p.cwd = "/";
    p.args = o.args;
    if (p.args.empty()) throw Error("exec: a command to run is required (or --process)", EINVAL);
    p.terminal = false;
    for (auto& e : o.env) {
      if (e.find('=') == std::string::npos) throw Error("--env: \"" + e + "\" is not of the form KEY=value", EINVAL);
      p.env.push_back(e);
    }
    if (!o.cwd.empty()) p.cwd = o.cwd;
    if (!o.user.empty()) {
      char* end;
      unsigned long uid = strtoul(o.user.c_str(), &end, 10);
      unsigned long gid = p.user.gid;
      bool numeric = end != o.user.c_str() && (!*end || *end == ':');
      if (numeric && *end == ':') {
        const char* g = end + 1;
        gid = strtoul(g, &end, 10);
        numeric = end != g && !*end;
      }
      if (!numeric) {
        user_name = o.user;  // NAME[:GROUP]: the container's /etc/passwd and /etc/group decide
        if (o.user[0] == ':' || o.user.back() == ':') throw Error("--user: \"" + o.user + "\" is not user[:group]", EINVAL);
      } else {
        p.user.uid = static_cast<uint32_t>(uid);
        p.user.gid = static_cast<uint32_t>(gid);
      }
    }
    if (!o.additional_gids.empty()) p.user.additional_gids = o.additional_gids;
    if (!o.caps.empty()) {
      if (!p.capabilities) p.capabilities.emplace();
      auto add = [&](std::optional<std::vector<std::string>>& set) {
        if (!set) set.emplace();
        for (auto& c : o.caps) set->push_back(c);
      };
      add(p.capabilities->bounding);
      add(p.capabilities->effective);
      add(p.capabilities->permitted);
    }
    if (o.no_new_privs) p.no_new_privileges = true;
    if (!o.apparmor.empty()) p.apparmor_profile = o.apparmor;
    if (!o.process_label.empty()) p.selinux_label = o.process_label;
  }
  spec::validate_process(p);  // the same rules as config.json's process
  return p;
}

}  // namespace

int exec(const ExecOptions& o) {
  if (o.tty && o.console_socket.empty() && o.detach)
    throw Error("--tty: a detached exec needs --console-socket to hand the terminal to", EINVAL);
  if (!o.tty && !o.console_socket.empty() && o.process_file.empty())
    throw Error("--console-socket: given without --tty", EINVAL);
  state::Dir dir = state::Dir::open(o.root, o.id, false);
  state::Record r = dir.load();
  std::string status = state::derive_status(r, dir.fd());
  Fd init = live_pidfd(r);
  if (status == "stopped" || !init) throw Error("cannot exec in a stopped container", EINVAL);
  if (status == "paused" && !o.ignore_paused)
    throw Error("cannot exec in a paused container (use --ignore-paused to override)", EINVAL);
  const spec::Config cfg = created_config(dir, r);
  linux_::ExecRequest req;
  req.process = exec_process(o, cfg, req.user);
  // With --process the file decides, as runc: its "terminal": true is a terminal exec (the
  // containerd shim passes no --tty, only --console-socket).
  const bool tty = o.tty || req.process.terminal;
  if (tty && o.console_socket.empty() && o.detach)
    throw Error("process.terminal: a detached exec needs --console-socket to hand the terminal to", EINVAL);
  if (!tty && !o.console_socket.empty())
    throw Error("--console-socket: given, but the process file's terminal is false", EINVAL);
  req.lsm = linux_::host_lsm(req.process);
  req.preserve_fds = o.preserve_fds;
  std::optional<linux_::SeccompFilter> filter;
  if (cfg.linux) {
    if (cfg.linux->seccomp) {
      filter.emplace(*cfg.linux->seccomp, o.root + "/.seccomp-cache");
      req.seccomp = &*filter;
    }
    for (auto& n : cfg.linux->namespaces) {
      unsigned long f = linux_::ns_flag(n.type);
      if (f != CLONE_NEWPID) req.ns_flags |= f;
    }
    req.userns = cfg.has_namespace("user");
  }
  const auto& sysc = cgroups::System::get();
  auto leaves = r.cgroup_leaves;
  if (!o.cgroups.empty()) {
    if (leaves.empty()) throw Error("--cgroup: the container has no cgroup on this host", ENOTSUP);
    leaves = cgroups::Manager::sub_leaves(leaves, o.cgroups);
  }
  Fd cgfd;
  if (sysc.layout == cgroups::Layout::V2 && !leaves.empty()) {
    cgfd.reset(::open(leaves[0].c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!cgfd) throw_errno("open cgroup " + leaves[0]);
  }
  req.cgroup_fd = cgfd.get();
  req.console = tty;
  req.process.terminal = tty;
  sigset_t fwd = forwarded_signals(), old;
  if (!o.detach) ::sigprocmask(SIG_BLOCK, &fwd, &old);
  Fd held;  // foreground --tty without a socket: we hold the master
  linux_::SpawnHooks on;
  on.on_clone = [&](pid_t pid) {
    if (!cgfd) cgroups::Manager(leaves).add_process(pid);
  };
  on.console = [&](const std::string& name, int master) {
    if (o.console_socket.empty()) held.reset(::fcntl(master, F_DUPFD_CLOEXEC, 3));
    else linux_::send_console(o.console_socket, name, master);
  };
  on.seccomp_listener = [&](pid_t pid, int fd) {
    send_seccomp_listener(*cfg.linux->seccomp, state::state_json(r, status, false), pid, fd);
  };
  linux_::ExecSpawned p = linux_::spawn_exec(req, init.get(), on);
  try {
    if (!o.pid_file.empty()) sys::write_atomic(o.pid_file, std::to_string(p.pid), 0644);
    if (!o.pidfd_socket.empty()) linux_::send_pidfd(o.pidfd_socket, "setns", p.pidfd.get());
  } catch (...) {
    sys::kill_and_reap(p.pidfd.get(), p.pid);
    throw;
  }
  spdlog::debug("setns_init: about to exec {}", req.process.args.empty() ? "" : req.process.args[0]);
  sync::send(p.sync.get(), sync::Type::Start);
  std::string err = wait_exec(p.sync.get());
  p.sync.reset();
  if (!err.empty()) {
    if (!o.detach) ::sigprocmask(SIG_SETMASK, &old, nullptr);
    while (::waitpid(p.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    throw Error("exec failed: " + err, ENOEXEC);
  }
  if (o.detach) return 0;
  int code = wait_forwarding(p.pidfd.get(), p.pid, fwd, held.get());
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  return code;
}

namespace {

// The init was made but the create cannot finish (the Ack failed): kill it and remove its
// cgroups; the state dir goes with ~Dir.
void abandon(Created& c) {
  sys::kill_and_reap(c.proc.pidfd.get(), c.proc.pid);
  try {
    cgroups::Manager::destroy(c.rec.cgroup_leaves, c.rec.cgroup_created, !c.rec.private_pidns);
  } catch (const Error& e) {
    spdlog::warn("cleanup after failed create: {}", e.what());
  }
}

void ack(Created& c) {
  try {
    linux_::sync_ack(c.proc);
  } catch (...) {
    abandon(c);
    throw;
  }
  c.dir.commit();
}

}  // namespace

void create(const CreateOptions& o) {
  Created c = do_create(o, true);
  ack(c);
}

void start(const std::string& root, const std::string& id, const std::string& notify_socket) {
  state::Dir dir = state::Dir::open(root, id);
  state::Record r = dir.load();
  std::string status = state::derive_status(r, dir.fd());
  if (status == "stopped") throw Error("cannot start a container that has stopped", EINVAL);
  if (status != "created") throw Error("cannot start an already " + status + " container", EINVAL);
  Fd pidfd = live_pidfd(r);
  if (!pidfd) throw Error("cannot start container " + id + ": its init has exited", ECHILD);
  if (!r.has_process) {
    // Nothing to run: release the init (it exits) and say so.
    Fd fifo(::openat(dir.fd(), kFifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    ::unlinkat(dir.fd(), kFifo, 0);
    wait_exit(pidfd.get(), 1000);
    throw Error("cannot start container " + id + ": config.json has no process", EINVAL);
  }
  Fd notify = notify_socket.empty() ? Fd() : bind_notify(dir);
  Fd fifo(::openat(dir.fd(), kFifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo) throw_errno("open exec fifo");
  struct pollfd p[2] = {{fifo.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
  char c = 0;
  for (;;) {
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      throw_errno("wait for container init");
    }
    if (p[0].revents & POLLIN) {
      if (::read(fifo.get(), &c, 1) == 1) {
        int fl = fcntl(fifo.get(), F_GETFL);
        fcntl(fifo.get(), F_SETFL, fl & ~O_NONBLOCK);
        break;
      }
    }
    if (p[1].revents || (p[0].revents & POLLHUP)) {
      // POLLHUP before any writer just means none has opened yet; only a dead init is fatal
      if (p[1].revents) throw Error("container init exited before start", ECHILD);
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, nullptr);
    }
  }
  spdlog::debug("init: closing the pipe to signal completion (exec the process)");
  std::string err = wait_exec(fifo.get());
  ::unlinkat(dir.fd(), kFifo, 0);
  spdlog::debug("start {}: pid {} {}", id, r.pid, err.empty() ? "executed its process" : "failed: " + err);
  if (!err.empty()) throw Error("container process failed to start: " + err, ENOEXEC);
  run_poststart(r);
  if (notify) {
    { state::Dir unlock = std::move(dir); }  // others may act on the container while we wait
    wait_notify(notify.get(), notify_socket, pidfd.get(), r.pid);
  }
}

int run(const CreateOptions& o, bool detach, bool keep) {
  if (detach) {
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
    return 0;
  }
  // Block the signals we forward before the child exists; the child clears its mask. They stay
  // blocked until the teardown is over: a second Ctrl-C must not cut the cleanup short.
  sigset_t fwd = forwarded_signals(), old;
  ::sigprocmask(SIG_BLOCK, &fwd, &old);
  struct Restore {
    const sigset_t &fwd, &old;
    ~Restore() {
      struct timespec zero {};
      while (::sigtimedwait(&fwd, nullptr, &zero) > 0) {  // what came during the teardown
      }
      ::sigprocmask(SIG_SETMASK, &old, nullptr);
    }
  } restore{fwd, old};
  Created c = do_create(o, false, o.console_socket.empty());
  Fd notify;
  try {
    if (!o.notify_socket.empty()) notify = bind_notify(c.dir);
  } catch (...) {
    abandon(c);
    throw;
  }
  ack(c);
  { state::Dir unlock = std::move(c.dir); }  // others (delete --force) may act while we wait
  int code = 255;
  try {
    linux_::sync_start(c.proc);
    std::string err = wait_exec(c.proc.sync.get());
    c.proc.sync.reset();
    if (!err.empty()) spdlog::error("container process failed to start: {}", err);
    else run_poststart(c.rec);
    Notify n{notify.get(), o.notify_socket};
    code = wait_forwarding(c.proc.pidfd.get(), c.proc.pid, fwd, c.master.get(), notify ? &n : nullptr);
  } catch (...) {
    c.master.reset();
    if (!keep) destroy(o.root, o.id, true);
    throw;
  }
  c.master.reset();
  if (!keep) {
    try {
      state::Dir dir = state::Dir::open(o.root, o.id);
      if (dir.has_record()) teardown(dir, dir.load(), true);
    } catch (const NotExist&) {
      // deleted by someone else meanwhile
    }
  }
  return code;
}

ContainerInfo get_state(const std::string& root, const std::string& id) {
  state::Dir dir = state::Dir::open(root, id, false);
  ContainerInfo info{dir.load(), ""};
  info.status = state::derive_status(info.record, dir.fd());
  return info;
}

std::vector<ContainerInfo> list_all(const std::string& root) {
  std::vector<ContainerInfo> out;
  for (auto& id : state::list_ids(root)) {
    try {
      out.push_back(get_state(root, id));
    } catch (const Error&) {
      // a slot being created (no state.json yet) or invalid: not listed
    }
  }
  return out;
}

void kill(const std::string& root, const std::string& id, int sig, bool all) {
  state::Dir dir = state::Dir::open(root, id, false);
  state::Record r = dir.load();
  std::string status = state::derive_status(r, dir.fd());
  Fd pidfd = live_pidfd(r);
  // --all reaches what is left in the cgroup even once the init is gone (runc: no error)
  if (all && !r.cgroup_leaves.empty()) {
    cgroups::Manager(r.cgroup_leaves).signal_all(sig);
    return;
  }
  if (status == "stopped" || !pidfd) throw Error("container not running", ESRCH);
  if (sys::pidfd_send_signal(pidfd.get(), sig) < 0) throw_errno("kill container " + id);
}

void destroy(const std::string& root, const std::string& id, bool force) {
  state::check_id(id);
  std::optional<state::Dir> dir;
  try {
    dir.emplace(state::Dir::open(root, id));
  } catch (const NotExist&) {
    if (force) return;
    throw;
  }
  if (!dir->has_record()) {  // a create that died before recording anything
    dir->remove();
    return;
  }
  state::Record r = dir->load();
  std::string status = state::derive_status(r, dir->fd());
  // The spec: deleting a container that is not stopped is an error. A created one is killed and
  // removed, as runc and crun do (containerd's shim deletes a never-started task so).
  if (status != "stopped" && status != "creating" && status != "created" && !force)
    throw Error("cannot delete container " + id + " that is not stopped: " + status, EBUSY);
  teardown(*dir, r, r.status != "creating");
}

namespace {

struct Live {
  state::Dir dir;
  state::Record rec;
  std::string status;
};

Live open_live(const std::string& root, const std::string& id, bool lock) {
  state::Dir dir = state::Dir::open(root, id, lock);
  state::Record r = dir.load();
  std::string status = state::derive_status(r, dir.fd());
  return Live{std::move(dir), std::move(r), std::move(status)};
}

cgroups::Manager manager_of(const Live& l) {
  if (l.rec.cgroup_leaves.empty()) throw Error("container " + l.rec.id + " has no cgroup on this host", ENOTSUP);
  return cgroups::Manager(l.rec.cgroup_leaves);
}

}  // namespace

void pause(const std::string& root, const std::string& id) {
  Live l = open_live(root, id, true);
  if (l.status != "running" && l.status != "created") throw Error("container not running", EINVAL);
  manager_of(l).freeze(true);
}

void resume(const std::string& root, const std::string& id) {
  Live l = open_live(root, id, true);
  if (l.status != "paused") throw Error("container not paused", EINVAL);
  manager_of(l).freeze(false);
}

std::vector<pid_t> pids(const std::string& root, const std::string& id) {
  Live l = open_live(root, id, false);
  if (l.status == "stopped") return {};
  return manager_of(l).pids();
}

std::vector<std::string> update(const std::string& root, const std::string& id, const spec::Resources& r) {
  Live l = open_live(root, id, true);
  if (l.status == "stopped") throw Error("container " + id + " is stopped: nothing to update", EINVAL);
  return manager_of(l).apply(r, !r.devices.empty(), true);
}

static std::string event_json(const char* type, const std::string& id, const std::string* data) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("type");
  w.String(type);
  w.Key("id");
  w.String(id.c_str(), id.size());
  if (data) {
    w.Key("data");
    w.RawValue(data->c_str(), data->size(), rapidjson::kObjectType);
  }
  w.EndObject();
  return sb.GetString();
}

std::string stats_event(const std::string& root, const std::string& id) {
  Live l = open_live(root, id, false);
  if (l.status == "stopped") throw Error("container " + id + " is not running", EINVAL);
  std::string data = manager_of(l).stats_json();
  return event_json("stats", id, &data);
}

void events(const std::string& root, const std::string& id, int interval_ms,
            const std::function<void(const std::string&)>& emit) {
  Live l = open_live(root, id, false);
  if (l.status == "stopped") throw Error("container " + id + " is not running", EINVAL);
  Fd init = live_pidfd(l.rec);
  if (!init) throw Error("container " + id + " is not running", EINVAL);
  cgroups::Manager m = manager_of(l);
  int oom = m.oom_fd();
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (;;) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long wait = (next.tv_sec - now.tv_sec) * 1000LL + (next.tv_nsec - now.tv_nsec) / 1000000;
    if (wait <= 0) {
      std::string data = m.stats_json();
      emit(event_json("stats", id, &data));
      next.tv_sec += interval_ms / 1000;
      next.tv_nsec += (interval_ms % 1000) * 1000000L;
      if (next.tv_nsec >= 1000000000L) {
        next.tv_sec++;
        next.tv_nsec -= 1000000000L;
      }
      continue;
    }
    struct pollfd p[2] = {{init.get(), POLLIN, 0}, {oom, POLLIN, 0}};
    int n = ::poll(p, oom >= 0 ? 2 : 1, static_cast<int>(wait));
    if (n < 0 && errno != EINTR) throw_errno("events: poll");
    if (n > 0 && oom >= 0 && (p[1].revents & POLLIN) && m.oom_happened()) emit(event_json("oom", id, nullptr));
    if (n > 0 && p[0].revents) {
      // the init is gone: report a last OOM if that is what killed it, then stop
      if (oom >= 0 && m.oom_happened()) emit(event_json("oom", id, nullptr));
      return;
    }
  }
}

}  // namespace ocirt
