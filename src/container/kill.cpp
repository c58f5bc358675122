// kill: a signal to the container's init, or (all) to every process in its cgroup.
#include "ocirt/cgroups.hpp"
#include "ocirt/container.hpp"
#include "ocirt/error.hpp"
#include "src/container/internal.hpp"
#include "src/linux/processes.hpp"

namespace ocirt {

void kill(const std::string& root, const std::string& id, int sig, bool all) {
  state::Dir dir = state::Dir::open(root, id, false);
  state::Record r = dir.load();
  state::Status status = state::derive_status(r, dir.fd());
  Fd pidfd = container::live_pidfd(r);
  // --all reaches what is left in the cgroup even once the init is gone (runc: no error)
  if (all && !r.cgroup_leaves.empty()) {
    cgroups::Manager(r.cgroup_leaves).signal_all(sig);
    return;
  }
  // --all without a cgroup (rootless, none delegated): only the init is known; a stopped
  // container has nothing left to signal, and that is no error (runc 1.1)
  if (all && (status == state::Status::Stopped || !pidfd)) return;
  if (status == state::Status::Stopped || !pidfd) throw Error(ErrorKind::State, "", "container not running", ESRCH);
  if (sys::pidfd_send_signal(pidfd.get(), sig) < 0) throw_errno("kill container " + id);
}

}  // namespace ocirt
