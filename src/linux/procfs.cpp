// The verified procfs (see procfs.hpp).
#include "src/linux/procfs.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "ocirt/error.hpp"

namespace ocirt::sys {

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

}  // namespace ocirt::sys
