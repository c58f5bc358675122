// exec --user as given (container.hpp: parse_exec_user). On its own: the CLI's argument
// parsing (tests/fuzz/cli.cpp) links it without the rest of exec.
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "ocirt/container.hpp"
#include "ocirt/error.hpp"

namespace ocirt {

void parse_exec_user(const std::string& user, ExecOptions& o) {
  char* end;
  unsigned long uid = strtoul(user.c_str(), &end, 10);
  bool numeric = end != user.c_str() && (!*end || *end == ':');
  std::optional<unsigned long> gid;
  if (numeric && *end == ':') {
    const char* g = end + 1;
    gid = strtoul(g, &end, 10);
    numeric = end != g && !*end;
  }
  if (user.empty() || user[0] == ':' || user.back() == ':')
    throw Error(ErrorKind::Invalid, "user", "\"" + user + "\" is not user[:group]", EINVAL);
  if (!numeric || uid > UINT32_MAX || (gid && *gid > UINT32_MAX)) {
    o.user_name = user;  // NAME[:GROUP]: the container's /etc/passwd and /etc/group decide
    o.uid.reset();
    o.gid.reset();
    return;
  }
  o.user_name.clear();
  o.uid = static_cast<uint32_t>(uid);
  if (gid) o.gid = static_cast<uint32_t>(*gid);
}

}  // namespace ocirt
