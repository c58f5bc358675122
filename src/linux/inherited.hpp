// What a process inherits from us across execve: signal dispositions, the signal mask, open
// file descriptors. Cleared here, in the processes the library creates (the init, exec's
// process), never in the caller's process: its mask and dispositions are the front end's.
#pragma once

#include <vector>

namespace ocirt::sys {

// An empty signal mask: whatever the runtime's caller blocked (to forward it) is not ours.
void unblock_signals();
// Every signal's disposition to SIG_DFL and an empty mask: what a process gets from us at exec
// (an ignored signal survives execve; SIGPIPE ignored in a container breaks pipelines).
void reset_signals();
// Close every fd >= 3 except those in `keep` (sorted or not).
void close_fds_except(std::vector<int> keep);

}  // namespace ocirt::sys
