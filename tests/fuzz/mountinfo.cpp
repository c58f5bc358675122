// /proc/self/mountinfo (rootfs.cpp: the mount holding the rootfs, --no-pivot's proc and sysfs
// mounts, the field unescaping) and /proc/PID/stat (processes.cpp). Input: 8 bytes of mount id,
// then the text. The parsers must only return what the text holds.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "src/linux/mountinfo.hpp"
#include "src/linux/processes.hpp"

using namespace ocirt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint64_t id = 0;
  if (size >= 8) {
    memcpy(&id, data, 8);
    id %= 4096;  // small ids, so that text lines can name them
  }
  std::string text(reinterpret_cast<const char*>(data), size);
  std::string info = size >= 8 ? text.substr(8) : text;
  // unescaping never makes a field longer
  std::string u = linux_::unescape_mountinfo(info);
  if (u.size() > info.size()) abort();
  if (auto mp = linux_::mountinfo_mount_point(info, id)) {
    // one field of one line: a newline only from an escape
    if (mp->size() > info.size() || (mp->find('\n') != std::string::npos && info.find('\\') == std::string::npos)) abort();
  }
  for (const char* root : {"/", "/run/c/rootfs", ""})
    for (auto& p : linux_::mountinfo_pseudo_fs(info, root))
      if (p.size() > info.size()) abort();
  uint64_t start = 0;
  char state = 0;
  if (sys::parse_proc_stat(text, start, state)) {
    if (text.rfind(')') == std::string::npos) abort();
  }
  return 0;
}
