// Resolution inside a root (see in_root.hpp): openat2 RESOLVE_IN_ROOT, and mkdir_in_root with
// its fast path (create below the nearest existing ancestor) and its careful walk.
#include "src/linux/in_root.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "ocirt/error.hpp"
#include "src/common/path.hpp"

namespace ocirt::sys {

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
  const std::vector<std::string_view> parts = path::components(path);
  for (std::string_view c : parts)
    if (c == "..") return {};
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
  const std::string_view sp = path;
  const std::vector<std::string_view> parts = path::split(sp, '/');
  for (size_t k = 0; k < parts.size(); ++k) {
    const size_t i = static_cast<size_t>(parts[k].data() - sp.data()), j = i + parts[k].size();
    const std::string name(parts[k]);
    const bool last = k + 1 == parts.size();
    const std::string prefix(sp.substr(0, j));
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
          std::string redirected = target[0] == '/' ? std::string(target) : std::string(sp.substr(0, i)) + "/" + target;
          redirected += sp.substr(j);
          return mkdir_in_root_depth(rootfd, path::clean_in_root(redirected), file, mode, depth + 1);
        }
      }
    }
    if (next < 0) throw_errno("resolve " + prefix + " in the rootfs", -next);
    cur.reset(next);
  }
  return cur;
}

}  // namespace ocirt::sys
