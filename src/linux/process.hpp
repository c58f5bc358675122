// The runtime's side of making a container process: one clone path (clone3 straight into the
// namespaces and the cgroup, the pid and time namespaces entered for the clone only), one sync
// loop that drives the child to Created, and the init's own parent-side steps (id maps,
// oom_score_adj, bind trees the init cannot make). Used by create/run (spawn) and exec
// (spawn_exec in exec.cpp).
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ocirt/fd.hpp"
#include "ocirt/spec.hpp"
#include "src/linux/linux.hpp"
#include "src/linux/sync.hpp"

namespace ocirt::linux_ {

// A child we cloned, with its pidfd and our end of the sync channel. Killed and reaped when
// dropped, unless released (a created init, a process handed to the caller).
struct Child {
  pid_t pid = -1;
  Fd pidfd;
  Fd sync;
  bool armed = true;
  Child() = default;
  Child(Child&&) = default;
  Child& operator=(Child&&) = delete;  // would drop the child it holds without killing it
  ~Child();
  void release() { armed = false; }
};

struct SpawnHooks {
  std::function<void(pid_t)> on_clone;       // after clone, before the child goes on (cgroup join)
  std::function<void(pid_t)> run_hooks;      // prestart + createRuntime, when the child asks
  std::function<void(pid_t, int)> seccomp_listener;  // hand the seccomp listener fd on
  std::function<void(const std::string&, int)> console;  // hand the pty master on
};

// Namespaces that apply to a process's children (pid, time): the runtime enters them for the
// clone only and leaves them right after.
class ForClone {
 public:
  // fd: a namespace fd or a pidfd; type CLONE_NEWPID or CLONE_NEWTIME; step: for the error.
  void enter(int fd, int type, const std::string& step);
  // A new time namespace with these offsets (written before any process is in it).
  void new_time(const std::map<std::string, spec::TimeOffset>& offsets);
  int leave();  // back in our own: 0, or the errno of the failed setns

 private:
  Fd own_pid_, own_time_;
};

// clone3 into `flags` (plus CLONE_PIDFD; CLONE_INTO_CGROUP when cgroup_fd >= 0) with a
// SOCK_SEQPACKET sync channel; the child runs child_main with its end and never returns. We
// are back in our own pid/time namespaces when this returns; on failure nothing is left.
// stay_dumpable (rootless init): the child is not made non-dumpable for the clone; it must clear
// that itself once the runtime has written its id maps.
Child clone_child(uint64_t flags, int cgroup_fd, ForClone& ns, const std::function<void(int)>& child_main,
                  const char* what, bool stay_dumpable = false);

// In a child that has joined a pid namespace it may only give its children (setns of
// CLONE_NEWPID): clones the process that goes on, as the runtime's child (CLONE_PARENT), and
// exits after reporting it (sync::Type::Reborn with its pidfd); in that new process, returns
// its pid as the runtime sees it (the runtime's Go). The runtime's drive() handles it.
int64_t reborn_in_pidns(int sync_fd);

// Our side of the set-up: waits for the child's Ready, joins it to its cgroup (on_clone), sends
// Go with its pid, then answers it (hooks, console, seccomp listener) until it reports Created,
// whose notes are logged. The child's Error is thrown with its kind and field.
void drive(Child& c, const SpawnHooks& hooks, const char* who);

// The init: clones it with ctx, writes its id maps and oom_score_adj, and drives it to Created
// (it then waits for Ack).
Child spawn(InitContext& ctx, int cgroup_fd, const SpawnHooks& hooks);

// The text of /proc/PID/{uid,gid}_map for these mappings.
std::string id_map_text(const std::vector<spec::IdMapping>& m);

// The state is recorded: the child may stop guarding against our death (Ack).
void sync_ack(Child& c);
// Foreground run without an exec fifo: tell the child to exec now.
void sync_start(Child& c);

}  // namespace ocirt::linux_
