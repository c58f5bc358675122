// Whole-file chores on host paths (see files.hpp): read, write, atomic replace, mkdir -p.
#include "src/linux/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocirt/error.hpp"
#include "ocirt/fd.hpp"

namespace ocirt::sys {

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
  try {  // a failed write (ENOSPC) leaves no temporary file in the caller's dir (a pid file's)
    write_all(fd.get(), data, name);
    fd.reset();
    if (::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) < 0) throw_errno("rename " + name);
  } catch (...) {
    ::unlinkat(dirfd, tmp.c_str(), 0);
    throw;
  }
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

}  // namespace ocirt::sys
