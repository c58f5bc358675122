// process.terminal with --console-socket: the pty is made inside the container (its own
// devpts), the slave becomes the process's stdio and controlling terminal, and the master
// goes to the caller's socket: one message, the pty name and exactly one fd (SCM_RIGHTS).
#pragma once

#include <string>

#include "ocirt/fd.hpp"
#include "ocirt/spec.hpp"

namespace ocirt::linux_ {

// In the container (after pivot_root and setsid): returns the master; `name` gets /dev/pts/N.
Fd setup_console(const spec::Process& p, std::string& name);
// In the runtime: connect to the console socket and hand the master over.
void send_console(const std::string& socket_path, const std::string& name, int master);

}  // namespace ocirt::linux_
