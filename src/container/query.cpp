// state and list: a container's record and derived status, and every container's.
#include "ocirt/container.hpp"
#include "ocirt/error.hpp"
#include "src/container/internal.hpp"

namespace ocirt {

ContainerInfo get_state(const std::string& root, const std::string& id) {
  state::Dir dir = state::Dir::open(root, id, false);
  state::Record r = dir.load();
  state::Status status = state::derive_status(r, dir.fd());
  return ContainerInfo{std::move(r), status};
}

std::vector<ContainerInfo> list_all(const std::string& root) {
  std::vector<ContainerInfo> out;
  for (auto& id : state::list_ids(root)) {
    try {
      out.push_back(get_state(root, id));
    } catch (const Error&) {
      // a slot being created (no state.json yet) or invalid: not listed
    }
  }
  return out;
}

}  // namespace ocirt
