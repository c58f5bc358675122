// CVE-2019-5736: a container whose entrypoint is `#!/proc/self/exe` makes the kernel run the
// runtime's own binary inside the container, where another container process can reopen it
// through /proc/PID/exe and overwrite it once it stops running. Defence: the processes that
// create containers run from a detached, read-only bind mount of the binary, so every
// /proc/PID/exe of ours that a container can reach refers to a read-only mount nobody can
// remount (it is in no mount namespace). One open_tree + mount_setattr + execveat; no copy.
// On x86-64 src/cli/entry.cpp does this before glibc starts; reexec_protected() then finds the
// binary protected and returns, or, if the early attempt failed, tries again and says why.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "ocirt/error.hpp"
#include "ocirt/fd.hpp"
#include "src/linux/selfprotect.hpp"

extern char** environ;

namespace ocirt::linux_ {

// Set by src/cli/entry.cpp (x86-64) before glibc starts; weak: other builds have no early entry.
extern "C" [[gnu::visibility("hidden"), gnu::weak]] int ocirt_binary_protected_early;

bool binary_protected() {
  if (&ocirt_binary_protected_early && ocirt_binary_protected_early) return true;
  struct statvfs sv;
  return ::statvfs("/proc/self/exe", &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

void reexec_protected(char** argv) {
  if (binary_protected()) return;  // already re-executed, or installed on a read-only filesystem
  Fd tree(::open_tree(AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (!tree) throw_errno("protect the runtime binary: open_tree /proc/self/exe");
  struct mount_attr ro {};
  ro.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH, &ro, sizeof ro) < 0)
    throw_errno("protect the runtime binary: make the bind read-only");
  // execveat takes the O_PATH fd of the detached tree itself (no reopen through /proc)
  ::syscall(SYS_execveat, tree.get(), "", argv, environ, AT_EMPTY_PATH);
  throw_errno("protect the runtime binary: execveat");
}

}  // namespace ocirt::linux_
