// The process side of `exec`: a new process in a running container, cloned into its pid
// namespace and cgroup, joining every other namespace of the init through its pidfd, then the
// steps every container process takes (finalize.hpp).
#pragma once

#include <sys/types.h>

#include <string>

#include "ocirt/spec.hpp"
#include "src/linux/attributes.hpp"
#include "src/linux/process.hpp"

namespace ocirt::linux_ {

class SeccompFilter;

struct ExecRequest {
  spec::Process process;
  SeccompFilter* seccomp = nullptr;  // compiled (or from the cache) before the clone
  unsigned long ns_flags = 0;  // CLONE_NEW* of the container's namespaces, pid excluded
  bool userns = false;
  // How the process gets into the container's pid namespace. ForClone: the runtime enters it for
  // the clone. InChild: the runtime may not (entering, or coming back, needs CAP_SYS_ADMIN in
  // the initial user namespace: rootless, or root in rootless podman's user namespace), so the
  // child joins it with the others and clones the process that goes on (sync::Type::Reborn).
  // Shared: the container has no pid namespace of its own; nothing to enter.
  enum class PidNs { ForClone, InChild, Shared } pidns = PidNs::ForClone;
  int preserve_fds = 0;
  int cgroup_fd = -1;  // v2: CLONE_INTO_CGROUP
  bool console = false;  // a pty whose master goes to the console hook
  std::string user;      // a user name: resolved in the container's /etc/passwd and /etc/group
  Lsm lsm;               // which LSMs the host has (decided before clone)
};

// Returns once the process is set up and waits for sync Start. Of the hooks: on_clone (joins v1
// cgroups), console (the pty master) and seccomp_listener (SCMP_ACT_NOTIFY) are used.
Child spawn_exec(ExecRequest& r, int init_pidfd, const SpawnHooks& on);

}  // namespace ocirt::linux_
