// Namespace names (linux.namespaces[].type) to their CLONE_NEW* flags.
#include <sched.h>

#include "src/linux/linux.hpp"

namespace ocirt::linux_ {

unsigned long ns_flag(const std::string& type) {
  if (type == "mount") return CLONE_NEWNS;
  if (type == "pid") return CLONE_NEWPID;
  if (type == "network") return CLONE_NEWNET;
  if (type == "uts") return CLONE_NEWUTS;
  if (type == "ipc") return CLONE_NEWIPC;
  if (type == "user") return CLONE_NEWUSER;
  if (type == "cgroup") return CLONE_NEWCGROUP;
  if (type == "time") return CLONE_NEWTIME;
  return 0;
}

}  // namespace ocirt::linux_
