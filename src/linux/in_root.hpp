// Paths resolved inside a root (the container's rootfs) with openat2, never leaving it:
// opening, and creating the missing components.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>

#include "ocirt/fd.hpp"

namespace ocirt::sys {

// Secure resolution inside a root (openat2 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): symlinks,
// absolute or relative, can never leave `rootfd`. Returns -errno on failure.
int open_in_root(int rootfd, std::string_view path, int flags, uint64_t resolve_extra = 0);
// Like open_in_root, but creates missing components (directories; the last one a file if
// `file` is true) inside the root. Returns an O_PATH fd of the result; throws on failure.
Fd mkdir_in_root(int rootfd, std::string_view path, bool file = false, mode_t mode = 0755);

}  // namespace ocirt::sys
