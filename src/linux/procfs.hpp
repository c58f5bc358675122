// A verified procfs (the CVE-2025-52881 class): its root, and files opened below it that
// cannot be redirected by a symlink, a magic link or another mount.
#pragma once

#include <string>

#include "ocirt/fd.hpp"

namespace ocirt::sys {

// The root of a procfs instance for this process: the /proc in front of us if it is one
// (fstatfs + root inode), else a fresh detached procfs (fsopen/fsmount). Throws naming `what`.
Fd open_procfs(const std::string& what);
// A file below a verified procfs root: never through a symlink that leaves it, a magic link or
// another mount (RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS). Returns -errno.
int procfs_open(int procfd, const std::string& path, int flags);

}  // namespace ocirt::sys
