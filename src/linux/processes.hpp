// Processes by pid and pidfd: open, signal, kill and reap, /proc/PID/stat, the boot id.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace ocirt::sys {

int pidfd_open(pid_t pid);
int pidfd_send_signal(int pidfd, int sig);
// Field 22 of /proc/PID/stat (start time in clock ticks since boot) and the state char.
// Returns false if the process does not exist.
bool proc_stat(pid_t pid, uint64_t& start_time, char& state);
// The same from the file's text; false when it has no state or start time field.
bool parse_proc_stat(const std::string& text, uint64_t& start_time, char& state);
// The kernel's boot id ("" when it cannot be read): a pid and start time are only compared
// within one boot.
std::string boot_id();
// We run in a user namespace that is not the initial one, as under rootless podman. Read once.
bool in_user_namespace();
// Not root of the initial user namespace (euid != 0, or root in another one: rootless
// podman): no CAP_SYS_ADMIN where the host's namespaces live, so e.g. a pid namespace entered
// for a clone cannot be left again.
bool unprivileged();
// Our effective uid, read once (the runtime never changes it; its children do, after clone).
uid_t euid();
// SIGKILL a child through its pidfd and reap it (a failed set-up leaves no process).
void kill_and_reap(int pidfd, pid_t pid);

}  // namespace ocirt::sys
