// Processes by pid and pidfd (see processes.hpp).
#include "src/linux/processes.hpp"

#include "ocirt/error.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "src/linux/files.hpp"

namespace ocirt::sys {

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

bool parse_proc_stat(const std::string& s, uint64_t& start_time, char& state) {
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

bool proc_stat(pid_t pid, uint64_t& start_time, char& state) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  std::string s;
  if (!try_read_file(path, s)) return false;
  return parse_proc_stat(s, start_time, state);
}

std::string boot_id() {
  // read once a process: `list` asks for it per container (4 syscalls each, a fifth of its work)
  static const std::string id = [] {
    std::string s;
    if (!try_read_file("/proc/sys/kernel/random/boot_id", s)) return std::string();
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }();
  return id;
}

bool in_user_namespace() {
  // The initial user namespace has a fixed inode number (PROC_USER_INIT_INO): one readlink,
  // where reading uid_map would take four system calls. Without /proc/self/ns/user (no user
  // namespaces in this kernel) we are in the initial one.
  static const bool in = [] {
    char buf[64];
    ssize_t n = ::readlink("/proc/self/ns/user", buf, sizeof buf - 1);
    if (n <= 0) return false;
    buf[n] = 0;
    return std::string_view(buf, static_cast<size_t>(n)) != "user:[4026531837]";
  }();
  return in;
}

bool unprivileged() { return euid() != 0 || in_user_namespace(); }

uid_t euid() {
  static const uid_t id = ::geteuid();
  return id;
}

void kill_and_reap(int pidfd, pid_t pid) {
  pidfd_send_signal(pidfd, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace ocirt::sys
