// Cgroups: one Manager interface over the v1, hybrid and v2 layouts. The layout is detected
// from filesystem types (statfs), never from directory names. Each controller is used where
// the host has it: a v1 hierarchy that carries it, else the v2 hierarchy if it is enabled
// there (on a hybrid host hugetlb may live in the cgroup2 mount while the rest is v1).
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ocirt/fd.hpp"
#include "ocirt/spec.hpp"

namespace ocirt::cgroups {

enum class Layout { None, V1, Hybrid, V2 };

struct Hierarchy {
  std::string controllers;  // "cpu", "cpu,cpuacct", "name=systemd"; "" for the v2 hierarchy
  std::string mount;        // where the host has it mounted
  std::string own_path;     // this process's cgroup in it (from /proc/self/cgroup)
  bool v2 = false;
  bool has(std::string_view controller) const;  // v1: in the list; v2: in the root's cgroup.controllers
};

struct System {
  Layout layout = Layout::None;
  std::vector<Hierarchy> hierarchies;
  std::vector<std::string> v2_controllers;  // enabled in the v2 root (cgroup.controllers)
  static const System& get();               // detected once per process
};

const char* layout_name(Layout l);

// What the container's cgroup will be: the leaf in every hierarchy and the directories that
// do not exist yet (parents first). Recorded in the state before anything is created.
struct Plan {
  std::vector<std::string> leaves;
  std::vector<std::string> to_create;
  std::string path;  // the cgroups path inside each hierarchy, e.g. "/myid"
  std::string unit;   // the systemd driver: the container's unit ("oci-rt-myid.scope"); else ""
  std::string slice;  // ... and its slice ("system.slice"), at create only (not recorded)
  bool rootless = false;  // runc's rootless rules: device rules tried, a refusal ignored; a limit
                          // on a dropped hierarchy fails in runc's words (see drop_unwritable)
};

// cgroupsPath as runc: absolute below each hierarchy's root; relative below this process's
// cgroup (v1) or its parent (v2, whose own cgroup has processes and cannot have children with
// controllers); empty: "/<id>". ".." and the root cgroup are refused (linux.cgroupsPath errors).
// A pure decision: the host is `host` (its hierarchies and this process's own cgroup in each),
// and `exists` says which directories are there already; the rest is ours (to_create).
Plan plan(const System& host, const std::string& cgroups_path, const std::string& id,
          const std::function<bool(const std::string&)>& exists);
// The same for this host (System::get(), stat).
Plan plan(const std::string& cgroups_path, const std::string& id);

// Rootless without a cgroupsPath (runc's rule): the hierarchies where this process may not make
// (no write access to the parent of the first dir to make) or join (no write access to an
// existing leaf's cgroup.procs) the planned cgroup are dropped from p, leaves and to_create;
// returns the dropped leaves. Sets p.rootless.
std::vector<std::string> drop_unwritable(Plan& p);

// How a container's cgroup comes to be and goes. Cgroupfs: the runtime makes and removes the
// dirs itself, on the v1, hybrid and v2 layouts alike (the Manager takes each controller where
// the host has it). Systemd: a transient unit holds the container, made over D-Bus once the init
// exists, its resources set as unit properties and then as files. Chosen once, at create, and
// recorded in the state: every later operation uses the driver that made the cgroup. What both
// share (freezer, pids, stats, OOM events, signals) is the Manager's, over the leaves.
enum class DriverKind { Cgroupfs, Systemd };
const char* driver_name(DriverKind k);

class Driver {
 public:
  virtual ~Driver() = default;
  virtual DriverKind kind() const = 0;
  // Where the container will be: recorded before anything is made. Errors name linux.cgroupsPath.
  virtual Plan plan(const std::string& cgroups_path, const std::string& id) const = 0;
  // Before the init exists: what can be made then. True when the cgroup is there and configured
  // (apply()) before the init: it may be cloned straight into leaves[0] on a v2 host. The plan
  // may grow (a parent made again, see Manager::create): `record` saves it before that is made.
  virtual bool prepare(Plan& p, const std::function<void(const Plan&)>& record) const = 0;
  // The init is cloned and waits: put it in place, unless it was cloned into its cgroup.
  virtual void place(const Plan& p, pid_t pid, bool cloned_into, const std::map<std::string, std::string>& annotations,
                     const spec::Resources& r) const = 0;
  // linux.resources (at create, or `update` with update=true); returns warnings.
  virtual std::vector<std::string> apply(const Plan& p, const spec::Resources& r, bool devices, bool update) const = 0;
  // Remove what the container owns (see Manager::destroy); a unit is stopped.
  virtual void destroy(const Plan& p, bool kill_processes) const = 0;
};

// The driver of a kind; Systemd throws Error(Invalid, "systemd_cgroup", ...) where systemd is
// not running (no /run/systemd/system) or this build has no D-Bus client.
const Driver& driver(DriverKind k);

// Stats in the shape of runc's `events` data (see Manager::stats_json).
class Manager {
 public:
  // leaves: one dir per hierarchy, as recorded in the state (any order).
  explicit Manager(std::vector<std::string> leaves);

