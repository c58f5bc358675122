// linux.seccomp with libseccomp: validation (JSON paths), compilation, loading.
#pragma once

#include "ocirt/spec.hpp"

namespace ocirt::linux_ {

// Throws Error("linux.seccomp....: ...") for unknown actions, architectures, operators, flags.
void validate_seccomp(const spec::Seccomp& s);

class SeccompFilter {
 public:
  explicit SeccompFilter(const spec::Seccomp& s);  // compiles; throws with the JSON path
  SeccompFilter(const SeccompFilter&) = delete;
  ~SeccompFilter();
  void load();  // installs the filter in the calling process
  bool has_notify() const { return notify_; }
  int notify_fd();  // after load(): the listener fd (SCMP_ACT_NOTIFY)

 private:
  void* ctx_ = nullptr;
  bool notify_ = false;
};

}  // namespace ocirt::linux_
