// The lifecycle API: what the CLI (or any other front end) calls. Never prints to stdout.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ocirt/state.hpp"

namespace ocirt {

struct CreateOptions {
  std::string root = "/run/oci-rt";
  std::string id, bundle = ".", pid_file, console_socket;
  std::string pidfd_socket;  // AF_UNIX socket that receives a pidfd of the init (runc 1.2)
  std::string notify_socket;  // the caller's NOTIFY_SOCKET (sd_notify): relayed from the container
  bool no_pivot = false, no_new_keyring = false;
  int preserve_fds = 0;
};

struct ExecOptions {
  std::string root = "/run/oci-rt";
  std::string id, process_file, cwd, user, apparmor, process_label, pid_file, console_socket;
  std::vector<std::string> cgroups;  // --cgroup [CTRL[,CTRL]:]PATH, in order (a later one wins)
  std::string pidfd_socket;  // AF_UNIX socket that receives a pidfd of the process (runc 1.2)
  std::vector<std::string> args, env, caps;
  std::vector<uint32_t> additional_gids;
  bool no_new_privs = false, ignore_paused = false, detach = false, tty = false;
  int preserve_fds = 0;
};

struct ContainerInfo {
  state::Record record;
  std::string status;
};

// create: returns once the container is created and waiting for start.
void create(const CreateOptions& o);
// start: with notify_socket (the caller's NOTIFY_SOCKET) and a container created with one, waits
// for the container's READY=1 and passes MAINPID and it on, as runc does.
void start(const std::string& root, const std::string& id, const std::string& notify_socket = "");
// run: create + start; in the foreground waits, forwarding signals, deletes the container and
// returns its exit status (128+N for a signal). With detach, returns 0 once started.
int run(const CreateOptions& o, bool detach, bool keep);
// exec: a new process in a created or running container; in the foreground returns its exit
// status (128+N for a signal), with --detach 0 once it has been executed.
int exec(const ExecOptions& o);
ContainerInfo get_state(const std::string& root, const std::string& id);
std::vector<ContainerInfo> list_all(const std::string& root);
void kill(const std::string& root, const std::string& id, int sig, bool all);
// delete: a stopped or created container; with force any, and a missing one is not an error.
void destroy(const std::string& root, const std::string& id, bool force);

// pause/resume: freeze or thaw the container's cgroup (v1 freezer, v2 cgroup.freeze).
void pause(const std::string& root, const std::string& id);
void resume(const std::string& root, const std::string& id);
// The pids in the container's cgroup (ps).
std::vector<pid_t> pids(const std::string& root, const std::string& id);
// update: write resources to a live (created, running or paused) container. Returns warnings.
std::vector<std::string> update(const std::string& root, const std::string& id, const spec::Resources& r);
// events: one {"type":"stats","id":...,"data":{...}} object (stats_once), or a stream of them
// every interval_ms, with {"type":"oom","id":...} on OOM kills, until the container stops.
std::string stats_event(const std::string& root, const std::string& id);
void events(const std::string& root, const std::string& id, int interval_ms,
            const std::function<void(const std::string&)>& emit);

}  // namespace ocirt
