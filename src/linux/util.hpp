// Thin, checked wrappers around the system calls and file chores used everywhere.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ocirt/fd.hpp"

namespace ocirt::sys {

// Files. read_file throws with the path and errno; try_read_file returns false on ENOENT.
std::string read_file(const std::string& path);
bool try_read_file(const std::string& path, std::string& out);
void write_file(const std::string& path, std::string_view data, int flags = 0);
// Append everything readable from fd (until EOF) to out; false with errno set on error.
bool read_all(int fd, std::string& out);
// Write to dirfd/name.tmp then rename over dirfd/name: readers never see a partial file.
void write_atomic(int dirfd, const std::string& name, std::string_view data, mode_t mode = 0644);
void write_atomic(const std::string& path, std::string_view data, mode_t mode = 0644);
void mkdir_p(const std::string& path, mode_t mode = 0755);

// Secure resolution inside a root (openat2 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): symlinks,
// absolute or relative, can never leave `rootfd`. Returns -errno on failure.
int open_in_root(int rootfd, std::string_view path, int flags, uint64_t resolve_extra = 0);
// Like open_in_root, but creates missing components (directories; the last one a file if
// `file` is true) inside the root. Returns an O_PATH fd of the result; throws on failure.
Fd mkdir_in_root(int rootfd, std::string_view path, bool file = false, mode_t mode = 0755);

// procfs, verified (the CVE-2025-52881 class): the root of a procfs instance for this process,
// the /proc in front of us if it is one (fstatfs + root inode), else a fresh detached procfs
// (fsopen/fsmount). Throws naming `what`.
Fd open_procfs(const std::string& what);
// A file below a verified procfs root: never through a symlink that leaves it, a magic link or
// another mount (RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS). Returns -errno.
int procfs_open(int procfd, const std::string& path, int flags);

// Processes.
int pidfd_open(pid_t pid);
int pidfd_send_signal(int pidfd, int sig);
// Field 22 of /proc/PID/stat (start time in clock ticks since boot) and the state char.
// Returns false if the process does not exist.
bool proc_stat(pid_t pid, uint64_t& start_time, char& state);
std::string boot_id();
// SIGKILL a child through its pidfd and reap it (a failed set-up leaves no process).
void kill_and_reap(int pidfd, pid_t pid);
// One sendmsg of data with one fd attached (SCM_RIGHTS); throws with `what`.
void send_with_fd(int sock, const void* data, size_t len, int fd, const std::string& what);
// Close every fd >= 3 except those in `keep` (sorted or not).
void close_fds_except(std::vector<int> keep);

std::string now_rfc3339();
std::string join(const std::vector<std::string>& v, std::string_view sep);

}  // namespace ocirt::sys
