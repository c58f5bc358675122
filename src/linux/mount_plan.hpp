// Mount planning: what the container's filesystem set-up will do with the config's mounts,
// decided with no system call from the config and host facts passed in as values (unit-tested
// without root). rootfs.cpp executes a plan; nothing here touches the host.
#pragma once

#include <sys/mount.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ocirt/cgroups.hpp"
#include "ocirt/spec.hpp"
#include "src/spec/mount_options.hpp"

namespace ocirt::linux_ {

// The host facts a plan depends on.
struct MountHost {
  std::string bundle;       // absolute: a relative bind source is below it
  bool new_userns = false;  // the init gets a new user namespace: the parent opens every bind
  bool rootless = false;    // the runtime cannot mount (not root): the init makes its binds itself, in
                            // its own user namespace; no idmapped mounts
  bool selinux = false;     // SELinux is on: linux.mountLabel labels the filesystems we mount
  const cgroups::System* cgroups = nullptr;                 // the layout, for a "cgroup" mount
  const std::vector<std::string>* cgroup_leaves = nullptr;  // the container's leaf per hierarchy
};

enum class MountKind {
  ParentTree,  // made whole by the parent (host root) as a detached tree: idmapped, or a bind when
               // the init gets a new user namespace (it could not reach the source); the init
               // only attaches it
  Bind,        // a host path, cloned (open_tree), attributes set while detached, then attached
  Cgroup,      // /sys/fs/cgroup as the layout allows (see CgroupMount)
  Filesystem,  // a fresh filesystem: mount(2)
};

// One mount below a cgroup mount's tmpfs (v1, hybrid), or the mount itself (v2).
struct CgroupSub {
  std::string name;                // the directory in the tmpfs ("memory", "cpu,cpuacct", "unified")
  std::string fstype;              // with a cgroup namespace: "cgroup" or "cgroup2", mounted fresh
  std::string data;                // with a cgroup namespace on v1: the controllers
  std::string bind_source;         // without one: the container's leaf, bound ("" with a namespace)
  std::string fallback_source;     // v2 with one: bound when the kernel refuses a fresh cgroup2 (EPERM, or
                                   // EBUSY: the host's cgroup2 is already there, from a /sys rbind), as runc
  std::vector<std::string> links;  // co-mounted controllers' symlinks to name (cpu -> cpu,cpuacct)
};

struct CgroupMount {
  bool tmpfs = false;  // v1 and hybrid: a tmpfs holding one mount per hierarchy; v2: subs[0] alone
  std::vector<CgroupSub> subs;
};

struct MountStep {
  size_t index = 0;                     // mounts[index]
  const spec::Mount* mount = nullptr;   // the config's entry (outlives the plan)
  MountKind kind = MountKind::Filesystem;
  std::string dest;                     // absolute, resolved inside the rootfs
  std::string source;                   // binds: the host path (a relative one below the bundle)
  std::string what;                     // the error prefix: "mount SOURCE on DEST"
  spec::MountOptions opts;              // the options, parsed once; a Filesystem's data carries
                                        // the mount label
  unsigned long flags = 0;              // Filesystem: the mount(2) flags (/dev: without MS_RDONLY,
                                        // made read-only once its devices exist)
  uint64_t propagation = 0;             // MS_SHARED, MS_SLAVE, MS_PRIVATE or MS_UNBINDABLE, or 0
  bool propagation_recursive = false;   // ... for the whole tree (rshared, ...)
  bool ordinary_dir = false;            // proc, sysfs: only on a real directory, never a symlink
  const char* host_fallback = nullptr;  // sysfs, mqueue: the host's, bound, when the kernel refuses
                                        // a fresh one (no net or ipc namespace of our own)
  bool idmap = false;                   // ParentTree: idmapped
  CgroupMount cgroup;                   // Cgroup
};

struct MountPlan {
  bool skipped = false;                     // no mount namespace: nothing is mounted
  unsigned long host_propagation = MS_SLAVE | MS_REC;  // "/" before anything: nothing reaches the host
  unsigned long root_propagation = 0;       // linux.rootfsPropagation, for the container's / after
                                            // pivot_root (0: left as it is)
  std::vector<MountStep> steps;             // in the config's order
  bool dev_tmpfs = false;                   // a fresh filesystem on /dev (setup_dev fills it)
  bool setup_dev = true;                    // false when /dev is bound: its nodes are the caller's
  bool dev_readonly = false;                // /dev mounted "ro": read-only once its devices exist
  std::vector<std::string> warnings;        // what is ignored (filesystem data on a bind, ...)
};

// The rules for mounts[i] on their own (validation): ".." in the destination, an unknown flag
// on a bind mount, tmpcopyup off a tmpfs, idmapped mounts that cannot be. Throws Error naming
// the JSON path (mounts[3].options[1]: ...); returns the parsed options.
spec::MountOptions check_mount(const spec::Config& cfg, size_t i);

// The plan for the config's mounts, each checked by check_mount. No system call.
MountPlan plan_mounts(const spec::Config& cfg, const MountHost& host);

}  // namespace ocirt::linux_
