// Passing a file descriptor over a unix socket (SCM_RIGHTS).
#pragma once

#include <cstddef>
#include <string>

namespace ocirt::sys {

// One sendmsg of data with one fd attached; throws with `what`.
void send_with_fd(int sock, const void* data, size_t len, int fd, const std::string& what);

}  // namespace ocirt::sys
