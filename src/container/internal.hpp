// What the lifecycle operations (src/container/*.cpp) share: the recorded init, the config a
// container was created with, teardown, the create steps run and create have in common, the
// hand-offs to the caller's sockets.
#pragma once

#include <sys/types.h>

#include <string>

#include "ocirt/cgroups.hpp"
#include "ocirt/container.hpp"
#include "ocirt/fd.hpp"
#include "ocirt/spec.hpp"
#include "ocirt/state.hpp"
#include "src/linux/process.hpp"

namespace ocirt::container {

// Is the recorded pid still our container process? An open pidfd, or an empty Fd.
Fd live_pidfd(const state::Record& r);
// Waits (poll) until the process behind pidfd exits, at most timeout_ms.
void wait_exit(int pidfd, int timeout_ms);
// The config the container was created with (its state dir's copy; a container made by an
// older oci-rt has none: its bundle's, as then).
spec::Config created_config(const state::Dir& dir, const state::Record& r);
// The cgroup driver that made the container's cgroup, and its plan, from the record.
const cgroups::Driver& driver_of(const state::Record& r);
cgroups::Plan plan_of(const state::Record& r);
// Remove the container's cgroup as its driver made it; a failure is a warning (`what` failed).
void remove_cgroup(const state::Record& r, const char* what);
// Undo everything a container made: its processes, cgroups, state dir; poststop hooks with
// run_poststop. Idempotent.
void teardown(state::Dir& dir, const state::Record& r, bool run_poststop);
void run_poststart(const state::Record& r);
// After the go signal the init keeps its close-on-exec end (fifo or sync socket) open: EOF
// means it exec'd (or died). Text before EOF is its error. Returns that text.
std::string wait_exec(int fd);
// linux.seccomp.listenerPath: one message with the ContainerProcessState JSON and the listener
// fd (SCM_RIGHTS), as config-linux.md says.
void send_seccomp_listener(const spec::Seccomp& sc, const std::string& state_json, pid_t pid, int fd);
// The pty master from the child: to the caller's console socket, or kept in `held` (the caller
// holds the terminal) when there is none.
void take_console(const std::string& console_socket, Fd& held, const std::string& name, int master);
// The cgroup fd for CLONE_INTO_CGROUP on a pure v2 host (an empty Fd elsewhere).
Fd cgroup_fd_for(const std::vector<std::string>& leaves);

// readlink of fds 0..2: of process pid, or ours (pid 0); "" where it cannot be read.
std::vector<std::string> stdio_links(pid_t pid);

// The first steps of create (and restore): the bundle read and checked, the state slot taken,
// the cgroup planned, the record and the config saved; nothing made yet.
struct Recorded {
  state::Dir dir;
  state::Record rec;
  spec::Config cfg;
  std::string text, bundle, rootfs;
  cgroups::Plan plan;
  const cgroups::Driver* cgroup;
};
Recorded record_new(const CreateOptions& o, bool hold_console);

// cgroup.prepare(plan) for a recorded container: a parent made again (the plan grows, see
// Manager::create) is ours, saved in the record before it is made. True as Driver::prepare.
bool prepare_cgroup(const cgroups::Driver& cgroup, cgroups::Plan& plan, const state::Dir& dir, state::Record& rec);

// A container made up to Created, its init waiting for Ack.
struct Created {
  state::Dir dir;
  state::Record rec;
  linux_::Child init;
  Fd master;  // the pty master when the caller holds the terminal
};
// create and run: with_fifo (create) the init waits on the exec fifo after Ack, else for Start;
// hold_console: with process.terminal and no console socket, the master is kept in `master`.
Created create_init(const CreateOptions& o, bool with_fifo, bool hold_console);
// The init was made but the create cannot finish: kill it and remove its cgroups; the state dir
// goes with ~Dir.
void abandon(Created& c);
// Tell the init the state is recorded; the container stays (commit).
void ack(Created& c);

// sd_notify relay: the socket the container's NOTIFY_SOCKET names, bound in the state dir when
// the container was created with one (an empty Fd otherwise).
Fd bind_notify(const state::Dir& dir);
// Reads what the container sent; on READY=, tells `host` MAINPID and that line; returns true then.
bool relay_notify(int sock, const std::string& host, pid_t pid);

// A container's dir, record and status as one operation sees them.
struct Live {
  state::Dir dir;
  state::Record rec;
  state::Status status;
};
Live open_live(const std::string& root, const std::string& id, bool lock);
cgroups::Manager manager_of(const Live& l);


}  // namespace ocirt::container
