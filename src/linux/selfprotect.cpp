// CVE-2019-5736: a container whose entrypoint is `#!/proc/self/exe` makes the kernel run the
// runtime's own binary inside the container, where another container process can reopen it
// through /proc/PID/exe and overwrite it once it stops running. Defence: the processes that
// create containers run from an image nobody can write, so every /proc/PID/exe of ours that a
// container can reach refers to something it cannot change.
// - With CAP_SYS_ADMIN over our mount namespace (root, or root in rootless podman's user
//   namespace): a detached, read-only bind mount of the binary, which nobody can remount (it is
//   in no mount namespace). One open_tree + mount_setattr + execveat; no copy.
// - Without (an unprivileged user, rootless): a copy in a sealed memfd (no write, grow, shrink,
//   and the seals themselves sealed), as runc 1.1 and crun do; it costs about 4 ms a command
//   (docs/performance.md). Not needed, and not made, when the binary is the host root's and
//   writable by nobody else: nothing an unprivileged runtime starts can write it.
// On x86-64 src/cli/entry.cpp does the bind before glibc starts, and recognises a sealed copy;
// reexec_protected() then finds the binary protected and returns, or, if the early attempt
// failed, tries again (falling back to the memfd on EPERM) and says why it could not.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
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

namespace {

constexpr int kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

bool sealed_copy() {
  Fd exe(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!exe) return false;
  const int seals = ::fcntl(exe.get(), F_GET_SEALS);
  return seals >= 0 && (seals & kSeals) == kSeals;
}

// The binary copied into a sealed memfd and executed from there.
[[noreturn]] void reexec_sealed_copy(char** argv) {
  Fd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!self) throw_errno("protect the runtime binary: open /proc/self/exe");
  struct stat st;
  if (::fstat(self.get(), &st) < 0) throw_errno("protect the runtime binary: stat /proc/self/exe");
  Fd copy(::memfd_create("oci-rt", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!copy) throw_errno("protect the runtime binary: memfd_create");
  for (off_t done = 0; done < st.st_size;) {
    ssize_t n = ::sendfile(copy.get(), self.get(), nullptr, static_cast<size_t>(st.st_size - done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw_errno("protect the runtime binary: copy to a memfd", n == 0 ? EIO : errno);
    done += n;
  }
  if (::fcntl(copy.get(), F_ADD_SEALS, kSeals) < 0) throw_errno("protect the runtime binary: seal the memfd");
  self.reset();
  ::syscall(SYS_execveat, copy.get(), "", argv, environ, AT_EMPTY_PATH);
  throw_errno("protect the runtime binary: execveat the sealed copy");
}

}  // namespace

bool binary_protected() {
  if (&ocirt_binary_protected_early && ocirt_binary_protected_early) return true;
  struct statvfs sv;
  if (::statvfs("/proc/self/exe", &sv) == 0 && (sv.f_flag & ST_RDONLY)) return true;
  return sealed_copy();
}

void reexec_protected(char** argv) {
  if (binary_protected()) return;  // already re-executed, or installed on a read-only filesystem
  Fd tree(::open_tree(AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (!tree && errno == EPERM) {  // no CAP_SYS_ADMIN: rootless
    // A binary only the host's root may write (owned by uid 0, no group or other write bit, which
    // an ACL granting write would show as its mask) cannot be written by anything an
    // unprivileged runtime starts: its containers' ids are the user's own and its subordinate
    // ones. Nothing to copy then (the usual installed case); anything else is copied.
    struct stat st;
    if (::geteuid() != 0 && ::stat("/proc/self/exe", &st) == 0 && st.st_uid == 0 && !(st.st_mode & 022)) return;
    reexec_sealed_copy(argv);
  }
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
