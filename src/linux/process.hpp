// Parent side of process creation: clone straight into the namespaces and drive the child
// through the sync protocol until it reports Created.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string_view>

#include "ocirt/fd.hpp"
#include "src/linux/linux.hpp"
#include "src/linux/sync.hpp"

namespace ocirt::linux_ {

struct Spawned {
  pid_t pid = -1;
  Fd pidfd;
  Fd sync;
};

struct SpawnHooks {
  std::function<void(pid_t)> on_clone;       // after clone, before the child goes on (cgroup join)
  std::function<void(pid_t)> run_hooks;      // prestart + createRuntime, when the child asks
  std::function<void(pid_t, int)> seccomp_listener;  // hand the seccomp listener fd on
  std::function<void(const std::string&, int)> console;  // hand the pty master on
};

// Clones the init with ctx, writes id maps and oom_score_adj, calls the hooks, and returns
// once the child has sent Created (it then waits for Ack). Throws with the child's error.
// On failure the child is killed and reaped before the exception leaves.
Spawned spawn(InitContext& ctx, int cgroup_fd, const SpawnHooks& hooks);
// The child's next message after the hand-offs both children make (a pty master, a seccomp
// listener), which go to `hooks` and are answered; an Error message is thrown.
sync::Message next_message(int sync_fd, pid_t pid, const SpawnHooks& hooks, const char* who);
// The child's Created text: one note a line, "debug:" ones at debug level, the rest warnings.
void report_notes(std::string_view text);

}  // namespace ocirt::linux_

namespace ocirt::linux_ {
// The state is recorded: the child may stop guarding against our death (Ack).
void sync_ack(Spawned& s);
// Foreground run without an exec fifo: tell the child to exec now.
void sync_start(Spawned& s);
}  // namespace ocirt::linux_
