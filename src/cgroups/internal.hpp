// Helpers shared by the cgroup sources.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace ocirt::cgroups {
class Driver;
const Driver& cgroupfs_driver();  // cgroupfs.cpp
const Driver& systemd_driver();   // systemd.cpp
}  // namespace ocirt::cgroups

namespace ocirt::cgroups::detail {

bool exists(const std::string& path);
// Write value to dir/file; an error names the config field, the file and the errno.
void put(const std::string& dir, const char* file, const std::string& value, const std::string& field);
void put(const std::string& dir, const std::string& file, const std::string& value, const std::string& field);
// One open, one write per value (the kernel takes each write as one rule: devices.allow).
void put_each(const std::string& dir, const char* file, const std::vector<std::string>& values, const std::string& field);
// Read dir/file; "" if it does not exist or cannot be read.
std::string get(const std::string& dir, const std::string& file);
uint64_t get_u64(const std::string& dir, const std::string& file);  // "max" -> UINT64_MAX
// "key value" lines (memory.stat, cpu.stat, memory.events).
uint64_t keyed(const std::string& text, std::string_view key);
std::vector<std::string> lines(const std::string& text);
// The number a get_u64 file holds: "max..." is UINT64_MAX, else strtoull's reading.
uint64_t parse_u64(const std::string& text);
// Host huge page sizes in the cgroup file names' spelling ("2MB", "1GB").
std::vector<std::string> hugepage_sizes();

// runc's conversions (libcontainer/cgroups/utils.go): cpu.shares to cpu.weight, blkio weight to
// io.weight (0 stays 0: unset), v1 memory+swap to v2 swap alone (0 unset, -1 max; throws naming
// linux.resources.memory.swap when it cannot be).
uint64_t shares_to_weight(uint64_t shares);
uint64_t blkio_to_io_weight(uint64_t w);
int64_t swap_to_v2(int64_t swap, int64_t memory);

// v2 programs for the device controller (eBPF); throws naming the step.
void attach_device_filter(const std::string& leaf, const std::vector<uint64_t>& insns);

// /proc/self/cgroup lines "ID:CONTROLLERS:PATH" with both colons, in order (manager.cpp).
struct ProcCgroup {
  std::string controllers, path;
};
std::vector<ProcCgroup> proc_cgroup_entries(const std::string& text);

// Stats file parsers (stats.cpp): whitespace-separated numbers (cpuacct.usage_percpu), v1
// blkio "MAJ:MIN Op N" lines, v2 io.stat lines, and a "key value" file as a JSON object.
struct BlkEntry {
  uint64_t major, minor;
  std::string op;
  uint64_t value;
};
std::vector<uint64_t> numbers(const std::string& s);
std::vector<BlkEntry> blk_v1(const std::string& text);
void io_stat(const std::string& text, std::vector<BlkEntry>& bytes, std::vector<BlkEntry>& ops);
void raw_object(rapidjson::Writer<rapidjson::StringBuffer>& w, const std::string& text);

}  // namespace ocirt::cgroups::detail
