// Internal interface of the process-creation code: what the parent hands the child.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "ocirt/cgroups.hpp"
#include "ocirt/fd.hpp"
#include "ocirt/spec.hpp"
#include "src/linux/attributes.hpp"
#include "src/linux/mount_plan.hpp"

namespace ocirt::linux_ {

class SeccompFilter;

struct InitContext {
  const spec::Config* cfg = nullptr;
  std::string id, bundle, rootfs;  // absolute host paths
  int sync_fd = -1;
  int fifo_fd = -1;                // O_PATH fd of the exec fifo; -1: wait for sync Start instead
  struct Join {
    int fd;
    int type;  // CLONE_NEW*
    std::string what;
  };
  std::vector<Join> joins;         // namespaces the child joins by path (net, ipc, uts, cgroup, mount)
  int pidns_fd = -1;               // a pid namespace the runtime could not enter for the clone: the
  std::string pidns_what;          // init joins it after the others and is reborn in it
  bool new_userns = false;          // in a user namespace of its own: new, or joined by path
  int userns_fd = -1;                // linux.namespaces' user by path: joined first, after Go; the
  std::string userns_what;           // namespaces to create then (owned by that user namespace) are
  unsigned long unshare_flags = 0;   // unshared, and a new pid namespace is made by a rebirth
  bool new_pidns_in_userns = false;
  // The runtime is not root (rootless): its binds are made by the init in its own user and mount
  // namespaces, and the init stays dumpable until its id maps are written (newuidmap needs
  // that); see spawn().
  bool rootless = false;
  bool dumpable_until_go = false;  // set by spawn(): cloned dumpable, cleared after Go
  bool unshare_cgroupns = false;   // cgroup namespace is made after the cgroup is joined
  bool no_pivot = false, no_new_keyring = false;
  bool console = false;            // process.terminal with a console socket
  int preserve_fds = 0;
  const cgroups::Plan* cgroup = nullptr;
  std::vector<int> mount_trees;    // per mount: a detached tree made by the parent (idmapped, or a bind
                                   // opened before the user namespace), or -1
  std::optional<MountPlan> mounts;  // the parent's plan_mounts(cfg, mount_host(ctx)), made before clone
  SeccompFilter* seccomp = nullptr;  // compiled (or taken from the cache) by the parent
  Lsm lsm;                         // which LSMs the host has (decided by the parent)
};

// The child after clone: sets the container up, reports Created, waits for start, execs.
[[noreturn]] void init_main(InitContext& ctx);

// rootfs.cpp (run in the child, in its mount namespace)
// The host facts of a mount plan, from what the parent put in ctx (bundle, user namespace,
// SELinux, the cgroup layout and leaves).
MountHost mount_host(const InitContext& ctx);
void prepare_rootfs(InitContext& ctx);            // propagation, rootfs bind, config mounts, /dev
void enter_rootfs(const InitContext& ctx);        // pivot_root or chroot (--no-pivot)
void finish_rootfs(const InitContext& ctx);       // masked/readonly paths, readonly root (after prepare_rootfs)
// In the parent (host root): the detached bind tree for a ParentTree step, attributes set,
// idmapped with userns_fd when that is not -1.
Fd prepare_bind_tree(const MountStep& s, int userns_fd);

// devices.cpp
void setup_dev(const InitContext& ctx, int rootfd, bool dev_is_tmpfs);

// identity.cpp
void apply_rlimits(const spec::Process& p);
// groups, uid/gid, caps, nnp, umask; what the kernel refused but runc only warns about goes to warnings
void apply_identity(const spec::Process& p, bool in_userns, std::vector<std::string>& warnings);
// PATH lookup inside the container; throws runc's words ("executable file not found in $PATH").
std::string find_executable(const spec::Process& p);

// HOME for the process when its env has none: the user's home in the container's /etc/passwd,
// else "/" (as runc). "" when the env sets HOME.
std::string home_of(const spec::Process& p);
// exec --user NAME|UID[:GROUP|GID], resolved in the container's /etc/passwd and /etc/group
// (we are inside its mount namespace): uid, primary gid, supplementary groups. Throws runc's words.
void resolve_user(const std::string& spec, spec::User& u);
// execve(exe, process.args, process.env [+ HOME=home]); returns only on failure, with errno.
int exec_process(const std::string& exe, const spec::Process& p, const std::string& home = "");

// namespaces.cpp
unsigned long ns_flag(const std::string& type);

}  // namespace ocirt::linux_
