// delete: a stopped or created container's processes, cgroups and state dir; with force any.
#include <optional>

#include "ocirt/container.hpp"
#include "ocirt/error.hpp"
#include "src/container/internal.hpp"

namespace ocirt {

void destroy(const std::string& root, const std::string& id, bool force) {
  state::check_id(id);
  std::optional<state::Dir> dir;
  try {
    dir.emplace(state::Dir::open(root, id));
  } catch (const Error& e) {
    if (force && e.kind() == ErrorKind::NotFound) return;
    throw;
  }
  if (!dir->has_record()) {  // a create that died before recording anything
    dir->remove();
    return;
  }
  state::Record r = dir->load();
  // The spec: deleting a container that is not stopped is an error. A created one is killed and
  // removed, as runc and crun do (containerd's shim deletes a never-started task so). With force
  // any status goes: none is derived.
  using state::Status;
  if (!force) {
    const Status status = state::derive_status(r, dir->fd());
    if (status != Status::Stopped && status != Status::Creating && status != Status::Created)
      throw Error(ErrorKind::State, "",
                  "cannot delete container " + id + " that is not stopped: " + state::status_name(status), EBUSY);
  }
  container::teardown(*dir, r, r.status != Status::Creating);
}

}  // namespace ocirt
