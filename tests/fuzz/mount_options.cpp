// config.json's mounts[].options -> mount(2) flags, propagation, mount_setattr attributes and
// filesystem data (src/spec/mount_options.cpp). Input: the options, one a line (JSON strings
// may hold NUL bytes, so they can here).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "src/spec/mount_options.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> opts;
  std::string cur;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == '\n') {
      opts.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(data[i]);
    }
  }
  opts.push_back(cur);
  ocirt::spec::MountOptions m = ocirt::spec::parse_mount_options(opts);
  size_t prev = 0;
  for (size_t k = 0; k < m.unknown.size(); ++k) {
    size_t i = m.unknown[k];
    if (i >= opts.size() || (k && i <= prev)) abort();  // indexes of the input, in order
    if (m.data.find(opts[i]) == std::string::npos) abort();  // and their text went to data
    prev = i;
  }
  for (auto& o : opts) (void)ocirt::spec::propagation_flags(o);
  return 0;
}
