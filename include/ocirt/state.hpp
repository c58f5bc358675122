// The state root: one directory per container, taken atomically, locked per operation,
// holding state.json (written atomically) and the exec fifo.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ocirt/fd.hpp"
#include "ocirt/spec.hpp"

namespace ocirt::state {

// The OCI states, plus paused (runc's). "creating" lasts until create has finished.
enum class Status { Creating, Created, Running, Paused, Stopped };
const char* status_name(Status s);

// What we persist. Everything cleanup needs is recorded before it is made.
struct Record {
  std::string oci_version, id, bundle, rootfs, created, owner, boot_id;
  Status status = Status::Creating;  // Creating until create finished, then Created
  pid_t pid = 0;
  uint64_t start_time = 0;  // /proc/PID/stat field 22: a reused pid is never ours
  bool has_process = true;  // config.json had a process (start refuses otherwise)
  bool private_pidns = true;  // a pid namespace of its own: the init's death empties its cgroup
  std::map<std::string, std::string> annotations;
  std::vector<std::string> cgroup_leaves;   // absolute dirs the container is placed in
  std::vector<std::string> cgroup_created;  // dirs we create, parents first: a leaf is ours; a
                                            // parent is removed only when empty, never killed in
  std::string cgroup_freeze_file;           // freezer.state (v1) or cgroup.freeze (v2): paused?
  std::string cgroup_driver;                // "" (cgroupfs) or "systemd": who made the cgroup
  std::string cgroup_unit;                  // the systemd driver: the container's unit
  std::vector<spec::Hook> poststart, poststop;
  // What the init's fds 0..2 were at create (runc's external_descriptors: readlink targets such
  // as pipe:[N], /dev/null, /dev/pts/N): a checkpoint hands criu the pipes' names, and restore
  // maps them to its own stdio (inherit_fd). After a restore: criu's stdio.
  std::vector<std::string> external_descriptors;
};

// The exec fifo in a container's state dir: there from create until start.
inline constexpr const char kExecFifo[] = "exec.fifo";

// Is the container's cgroup frozen (paused)? The freeze file recorded at create, one read.
bool frozen(const Record& r);
// Status derived from the record and the live system.
Status derive_status(const Record& r, int dirfd);
std::string to_json(const Record& r);
Record from_json(const std::string& text);
// The `state` output (runc's shape); status as derived, pid 0 once stopped. Hooks get it compact.
std::string state_json(const Record& r, Status status, bool pretty = true);

// Container ids: [A-Za-z0-9][A-Za-z0-9_.+-]{0,1023}. Throws on anything else.
void check_id(const std::string& id);

class Dir {
 public:
  // Take a new slot: mkdir <root>/<id> (fails if it exists) and lock it. On destruction the
  // slot is removed unless commit() was called.
  static Dir claim(const std::string& root, const std::string& id);
  // Open an existing container's dir; throws ErrorKind::NotFound.
  static Dir open(const std::string& root, const std::string& id, bool lock = true);

  Dir(Dir&&) = default;
  ~Dir();
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  const std::string& id() const { return id_; }
  bool has_record() const;
  Record load() const;
  void save(const Record& r) const;
  // The config as create read it: `exec` and `update` use it, never the bundle's config.json
  // of today (editing the bundle after create changes nothing of a container).
  void save_config(const std::string& json_text) const;
  std::string load_config() const;
  void commit() { owned_ = false; }
  // Remove the dir and everything in it (state.json, fifo, temp files).
  void remove();

 private:
  Dir() = default;
  Fd fd_;
  std::string root_, id_, path_;
  bool owned_ = false;
};

std::vector<std::string> list_ids(const std::string& root);

}  // namespace ocirt::state
