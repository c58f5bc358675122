// The systemd driver's unit properties (see systemd_props.hpp).
#include "src/cgroups/systemd_props.hpp"

#include <cerrno>
#include <cstdlib>

#include "ocirt/cgroups.hpp"
#include "ocirt/error.hpp"
#include "src/cgroups/internal.hpp"

namespace ocirt::cgroups {
namespace {

const std::string R = "linux.resources.";

uint64_t limit_or_infinity(int64_t v) { return v < 0 ? kInfinity : static_cast<uint64_t>(v); }

bool parse_u64(const std::string& s, uint64_t& out) {
  if (s.empty() || s[0] < '0' || s[0] > '9') return false;
  char* end;
  errno = 0;
  out = strtoull(s.c_str(), &end, 10);
  return !*end && errno == 0;
}

bool parse_i64(const std::string& s, int64_t& out) {
  if (s.empty()) return false;
  char* end;
  errno = 0;
  out = strtoll(s.c_str(), &end, 10);
  return !*end && errno == 0;
}

}  // namespace

std::vector<uint8_t> cpu_mask(const std::string& list, const std::string& field) {
  std::vector<uint8_t> mask;
  size_t at = 0;
  while (at < list.size()) {
    size_t comma = list.find(',', at);
    std::string item = list.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    at = comma == std::string::npos ? list.size() : comma + 1;
    size_t dash = item.find('-');
    uint64_t lo, hi;
    if (!parse_u64(item.substr(0, dash), lo) || (dash != std::string::npos ? !parse_u64(item.substr(dash + 1), hi) : (hi = lo, false)) ||
        hi < lo || hi >= 8192)
      throw Error(ErrorKind::Invalid, field, "\"" + list + "\" is not a list like 0-3,7", EINVAL);
    if (mask.size() <= hi / 8) mask.resize(hi / 8 + 1, 0);
    for (uint64_t b = lo; b <= hi; ++b) mask[b / 8] |= static_cast<uint8_t>(1u << (b % 8));
  }
  return mask;
}

std::vector<Property> resource_properties(const spec::Resources& r, bool v2) {
  std::vector<Property> p;
  if (r.memory) {
    const auto& m = *r.memory;
    const int64_t limit = m.limit.value_or(0);
    if (limit) p.push_back({v2 ? "MemoryMax" : "MemoryLimit", limit_or_infinity(limit)});
    if (v2 && m.reservation && *m.reservation) p.push_back({"MemoryLow", limit_or_infinity(*m.reservation)});
    if (v2 && m.swap && *m.swap) {
      const int64_t s = detail::swap_to_v2(*m.swap, limit);
      if (s) p.push_back({"MemorySwapMax", limit_or_infinity(s)});
    }
  }
  if (r.cpu) {
    const auto& c = *r.cpu;
    if (c.shares && *c.shares) {
      if (v2) p.push_back({"CPUWeight", detail::shares_to_weight(*c.shares)});
      else p.push_back({"CPUShares", *c.shares});
    }
    // runc: the period first (systemd >= 242), then the quota per second of the period, in
    // whole 10 ms (systemd's resolution), rounded up; a quota of -1 or 0 is no quota
    const uint64_t period = c.period && *c.period ? *c.period : 100000;
    if (c.period && *c.period) p.push_back({"CPUQuotaPeriodUSec", period});
    if (c.quota) {
      if (*c.quota > 0) {
        uint64_t per_sec = static_cast<uint64_t>(*c.quota) * 1000000 / period;
        if (per_sec % 10000) per_sec = (per_sec / 10000 + 1) * 10000;
        p.push_back({"CPUQuotaPerSecUSec", per_sec});
      } else if (*c.quota == -1) {
        p.push_back({"CPUQuotaPerSecUSec", kInfinity});
      }
    }
    if (!c.cpus.empty()) p.push_back({"AllowedCPUs", cpu_mask(c.cpus, R + "cpu.cpus")});
    if (!c.mems.empty()) p.push_back({"AllowedMemoryNodes", cpu_mask(c.mems, R + "cpu.mems")});
  }
  if (r.pids_limit) p.push_back({"TasksMax", *r.pids_limit <= 0 ? kInfinity : static_cast<uint64_t>(*r.pids_limit)});
  if (r.block_io && r.block_io->weight && *r.block_io->weight) {
    if (v2) p.push_back({"IOWeight", detail::blkio_to_io_weight(*r.block_io->weight)});
    else p.push_back({"BlockIOWeight", static_cast<uint64_t>(*r.block_io->weight)});
  }
  if (v2) {
    // linux.resources.unified keys systemd has a property for (runc's unifiedResToSystemdProps);
    // later in the list than the converted fields: they win, as their files do
    static const struct {
      const char *key, *prop;
      bool mask;
    } kUnified[] = {{"memory.min", "MemoryMin", false}, {"memory.low", "MemoryLow", false},
                    {"memory.high", "MemoryHigh", false}, {"memory.max", "MemoryMax", false},
                    {"memory.swap.max", "MemorySwapMax", false}, {"pids.max", "TasksMax", false},
                    {"cpu.weight", "CPUWeight", false}, {"cpuset.cpus", "AllowedCPUs", true},
                    {"cpuset.mems", "AllowedMemoryNodes", true}};
    for (const auto& u : kUnified) {
      auto it = r.unified.find(u.key);
      if (it == r.unified.end()) continue;
      std::string v = it->second;
      while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
      const std::string field = R + "unified." + u.key;
      if (u.mask) {
        p.push_back({u.prop, cpu_mask(v, field)});
        continue;
      }
      uint64_t n;
      if (v == "max") n = kInfinity;
      else if (!parse_u64(v, n)) throw Error(ErrorKind::Invalid, field, "\"" + it->second + "\" is not a number or max", EINVAL);
      p.push_back({u.prop, n});
    }
  }
  return p;
}

std::vector<Property> device_properties(const std::vector<spec::DeviceCgroup>& rules, const std::string& proc_devices) {
  const DeviceState st = emulate(device_rules(rules));
  if (st.allow_by_default) return {{"DevicePolicy", std::string("auto")}, {"DeviceAllow", std::vector<std::pair<std::string, std::string>>{}}};
  // the major's driver name in /proc/devices, in its section ("Character devices:", "Block devices:")
  auto major_name = [&](char type, int64_t major) -> std::string {
    bool in = false;
    for (size_t at = 0; at < proc_devices.size();) {
      size_t nl = proc_devices.find('\n', at);
      std::string line = proc_devices.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
      at = nl == std::string::npos ? proc_devices.size() : nl + 1;
      if (line.find("devices:") != std::string::npos) {
        in = (type == 'c') == (line.rfind("Character", 0) == 0);
        continue;
      }
      size_t i = line.find_first_not_of(' ');
      if (!in || i == std::string::npos) continue;
      char* end;
      long m = strtol(line.c_str() + i, &end, 10);
      if (m == major && *end == ' ') return std::string(end + 1);
    }
    return "";
  };
  std::vector<std::pair<std::string, std::string>> allow;
  for (const DeviceRule& r : st.exceptions) {
    std::string access;
    if (r.access & 2) access += 'r';
    if (r.access & 4) access += 'w';
    if (r.access & 1) access += 'm';
    if (access.empty()) continue;
    for (char type : {'c', 'b'}) {
      if (r.type != 'a' && r.type != type) continue;
      const std::string kind = type == 'c' ? "char" : "block";
      std::string path;
      if (r.type == 'a' || r.major < 0) {
        path = kind + "-*";
      } else if (r.minor < 0) {
        const std::string name = major_name(type, r.major);
        if (name.empty()) continue;  // a major no driver has (runc skips it too): the files still allow it
        path = kind + "-" + name;
      } else {
        path = "/dev/" + kind + "/" + std::to_string(r.major) + ":" + std::to_string(r.minor);
      }
      allow.emplace_back(path, access);
    }
  }
  return {{"DevicePolicy", std::string("strict")}, {"DeviceAllow", allow}};
}

std::vector<Property> annotation_properties(const std::map<std::string, std::string>& annotations) {
  static const std::string kPrefix = "org.systemd.property.";
  std::vector<Property> out;
  for (const auto& [key, raw] : annotations) {
    if (key.compare(0, kPrefix.size(), kPrefix) != 0) continue;
    const std::string name = key.substr(kPrefix.size());
    const std::string field = "annotations." + key;
    if (name.empty()) throw Error(ErrorKind::Invalid, field, "no property name", EINVAL);
    std::string v = raw;
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    while (!v.empty() && v.back() == ' ') v.pop_back();
    auto typed = [&](const char* prefix) {
      const std::string pre(prefix);
      if (v.compare(0, pre.size(), pre) != 0) return false;
      v = v.substr(pre.size());
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      return true;
    };
    uint64_t u;
    int64_t i;
    Property prop{name, false};
    if (v == "true" || v == "false") {
      prop.value = v == "true";
    } else if ((typed("uint64") || typed("@t")) && parse_u64(v, u)) {
      prop.value = u;
    } else if ((typed("int64") || typed("@x")) && parse_i64(v, i)) {
      prop.value = i;
    } else if ((typed("uint32") || typed("@u")) && parse_u64(v, u) && u <= UINT32_MAX) {
      prop.value = static_cast<uint32_t>(u);
    } else if ((typed("int32") || typed("@i")) && parse_i64(v, i) && i >= INT32_MIN && i <= INT32_MAX) {
      prop.value = static_cast<int32_t>(i);
    } else if (parse_i64(v, i) && i >= INT32_MIN && i <= INT32_MAX) {  // a bare number: int32
      prop.value = static_cast<int32_t>(i);
    } else if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front()) {
      prop.value = v.substr(1, v.size() - 2);
    } else {
      throw Error(ErrorKind::Invalid, field,
                  "\"" + raw + "\" is not a value oci-rt reads (true, false, a number, uint64 N, int64 N, uint32 N, 'text')",
                  EINVAL);
    }
    out.push_back(std::move(prop));
  }
  return out;
}

}  // namespace ocirt::cgroups
