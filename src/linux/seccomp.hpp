// linux.seccomp with libseccomp: validation (JSON paths), compilation to BPF (cached), loading.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ocirt/spec.hpp"

namespace ocirt::linux_ {

// Throws Error("linux.seccomp....: ...") for unknown actions, architectures, operators, flags.
void validate_seccomp(const spec::Seccomp& s);

// The filter as a BPF program, made in the runtime before clone: from the cache when the same
// filter was compiled before (the key is everything that shapes the program: the profile, the
// architectures, libseccomp's version, the kernel's seccomp API level), else by libseccomp,
// then stored. The child only calls seccomp(2).
class SeccompFilter {
 public:
  // cache_dir "": no cache. Throws with the JSON path.
  explicit SeccompFilter(const spec::Seccomp& s, const std::string& cache_dir = "");
  void load();  // installs the filter in the calling process (once; later calls do nothing)
  bool has_notify() const { return notify_; }
  int notify_fd() const { return listener_; }  // after load(): the listener fd (SCMP_ACT_NOTIFY)
  bool from_cache() const { return from_cache_; }
  size_t size() const { return prog_.size(); }

 private:
  std::vector<uint64_t> prog_;  // struct sock_filter, 8 bytes each
  unsigned flags_ = 0;
  bool notify_ = false, loaded_ = false, from_cache_ = false;
  int listener_ = -1;
};

// In the init or exec child: load the filter now and, when it has SCMP_ACT_NOTIFY rules, hand
// the listener to the runtime over the sync channel at once (before anything that a notify
// rule could block on) and wait until it has passed it on.
void load_seccomp(SeccompFilter& f, int sync_fd);

// The cache file's contents (seccomp.cpp has the layout): true and the program when they hold
// exactly the entry for key, false for anything else (tests/fuzz/seccomp_cache.cpp).
bool parse_cache_entry(std::string_view data, const std::string& key, std::vector<uint64_t>& prog);

}  // namespace ocirt::linux_
