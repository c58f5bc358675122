// One exception type for the whole library: a message naming the field or step, plus errno.
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>

namespace ocirt {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg, int err = 0) : std::runtime_error(msg), errno_(err) {}
  int err() const { return errno_; }

 private:
  int errno_;
};

// "step: strerror(errno)" -- the usual way to report a failed system call.
[[noreturn]] void throw_errno(const std::string& step, int err = errno);

// Specific conditions callers (containerd, podman) match on by their words.
class NotExist : public Error {
 public:
  using Error::Error;
};

}  // namespace ocirt
