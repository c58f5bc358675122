// What include/ocirt/error.hpp declares and does not define inline: throw_errno.
#include <cstring>

#include "ocirt/error.hpp"

namespace ocirt {

void throw_errno(const std::string& step, int err) {
  throw Error(step + ": " + std::strerror(err), err);
}

}  // namespace ocirt
