// Running OCI hooks: state JSON on stdin, the hook's args and env, an optional timeout.
#pragma once

#include <string>
#include <vector>

#include "ocirt/spec.hpp"

namespace ocirt::hooks {

// Runs each hook in order, in `dir` when given (runc: the bundle for the runtime's hooks, the
// rootfs for createContainer); throws Error("hooks.<phase>[i]: error running hook (<path>): ...")
// on the first failure (non-zero exit, signal, timeout, exec failure), with the hook's output.
// A hook gets the state on stdin, one pipe as stdout and stderr, default signal dispositions,
// and no other fd.
void run(const std::vector<spec::Hook>& hooks, const std::string& state_json, const char* phase,
         const std::string& dir = "");
// poststart/poststop: a failing hook is a warning (logged) and the remaining hooks still run.
void run_warn(const std::vector<spec::Hook>& hooks, const std::string& state_json, const char* phase,
              const std::string& dir = "");

}  // namespace ocirt::hooks