  // mkdir what the plan says (enabling v2 controllers on the way down; cpuset copied on v1).
  // A parent that was there at plan time but is gone at its child's mkdir (another container's
  // delete removed it, empty, meanwhile) is made again and becomes ours: added to p.to_create,
  // and `record` is called with the grown plan before it is made (the state says it first).
  static void create(Plan& p, const std::function<void(const Plan&)>& record = {});
  // Writes linux.resources. update=true: an `update` of a live container (checkBeforeUpdate,
  // the v1 memory/swap write order against the current values). Errors name the field.
  // devices: (re)write the device rules: resources.devices, then runc's default allows, from
  // deny-all as runc does (a live v1 cgroup gets only the difference). Returns warnings
  // (settings this host ignores).
  std::vector<std::string> apply(const spec::Resources& r, bool devices, bool update = false) const;
  void add_process(pid_t pid) const;
  // exec --cgroup, each "path" (every hierarchy) or "ctrl[,ctrl]:path" (those controllers'
  // ones), in order: a sub-cgroup that must exist below the container's ("/" is the container's
  // own); returns the leaves to join. Errors in runc's words.
  static std::vector<std::string> sub_leaves(const std::vector<std::string>& leaves,
                                             const std::vector<std::string>& specs);
  // pause/resume: waits until the kernel reports the cgroup frozen (or thawed).
  void freeze(bool frozen) const;
  bool frozen() const;
  // The file whose content says frozen: v1 freezer.state or v2 cgroup.freeze ("" if none).
  std::string freeze_file() const;
  bool can_freeze() const;
  std::vector<pid_t> pids() const;
  // Signal every process in the cgroup (the init included).
  void signal_all(int sig) const;
  // The runc `events` data object: {"cpu":...,"memory":...,"pids":...,"blkio":...,"hugetlb":...}.
  std::string stats_json() const;
  // An fd that becomes readable (poll) on an OOM kill, and a check that consumes the event:
  // v1 memory.oom_control eventfd, v2 inotify on memory.events. -1 when there is no memory
  // controller.
  int oom_fd();
  bool oom_happened();
  // Remove what a container owns: the leaves we created (and sub-cgroups inside them); a parent
  // we created only if it is empty, never killed in. kill_processes (the container has no pid
  // namespace of its own): what runs in the leaves is killed first.
  static void destroy(const std::vector<std::string>& leaves, const std::vector<std::string>& created,
                      bool kill_processes);
  const std::string& leaf_of(std::string_view controller) const;  // "" if none
  bool v2_for(std::string_view controller) const;
  const std::string& v2_dir() const;  // the leaf in the v2 hierarchy; "" if none
  // Rootless: a resource whose controller has no leaf is refused in runc's words ("cannot set
  // memory limit: container could not join or create cgroup").
  void set_rootless(bool on) { rootless_ = on; }
  bool rootless() const { return rootless_; }

 private:
  struct Leaf {
    std::string dir;
    const Hierarchy* h = nullptr;
  };
  std::vector<Leaf> leaves_;
  bool rootless_ = false;
  Fd oom_fd_;  // the OOM notification fd, when asked for
  uint64_t oom_kills_ = 0;
  const Leaf* find(std::string_view controller) const;
  const Leaf* v2_leaf() const;
};

// Device rules as the kernel's v1 devices controller would end up with them: a default and
// the exceptions, in order. Exposed for the unit tests and the eBPF filter.
struct DeviceRule {
  char type = 'a';  // 'a', 'c', 'b'
  int64_t major = -1, minor = -1;  // -1: any
  unsigned access = 7;             // 1 mknod, 2 read, 4 write
};
struct DeviceState {
  bool allow_by_default = true;
  std::vector<DeviceRule> exceptions;
};
// The rules the container gets: the config's, then runc's default allows exactly (mknod of any
// char/block device; null, zero, full, tty, random, urandom, ptmx, the pts, /dev/net/tun). A
// linux.devices entry gets no rule of its own (runc).
std::vector<std::pair<bool, DeviceRule>> device_rules(const std::vector<spec::DeviceCgroup>& rules);
// Starting from deny-all (runc's emulator does the same).
DeviceState emulate(const std::vector<std::pair<bool, DeviceRule>>& rules);
// A v1 devices.list as a state (a default-allow list shows no exceptions).
DeviceState parse_device_list(const std::string& text);
// The writes (file, rule) that take a live v1 cgroup from `cur` to `target` without denying,
// even for a moment, what both allow (runc's transition); "a" first only when it must reset.
std::vector<std::pair<std::string, std::string>> device_transition(const DeviceState& cur, const DeviceState& target);
// eBPF (BPF_PROG_TYPE_CGROUP_DEVICE) instructions for a state; 8-byte bpf_insn each.
std::vector<uint64_t> device_filter(const DeviceState& s);

// Size parsing for `update` (runc's RAMInBytes: 512, 64k, 128m, 1g, 1.5g; -1).
int64_t parse_bytes(const std::string& s);

}  // namespace ocirt::cgroups
