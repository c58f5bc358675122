// criu's RPC (`criu swrk`): one criu process per request, driven over a SOCK_SEQPACKET
// socketpair with the protobuf messages of criu's rpc.proto (C code generated at build time by
// protoc-c). What runc does (libcontainer/container_linux.go criuSwrk), without its Go.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "ocirt/fd.hpp"

struct CriuOpts;

namespace ocirt::criu {

// What a request needs besides its options.
struct Call {
  std::string criu = "criu";  // the binary (PATH lookup without a slash)
  int type = 0;               // CRIU_REQ_TYPE__DUMP, __PRE_DUMP, __RESTORE, __VERSION
  // criu's fds 0..2 (-1: /dev/null) and 4.. (the fds named by inherit_fd), at those numbers
  int stdio[3] = {-1, -1, -1};
  std::vector<int> extra;
  std::string log_path;  // the log criu writes (for the error message)
  // criu has started (its pid): before the request is sent (restore puts it in the cgroup and
  // may add options, e.g. cg_root)
  std::function<void(pid_t, CriuOpts*)> started;
  // a notification: the script's name, its pid (0 if none) and the fd that came with it (-1);
  // an exception makes criu fail the request (it is answered with success only on return)
  std::function<void(const std::string&, pid_t, int)> notify;
};

// The version as runc computes it: major*10000 + minor*100 + sublevel (a git build rounds up).
// Throws naming the reason (criu missing, not answering).
int version(const std::string& criu);

// Sends the request (opts as filled by the caller; images_dir_fd is required) and handles
// notifications until criu's final answer. Returns the restored pid for RESTORE (0 otherwise).
// Throws Error("criu failed: type X errno N\nlog file: PATH" + the log's first errors).
pid_t run(Call& c, CriuOpts* opts);

// The first few "Error (" lines of a criu log, each on its own line prefixed with two spaces.
std::string log_errors(const std::string& path);

}  // namespace ocirt::criu
