// Running OCI hooks: state JSON on stdin, the hook's args and env, an optional timeout.
#pragma once

#include <string>
#include <vector>

#include "ocirt/spec.hpp"

namespace ocirt::hooks {

// Runs each hook in order; throws Error("hooks.<phase>[i] (<path>): ...") on the first failure
// (non-zero exit, signal, timeout, exec failure), with the hook's output in the message.
void run(const std::vector<spec::Hook>& hooks, const std::string& state_json, const char* phase);
// poststart/poststop: a failing hook is a warning (logged) and the remaining hooks still run.
void run_warn(const std::vector<spec::Hook>& hooks, const std::string& state_json, const char* phase);

}  // namespace ocirt::hooks
