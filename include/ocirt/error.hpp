// The library's one exception type: a kind (what went wrong, for callers to act on), the input
// it is about (a JSON path such as "linux.namespaces[2].type", or the name of a
// CreateOptions/ExecOptions member such as "console_socket"), the message, and errno. A front end
// maps kinds and option names to its own words and exit codes (the CLI: src/cli/errors.cpp).
#pragma once

#include <cerrno>
#include <exception>
#include <string>
#include <string_view>

namespace ocirt {

enum class ErrorKind {
  Invalid,   // bad input: a config field, a process file, an option (field() says which)
  NotFound,  // no container with that id
  Exists,    // a container with that id exists already
  State,     // the container's state does not allow the operation (stopped, paused, not created)
  System,    // a system call failed: the step and errno
  Timeout,   // a hook or a wait ran out of time
  Failed,    // the container's process failed to start (the child's own error)
};

class Error : public std::exception {
 public:
  // The kind defaults from errno: 0 or EINVAL is Invalid, anything else System.
  explicit Error(std::string msg, int err = 0);
  Error(ErrorKind kind, std::string field, std::string msg, int err = 0);
  const char* what() const noexcept override { return what_.c_str(); }
  ErrorKind kind() const { return kind_; }
  int err() const { return errno_; }
  const std::string& field() const { return field_; }
  const std::string& message() const { return msg_; }  // without the context and the field
  const std::string& context() const { return context_; }  // "" or "outer: inner: "
  // Context in front of it all, keeping kind, field and errno:
  //   catch (Error& e) { e.prefix("config.json"); throw; }
  Error& prefix(std::string_view context);

 private:
  void compose();
  ErrorKind kind_;
  std::string context_, field_, msg_, what_;
  int errno_;
};

const char* kind_name(ErrorKind k);

// Error(System, "", "step: strerror(err)", err): the usual way to report a failed system call.
[[noreturn]] void throw_errno(const std::string& step, int err = errno);

}  // namespace ocirt
