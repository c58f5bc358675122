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
// In the init, after setup_console: the pty (stdin) bound over the container's /dev/console.
void bind_console();
// In the runtime: connect to the console socket and hand the master over.
void send_console(const std::string& socket_path, const std::string& name, int master);
// --pidfd-socket (runc 1.2): one message, `kind` ("standard" for an init, "setns" for exec) and
// the process's pidfd.
void send_pidfd(const std::string& socket_path, const char* kind, int pidfd);

}  // namespace ocirt::linux_
