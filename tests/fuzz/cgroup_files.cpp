// The cgroup files the runtime reads (src/cgroups): "key value" files (memory.stat, cpu.stat,
// memory.events), single values ("max" or a number), cpuacct.usage_percpu, v1 blkio and v2
// io.stat lines, /proc/self/cgroup, v1 devices.list, and update's byte sizes. The first byte
// picks nothing: every parser gets the whole input. `events` must print valid JSON.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "ocirt/cgroups.hpp"
#include "ocirt/error.hpp"
#include "src/cgroups/internal.hpp"

using namespace ocirt::cgroups;
using namespace ocirt::cgroups::detail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  for (auto& l : lines(text))
    if (l.empty() || l.find('\n') != std::string::npos) abort();
  for (const char* k : {"usage_usec", "file", "cache", "max", "nr_periods", ""}) (void)keyed(text, k);
  (void)parse_u64(text);
  (void)numbers(text);
  (void)blk_v1(text);
  std::vector<BlkEntry> bytes, ops;
  io_stat(text, bytes, ops);
  if (bytes.size() != ops.size()) abort();
  {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    raw_object(w, text);
    rapidjson::Document d;
    d.Parse(sb.GetString(), sb.GetSize());
    if (d.HasParseError() || !d.IsObject()) {
      fprintf(stderr, "raw_object wrote invalid JSON: %s\n", sb.GetString());
      abort();
    }
  }
  for (auto& e : proc_cgroup_entries(text))
    if (e.controllers.find(':') != std::string::npos) abort();
  DeviceState st = parse_device_list(text);
  DeviceState empty;
  empty.allow_by_default = false;
  (void)device_transition(st, empty);
  (void)device_transition(empty, st);
  try {
    (void)parse_bytes(text);
  } catch (const ocirt::Error&) {
  }
  return 0;
}
