// The process entry point (x86-64): the CVE-2019-5736 re-exec of create, run and exec, done
// before glibc and the C++ runtime start, so the first image costs an exec and a few syscalls
// instead of a whole start-up (glibc's initialisation alone probes the CPU with dozens of
// cpuid instructions, each a trap to the hypervisor on a VM; docs/performance.md has the cost).
//
// Nothing here may touch what is not set up yet: no TLS (errno, the stack protector), no
// relocated data (this is a static PIE that relocates itself later), no libc function (many
// are IFUNCs, resolved later). Only raw syscalls, the stack, and PC-relative string literals;
// this file is built with -ffreestanding -fno-stack-protector
// -fno-tree-loop-distribute-patterns (no implicit memset/memcpy) and without sanitizers.
// If anything fails, nothing is said here: main() runs reexec_protected(), which does the same
// steps again and reports the failing one with its errno.
#if defined(__x86_64__)

#include <linux/mount.h>
#include <sys/syscall.h>

#include "src/cli/global_flags.hpp"

namespace {

long sys(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8) : "rcx", "r11", "memory");
  return ret;
}

bool same(const char* a, const char* b) {
  while (*a && *a == *b) ++a, ++b;
  return *a == *b;
}

struct StatFs {  // struct statfs of x86-64, only f_flags is read
  long f_type, f_bsize;
  unsigned long f_blocks, f_bfree, f_bavail, f_files, f_ffree;
  int f_fsid[2];
  long f_namelen, f_frsize, f_flags, f_spare[4];
};

}  // namespace

// Set when the binary was found on a read-only mount (this image was re-executed, or is
// installed read-only) or on a sealed memfd copy, so that reexec_protected() need not ask again. Hidden: its address is
// then PC-relative, not loaded from the GOT, which is not relocated yet.
extern "C" [[gnu::visibility("hidden")]] int ocirt_binary_protected_early;
int ocirt_binary_protected_early = 0;

extern "C" [[gnu::used]] void ocirt_early_reexec(long* sp) {
  const long argc = sp[0];
  char** argv = reinterpret_cast<char**>(sp + 1);
  char** envp = argv + argc + 1;
  long i = 1;
  while (i < argc && argv[i][0] == '-') i += ocirt::cli::global_takes_value(argv[i]) ? 2 : 1;
  if (i >= argc || !(same(argv[i], "create") || same(argv[i], "run") || same(argv[i], "exec"))) return;
  StatFs st;
  if (sys(SYS_statfs, reinterpret_cast<long>("/proc/self/exe"), reinterpret_cast<long>(&st)) == 0 && (st.f_flags & 1)) {
    ocirt_binary_protected_early = 1;  // ST_RDONLY: already re-executed, or installed read-only
    return;
  }
  const long tree = sys(SYS_open_tree, -100 /* AT_FDCWD */, reinterpret_cast<long>("/proc/self/exe"),
                        OPEN_TREE_CLONE | 02000000 /* OPEN_TREE_CLOEXEC */);
  if (tree < 0) {
    // No CAP_SYS_ADMIN (rootless): main() makes a sealed memfd copy. Are we that copy already?
    const long exe = sys(SYS_open, reinterpret_cast<long>("/proc/self/exe"), 02000000 /* O_RDONLY|O_CLOEXEC */);
    if (exe < 0) return;
    const long seals = sys(SYS_fcntl, exe, 1034 /* F_GET_SEALS */);
    sys(SYS_close, exe);
    if (seals >= 0 && (seals & 0xf) == 0xf) ocirt_binary_protected_early = 1;  // seal, shrink, grow, write
    return;
  }
  struct mount_attr ro;
  ro.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  ro.attr_clr = 0;
  ro.propagation = 0;
  ro.userns_fd = 0;
  if (sys(SYS_mount_setattr, tree, reinterpret_cast<long>(""), 0x1000 /* AT_EMPTY_PATH */, reinterpret_cast<long>(&ro),
          sizeof ro) == 0)
    sys(SYS_execveat, tree, reinterpret_cast<long>(""), reinterpret_cast<long>(argv), reinterpret_cast<long>(envp),
        0x1000 /* AT_EMPTY_PATH */);
  sys(SYS_close, tree);  // main() will try again and say what failed
}

// The kernel enters here with %rsp at argc and %rdx = 0 (a static binary has no dynamic
// linker whose finaliser glibc would register). Both are kept for glibc's _start.
__asm__(
    ".text\n"
    ".globl ocirt_entry\n"
    ".type ocirt_entry, @function\n"
    "ocirt_entry:\n"
    "  mov %rsp, %rbx\n"
    "  mov %rdx, %r12\n"
    "  mov %rsp, %rdi\n"
    "  and $-16, %rsp\n"
    "  call ocirt_early_reexec\n"
    "  mov %rbx, %rsp\n"
    "  mov %r12, %rdx\n"
    "  xor %ebx, %ebx\n"
    "  xor %r12d, %r12d\n"
    "  jmp _start\n"
    ".size ocirt_entry, .-ocirt_entry\n");

#endif
