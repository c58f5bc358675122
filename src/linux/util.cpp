#include "src/linux/util.hpp"

#include <chrono>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "ocirt/error.hpp"

namespace ocirt {

namespace sys {

bool read_all(int fd, std::string& out) {
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out.append(buf, n);
  }
}

bool try_read_file(const std::string& path, std::string& out) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return false;
    throw_errno("open " + path);
  }
  out.clear();
  if (!read_all(fd.get(), out)) throw_errno("read " + path);
  return true;
}

std::string read_file(const std::string& path) {
  std::string s;
  if (!try_read_file(path, s)) throw_errno("open " + path, ENOENT);
  return s;
}

static void write_all(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("write " + what);
    data.remove_prefix(n);
  }
}

void write_file(const std::string& path, std::string_view data, int flags) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | flags, 0644));
  if (!fd) throw_errno("open " + path);
  write_all(fd.get(), data, path);
}

void write_atomic(int dirfd, const std::string& name, std::string_view data, mode_t mode) {
  std::string tmp = "." + name + ".tmp";
  Fd fd(::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd) throw_errno("create " + name);
  write_all(fd.get(), data, name);
  fd.reset();
  if (::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) < 0) throw_errno("rename " + name);
}

void write_atomic(const std::string& path, std::string_view data, mode_t mode) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  Fd d(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!d) throw_errno("open " + dir);
  write_atomic(d.get(), path.substr(slash + 1), data, mode);
}

void mkdir_p(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) == 0 || errno == EEXIST) return;
  if (errno != ENOENT) throw_errno("mkdir " + path);
  auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) throw_errno("mkdir " + path);
  mkdir_p(path.substr(0, slash), mode);
  if (::mkdir(path.c_str(), mode) < 0 && errno != EEXIST) throw_errno("mkdir " + path);
}

int open_in_root(int rootfd, std::string_view path, int flags, uint64_t resolve_extra) {
  std::string p(path);
  while (!p.empty() && p[0] == '/') p.erase(0, 1);
  if (p.empty()) p = ".";
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve_extra;
  int fd;
  do fd = static_cast<int>(::syscall(SYS_openat2, rootfd, p.c_str(), &how, sizeof how));
  while (fd < 0 && (errno == EAGAIN || errno == EINTR));
  return fd < 0 ? -errno : fd;
}

Fd open_procfs(const std::string& what) {
  Fd fd(::open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  struct statfs sf;
  struct stat st;
  if (fd && ::fstatfs(fd.get(), &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC && ::fstat(fd.get(), &st) == 0 &&
      st.st_ino == 1 /* PROC_ROOT_INO */)
    return fd;
  // No procfs at /proc (the config mounts none, or something else is there): a private one.
  Fd fs(::fsopen("proc", FSOPEN_CLOEXEC));
  if (!fs) throw_errno(what + ": fsopen proc");
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) throw_errno(what + ": create procfs");
  Fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  if (!mnt) throw_errno(what + ": fsmount proc");
  return mnt;
}

int procfs_open(int procfd, const std::string& path, int flags) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS;
  int fd;
  do fd = static_cast<int>(::syscall(SYS_openat2, procfd, path.c_str(), &how, sizeof how));
  while (fd < 0 && (errno == EAGAIN || errno == EINTR));
  if (fd < 0) return -errno;
  struct statfs sf;
  if (::fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC) {
    ::close(fd);
    return -EXDEV;
  }
  return fd;
}

// Lexically clean a path inside a root: ".." never goes above it (as RESOLVE_IN_ROOT does).
static std::string clean_in_root(const std::string& p) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string c = p.substr(i, j - i);
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!c.empty() && c != ".") {
      parts.push_back(c);
    }
    i = j + 1;
  }
  return "/" + join(parts, "/");
}

static Fd mkdir_in_root_depth(int rootfd, std::string_view path, bool file, mode_t mode, int depth);

Fd mkdir_in_root(int rootfd, std::string_view path, bool file, mode_t mode) {
  return mkdir_in_root_depth(rootfd, path, file, mode, 0);
}

