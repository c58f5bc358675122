// The lifecycle API, what a front end calls: create, start, run, exec, state, list, kill,
// delete, pause, resume, ps, update, events. It reports through return values and ocirt::Error
// (errors name the config field, or the option by its member name here: "console_socket"), logs
// through spdlog's default logger, and never writes to stdout, reads stdin, or touches the
// caller's terminal, signal mask or dispositions: a foreground run or exec returns a Process for
// the caller to wait on.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ocirt/fd.hpp"
#include "ocirt/spec.hpp"
#include "ocirt/state.hpp"

namespace ocirt {

struct CreateOptions {
  std::string root = "/run/oci-rt";
  std::string id, bundle = ".", pid_file, console_socket;
  std::string pidfd_socket;  // AF_UNIX socket that receives a pidfd of the init (runc 1.2)
  std::string notify_socket;  // the caller's NOTIFY_SOCKET (sd_notify): relayed from the container
  bool no_pivot = false, no_new_keyring = false;
  bool systemd_cgroup = false;  // the cgroup is a systemd unit (runc's --systemd-cgroup)
  // runc's rootless cgroup rules (--rootless): without a cgroupsPath, a hierarchy where the
  // cgroup cannot be made or joined is skipped, and a refused device rule is ignored (a
  // resource limit that needs a skipped hierarchy is an error). See rootless_default().
  bool rootless_cgroups = false;
  int preserve_fds = 0;
};

struct ExecOptions {
  std::string root = "/run/oci-rt";
  std::string id;
  // The whole process (runc's exec --process); without it, the container's process changed by
  // the members below.
  std::optional<spec::Process> process;
  std::vector<std::string> args;  // required without `process`
  std::vector<std::string> env;   // KEY=value entries added
  std::string cwd;
  std::optional<uint32_t> uid, gid;  // numeric user
  std::string user_name;  // NAME[:GROUP] (or a uid with a group name): the container's files decide
  std::vector<uint32_t> additional_gids;
  std::vector<std::string> caps;  // added to the bounding, effective and permitted sets
  bool no_new_privs = false;
  std::string apparmor, process_label;
  std::vector<std::string> cgroups;  // [CTRL[,CTRL]:]PATH, in order (a later one wins)
  std::string pid_file, console_socket;
  std::string pidfd_socket;  // AF_UNIX socket that receives a pidfd of the process (runc 1.2)
  bool ignore_paused = false, detach = false, tty = false;
  int preserve_fds = 0;
};

// checkpoint (runc's flags, see docs/checkpoint.md): a running or paused container to criu images.
struct CheckpointOptions {
  std::string root = "/run/oci-rt", id, criu = "criu";
  std::string image_path, work_path, parent_path;  // image_path: required (the CLI defaults it)
  std::string page_server;                         // ADDRESS:PORT
  std::string manage_cgroups_mode;                 // soft, full, strict, ignore ("" criu's default)
  std::vector<std::string> empty_ns;               // only "network"
  bool leave_running = false, tcp_established = false, ext_unix_sk = false, shell_job = false,
       lazy_pages = false, file_locks = false, pre_dump = false, auto_dedup = false;
  int status_fd = -1;
};

// restore: a new container from a bundle and criu images (its init the restored process).
struct RestoreOptions {
  CreateOptions create;  // root, id, bundle, pid_file, console_socket, systemd_cgroup
  std::string criu = "criu", image_path, work_path, manage_cgroups_mode, lsm_profile, lsm_mount_context;
  std::vector<std::string> empty_ns;
  bool tcp_established = false, ext_unix_sk = false, shell_job = false, file_locks = false, auto_dedup = false,
       lazy_pages = false, detach = false;
};

// exec's user as given (runc's --user): "UID", "UID:GID", "NAME", "NAME:GROUP". Numbers go to
// uid/gid; a name to user_name, resolved inside the container. Throws Invalid on "", ":x", "x:".
void parse_exec_user(const std::string& user, ExecOptions& o);

// A container process the caller waits for: a foreground run's init or an exec'd process. It is
// the caller's child. Dropping it closes what it holds; it never kills or waits.
class Process {
 public:
  Process(pid_t pid, Fd pidfd, Fd pty_master, Fd notify = Fd(), std::string notify_host = "");
  Process(Process&&) = default;
  Process& operator=(Process&&) = default;
  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }        // readable (poll) once the process has exited
  int pty_master() const { return master_.get(); }  // the terminal's master when the caller holds it, else -1
  int notify_fd() const { return notify_.get(); }   // readable when the container sent sd_notify; else -1
  // Takes what came on notify_fd(); on READY=, passes MAINPID and it on to the caller's
  // NOTIFY_SOCKET (runc's relay) and stops listening (notify_fd() is -1 then).
  void relay_notify();
  int kill(int sig) const;  // sends it signal sig: 0, or -1 with errno
  int wait();                 // reaps it: the exit status, or 128+N for signal N
  void close_pty() { master_.reset(); }

 private:
  pid_t pid_;
  Fd pidfd_, master_, notify_;
  std::string notify_host_;
};

struct ContainerInfo {
  state::Record record;
  state::Status status;
};

// create: returns once the container is created and waiting for start.
void create(const CreateOptions& o);
// start: with notify_socket (the caller's NOTIFY_SOCKET) and a container created with one, waits
// for the container's READY=1 and passes MAINPID and it on, as runc does.
void start(const std::string& root, const std::string& id, const std::string& notify_socket = "");
// run --detach: create + start; a container that cannot start is deleted.
void run(const CreateOptions& o);
// run in the foreground: created, started (poststart hooks run), returned to the caller to wait
// on. Without a console socket and with process.terminal, the caller holds the pty master.
// After the process exits the caller deletes the container (destroy with force), unless it
// keeps it. The caller blocks the signals it forwards before calling: the init unblocks them.
// A failure before the process runs deletes the container unless keep.
Process run_attached(const CreateOptions& o, bool keep);
// exec: a new process in a created or running container, returned once it has been executed
// (its exec failed: ErrorKind::Failed). Without detach and without a console socket, with a
// terminal, the caller holds the pty master.
Process exec(const ExecOptions& o);
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

// checkpoint: criu dumps the container (PRE_DUMP with pre_dump); without leave_running or
// pre_dump the container is gone afterwards (its processes, cgroup and state; poststop hooks
// run). Refused (nothing changed) for a created or stopped container, a bad option, criu missing
// or failing; criu's errors name its log.
void checkpoint(const CheckpointOptions& o);
// restore: returns the restored init (the caller's child). A failure removes the new container.
// Without detach and without a console socket, with a terminal, the caller holds the pty master.
Process restore(const RestoreOptions& o);

// The state's timestamps and log lines: RFC 3339 in UTC with nanoseconds.
std::string now_rfc3339();

// CVE-2019-5736: re-executes this process from a detached read-only bind of its own binary,
// unless that binary is on a read-only mount already. Call first thing in a front end that
// creates or execs containers. Returns only if nothing needed to be done; throws on failure.
void protect_binary(char** argv);

// Host facts of running without root, read once (root in a user namespace other than the
// initial one counts, as under rootless podman).
// runc's --rootless auto: not root, or root in a user namespace; never with systemd_cgroup.
bool rootless_default(bool systemd_cgroup);
// The state root when --root is not given, as runc: $XDG_RUNTIME_DIR/oci-rt when that is set and
// we are not root (or are root in a user namespace, unless USER is "root"), else /run/oci-rt.
// A $XDG_RUNTIME_DIR one is made (0700, sticky, as runc: it is not cleaned up behind our back).
std::string default_state_root();

}  // namespace ocirt
