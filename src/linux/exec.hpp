// The process side of `exec` (see exec.cpp).
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

#include "ocirt/fd.hpp"
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
  int preserve_fds = 0;
  int cgroup_fd = -1;  // v2: CLONE_INTO_CGROUP
  bool console = false;  // a pty whose master goes to `on_console`
  std::string user;      // exec --user with a name: resolved in the container's /etc/passwd
  Lsm lsm;               // which LSMs the host has (decided before clone)
};

struct ExecSpawned {
  pid_t pid = -1;
  Fd pidfd, sync;
};

// Returns once the process is set up and waits for sync Start. Of the hooks: on_clone (joins v1
// cgroups), console (the pty master) and seccomp_listener (SCMP_ACT_NOTIFY) are used.
ExecSpawned spawn_exec(ExecRequest& r, int init_pidfd, const SpawnHooks& on);

}  // namespace ocirt::linux_