// The common case of mkdir_in_root: the nearest existing ancestor is resolved in the root
// (deepest first) and the missing components are made below it, each opened with O_NOFOLLOW
// relative to the one before, so nothing is resolved outside the root and each step costs two
// syscalls instead of a walk from the root. Any surprise (a dangling symlink or a racing creator
// gives EEXIST, a ".." in the path, any error) returns an empty Fd, having made nothing or only
// fresh directories, and the caller walks component by component instead.
static Fd create_below_existing(int rootfd, std::string_view path, bool file, mode_t mode) {
  std::vector<std::string_view> parts;
  for (size_t i = 0; i < path.size();) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view c = path.substr(i, j - i);
    if (c == "..") return {};
    if (!c.empty() && c != ".") parts.push_back(c);
    i = j + 1;
  }
  if (parts.empty()) return {};
  size_t have = parts.size() - 1;  // parts[0, have) exist
  Fd cur;
  for (; have > 0; --have) {
    std::string prefix(parts[0].data(), parts[have - 1].data() + parts[have - 1].size() - parts[0].data());
    int fd = open_in_root(rootfd, prefix, O_PATH | O_DIRECTORY);
    if (fd >= 0) {
      cur.reset(fd);
      break;
    }
    if (fd != -ENOENT) return {};
  }
  for (size_t i = have; i < parts.size(); ++i) {
    const int dir = cur ? cur.get() : rootfd;
    const std::string name(parts[i]);
    if (i + 1 == parts.size() && file) {
      Fd f(::openat(dir, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
      if (!f) return {};
      return Fd(::openat(dir, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    }
    if (::mkdirat(dir, name.c_str(), mode) < 0) return {};
    Fd next(::openat(dir, name.c_str(), O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC));
    if (!next) return {};
    cur = std::move(next);
  }
  return cur;
}

static Fd mkdir_in_root_depth(int rootfd, std::string_view path, bool file, mode_t mode, int depth) {
  if (depth > 40) throw_errno("resolve " + std::string(path) + " in the rootfs", ELOOP);
  int fd = open_in_root(rootfd, path, O_PATH);
  if (fd >= 0) return Fd(fd);
  if (fd != -ENOENT) throw_errno("resolve " + std::string(path) + " in the rootfs", -fd);
  if (depth == 0)
    if (Fd made = create_below_existing(rootfd, path, file, mode)) return made;
  // Walk component by component, creating what is missing; each step is resolved in the root.
  Fd cur(::dup(rootfd));
  size_t i = 0;
  std::string sp(path);
  while (i < sp.size()) {
    while (i < sp.size() && sp[i] == '/') ++i;
    size_t j = sp.find('/', i);
    if (j == std::string::npos) j = sp.size();
    if (j == i) break;
    std::string name = sp.substr(i, j - i);
    bool last = sp.find_first_not_of('/', j) == std::string::npos;
    std::string prefix = sp.substr(0, j);
    int next = open_in_root(rootfd, prefix, O_PATH);
    if (next == -ENOENT) {
      // `cur` is the securely resolved parent; create the name in it (never follows a final symlink).
      int r;
      if (last && file) {
        Fd f(::openat(cur.get(), name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
        r = f ? 0 : -errno;
      } else {
        r = ::mkdirat(cur.get(), name.c_str(), mode) == 0 ? 0 : -errno;
      }
      if (r < 0 && r != -EEXIST) throw_errno("create " + prefix + " in the rootfs", -r);
      next = open_in_root(rootfd, prefix, O_PATH);
      if (next == -ENOENT) {
        // A dangling symlink: create its target, resolved inside the root, then go on there.
        char target[4096];
        ssize_t n = ::readlinkat(cur.get(), name.c_str(), target, sizeof target - 1);
        if (n > 0) {
          target[n] = 0;
          std::string dir = sp.substr(0, i);
          std::string redirected = target[0] == '/' ? std::string(target) : dir + "/" + target;
          return mkdir_in_root_depth(rootfd, clean_in_root(redirected + sp.substr(j)), file, mode, depth + 1);
        }
      }
    }
    if (next < 0) throw_errno("resolve " + prefix + " in the rootfs", -next);
    cur.reset(next);
    i = j;
  }
  return cur;
}

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

bool proc_stat(pid_t pid, uint64_t& start_time, char& state) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  std::string s;
  if (!try_read_file(path, s)) return false;
  auto rp = s.rfind(')');  // comm may contain spaces and parentheses
  if (rp == std::string::npos || rp + 2 >= s.size()) return false;
  state = s[rp + 2];
  // fields after ')' start at field 3 (state); starttime is field 22
  const char* p = s.c_str() + rp + 2;
  for (int field = 3; field < 22 && *p; ++field) {
    p = strchr(p, ' ');
    if (!p) return false;
    ++p;
  }
  start_time = strtoull(p, nullptr, 10);
  return true;
}

std::string boot_id() {
  std::string s;
  if (!try_read_file("/proc/sys/kernel/random/boot_id", s)) return {};
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

void kill_and_reap(int pidfd, pid_t pid) {
  pidfd_send_signal(pidfd, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
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

void close_fds_except(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned lo = 3;
  for (int k : keep) {
    if (k < static_cast<int>(lo)) continue;
    if (static_cast<unsigned>(k) > lo) ::syscall(SYS_close_range, lo, k - 1, 0);
    lo = k + 1;
  }
  ::syscall(SYS_close_range, lo, ~0U, 0);
}

std::string now_rfc3339() {
  // Calendar arithmetic from <chrono>, not gmtime_r/strftime: glibc's first time conversion of a
  // process runs tzset(), which opens and parses /etc/localtime even for UTC.
  using namespace std::chrono;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  const sys_seconds t{seconds{ts.tv_sec}};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  char buf[64];
  snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%09ldZ", static_cast<int>(ymd.year()),
           static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
           static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()), ts.tv_nsec);
  return buf;
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

}  // namespace sys
}  // namespace ocirt
