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
  // The runtime may not enter the container's pid namespace itself (rootless: that needs
  // CAP_SYS_ADMIN in our own user namespace too): the child joins it with the user namespace and
  // clones the process that goes on (see sync::Type::Reborn).
  bool pidns_in_child = false;
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
