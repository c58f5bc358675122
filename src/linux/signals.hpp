// Signal state of the processes the library creates (the init, exec'd processes), never of the
// caller's process: the caller's mask and dispositions are the front end's (src/cli).
#pragma once

namespace ocirt::sys {

// An empty signal mask: whatever the runtime's caller blocked (to forward it) is not ours.
void unblock_signals();
// Every signal's disposition to SIG_DFL and an empty mask: what a process gets from us at exec
// (an ignored signal survives execve; SIGPIPE ignored in a container breaks pipelines).
void reset_signals();

}  // namespace ocirt::sys
