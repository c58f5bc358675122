// Passing a file descriptor over a unix socket (SCM_RIGHTS).
#pragma once

#include <cstddef>
#include <string>

#include "ocirt/fd.hpp"

namespace ocirt::sys {

// A unix stream socket (close-on-exec, non-blocking) connected to `path` (shorter than
// sun_path: the caller checks). connect(2) on a blocking socket waits forever when the
// listener's backlog is full (a receiver that stopped accepting): here each try is
// non-blocking, retried for at most kConnectWaitMs, then EAGAIN. Throws with `what`.
constexpr int kConnectWaitMs = 5000;
Fd connect_unix(const std::string& path, const std::string& what);

// One sendmsg of data with one fd attached; throws with `what` (on a non-blocking socket whose
// peer does not read and whose buffer is full: EAGAIN, never a wait).
void send_with_fd(int sock, const void* data, size_t len, int fd, const std::string& what);

}  // namespace ocirt::sys
