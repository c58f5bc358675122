// The seccomp cache reader: a <root>/.seccomp-cache/*.bpf file's contents. Input: one byte N,
// N bytes of key, then the file. A hit must be exactly magic, key length, key, count and
// count instructions; anything else must be refused.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "src/linux/seccomp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t klen = data[0];
  if (1 + klen > size) return 0;
  std::string key(reinterpret_cast<const char*>(data + 1), klen);
  std::string file(reinterpret_cast<const char*>(data + 1 + klen), size - 1 - klen);
  std::vector<uint64_t> prog;
  if (!ocirt::linux_::parse_cache_entry(file, key, prog)) return 0;
  // a hit: the layout holds exactly
  uint32_t k, n;
  memcpy(&k, file.data() + 8, 4);
  memcpy(&n, file.data() + 12 + klen, 4);
  if (memcmp(file.data(), "OCIRTSC1", 8) != 0 || k != klen || file.compare(12, klen, key) != 0 || n != prog.size() ||
      prog.empty() || prog.size() > 4096 || file.size() != 16 + klen + 8 * prog.size() ||
      memcmp(prog.data(), file.data() + 16 + klen, 8 * prog.size()) != 0) {
    fprintf(stderr, "accepted a malformed cache entry\n");
    abort();
  }
  return 0;
}
