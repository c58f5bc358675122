// linux.resources onto the cgroup files, v1 or v2 per controller, with runc's conversions.
#include <unistd.h>

#include <cstring>

#include "ocirt/cgroups.hpp"
#include "ocirt/error.hpp"
#include "src/cgroups/internal.hpp"

namespace ocirt::cgroups {

using namespace detail;

namespace {

const std::string R = "linux.resources.";

std::string num(int64_t v) { return std::to_string(v); }
std::string unum(uint64_t v) { return std::to_string(v); }
std::string dev(int64_t major, int64_t minor) { return num(major) + ":" + num(minor); }

std::string max_or(int64_t v) { return v < 0 ? "max" : num(v); }

struct Ctx {
  const Manager& m;
  std::vector<std::string>& warnings;
  const std::string& leaf(const char* controller, const std::string& field) const {
    const std::string& l = m.leaf_of(controller);
    if (l.empty() && m.rootless())  // runc's words
      throw Error(field + ": cannot set " + std::string(controller) + " limit: container could not join or create cgroup",
                  EPERM);
    if (l.empty())
      throw Error(field + ": the " + std::string(controller) + " controller is not available on this host", ENOTSUP);
    return l;
  }
};

void apply_cpu(const Ctx& c, const spec::CpuResources& cpu) {
  bool any = cpu.shares || cpu.quota || cpu.period || cpu.burst || cpu.realtime_runtime || cpu.realtime_period || cpu.idle;
  if (any) {
    const std::string& d = c.leaf("cpu", R + "cpu");
    if (!c.m.v2_for("cpu")) {
      if (cpu.shares && *cpu.shares) put(d, "cpu.shares", unum(*cpu.shares), R + "cpu.shares");
      // Period before quota. A smaller period the kernel refuses (EINVAL: the old quota over the
      // new period exceeds the parent's limit) is written again after the quota (runc).
      bool period_again = false;
      const bool quota = cpu.quota && *cpu.quota;
      if (cpu.period && *cpu.period) {
        try {
          put(d, "cpu.cfs_period_us", unum(*cpu.period), R + "cpu.period");
        } catch (const Error& e) {
          if (e.err() != EINVAL || !quota) throw;
          period_again = true;
        }
      }
      if (quota) put(d, "cpu.cfs_quota_us", num(*cpu.quota), R + "cpu.quota");
      if (period_again) put(d, "cpu.cfs_period_us", unum(*cpu.period), R + "cpu.period");
      if (cpu.burst) put(d, "cpu.cfs_burst_us", unum(*cpu.burst), R + "cpu.burst");
      if (cpu.realtime_period && *cpu.realtime_period)
        put(d, "cpu.rt_period_us", unum(*cpu.realtime_period), R + "cpu.realtimePeriod");
      if (cpu.realtime_runtime && *cpu.realtime_runtime)
        put(d, "cpu.rt_runtime_us", num(*cpu.realtime_runtime), R + "cpu.realtimeRuntime");
      if (cpu.idle) put(d, "cpu.idle", num(*cpu.idle), R + "cpu.idle");
    } else {
      if (cpu.realtime_runtime.value_or(0) || cpu.realtime_period.value_or(0))
        throw Error(R + "cpu.realtimeRuntime: real-time scheduling limits do not exist on cgroup v2", ENOTSUP);
      if (cpu.idle && *cpu.idle) {
        put(d, "cpu.idle", num(*cpu.idle), R + "cpu.idle");
      } else if (cpu.shares && *cpu.shares) {
        put(d, "cpu.weight", unum(shares_to_weight(*cpu.shares)), R + "cpu.shares");
      }
      if (cpu.quota.value_or(0) || cpu.period.value_or(0)) {
        std::string v = cpu.quota.value_or(0) > 0 ? num(*cpu.quota) : "max";
        if (cpu.period.value_or(0)) (v += " ") += unum(*cpu.period);
        put(d, "cpu.max", v, R + "cpu.quota");
      }
      if (cpu.burst) put(d, "cpu.max.burst", unum(*cpu.burst), R + "cpu.burst");
    }
  }
  if (!cpu.cpus.empty()) put(c.leaf("cpuset", R + "cpu.cpus"), "cpuset.cpus", cpu.cpus, R + "cpu.cpus");
  if (!cpu.mems.empty()) put(c.leaf("cpuset", R + "cpu.mems"), "cpuset.mems", cpu.mems, R + "cpu.mems");
}

void apply_memory(const Ctx& c, const spec::MemoryResources& m, bool update) {
  const std::string& d = c.leaf("memory", R + "memory");
  bool v2 = c.m.v2_for("memory");
  int64_t limit = m.limit.value_or(0), swap = m.swap.value_or(0);
  if (update && m.check_before_update.value_or(false) && limit > 0) {
    uint64_t usage = get_u64(d, v2 ? "memory.current" : "memory.usage_in_bytes");
    if (usage > static_cast<uint64_t>(limit))
      throw Error(R + "memory.limit: " + num(limit) + " is below the current usage " + unum(usage) +
                      " (checkBeforeUpdate)", EBUSY);
  }
  if (!v2) {
    const char* kLimit = "memory.limit_in_bytes";
    const char* kSwap = "memory.memsw.limit_in_bytes";
    bool has_swap = exists(d + "/" + kSwap);
    if (limit == -1 && swap == 0 && has_swap) swap = -1;  // unlimited memory means unlimited swap
    if (swap && !has_swap) throw Error(R + "memory.swap: this kernel has no swap accounting (" + kSwap + ")", ENOTSUP);
    if (limit && swap) {
      // The kernel wants memsw >= limit at every moment: order the writes by the current values.
      uint64_t cur = get_u64(d, kLimit);
      if (swap == -1 || cur < static_cast<uint64_t>(swap)) {
        put(d, kSwap, num(swap), R + "memory.swap");
        put(d, kLimit, num(limit), R + "memory.limit");
      } else {
        put(d, kLimit, num(limit), R + "memory.limit");
        put(d, kSwap, num(swap), R + "memory.swap");
      }
    } else {
      if (limit) put(d, kLimit, num(limit), R + "memory.limit");
      if (swap) put(d, kSwap, num(swap), R + "memory.swap");
    }
    if (m.reservation && *m.reservation) put(d, "memory.soft_limit_in_bytes", num(*m.reservation), R + "memory.reservation");
    if (m.kernel && *m.kernel) {
      if (exists(d + "/memory.kmem.limit_in_bytes")) {
        try {
          put(d, "memory.kmem.limit_in_bytes", num(*m.kernel), R + "memory.kernel");
          // since 6.1 the kernel accepts the write and keeps no limit: say so
          if (get_u64(d, "memory.kmem.limit_in_bytes") != static_cast<uint64_t>(*m.kernel) && *m.kernel > 0)
            c.warnings.push_back(R + "memory.kernel: this kernel ignores kernel memory limits (deprecated)");
        } catch (const Error& e) {
          c.warnings.push_back(std::string(e.what()) + " (kernel memory limits are deprecated; ignored)");
        }
      } else {
        c.warnings.push_back(R + "memory.kernel: this kernel has no kernel memory limit; ignored");
      }
    }
    if (m.kernel_tcp && *m.kernel_tcp) put(d, "memory.kmem.tcp.limit_in_bytes", num(*m.kernel_tcp), R + "memory.kernelTCP");
    if (m.swappiness) {
      if (*m.swappiness > 100)
        throw Error(R + "memory.swappiness: " + unum(*m.swappiness) + " is not in 0..100", EINVAL);
      put(d, "memory.swappiness", unum(*m.swappiness), R + "memory.swappiness");
    }
    if (m.disable_oom_killer.value_or(false)) put(d, "memory.oom_control", "1", R + "memory.disableOOMKiller");
    if (m.use_hierarchy) {
      std::string want = *m.use_hierarchy ? "1" : "0";
      if (get(d, "memory.use_hierarchy").rfind(want, 0) != 0)
        put(d, "memory.use_hierarchy", want, R + "memory.useHierarchy");
    }
    return;
  }
  if (swap || limit == -1) {
    int64_t s = swap_to_v2(swap, limit);
    if (s != 0) {
      if (exists(d + "/memory.swap.max")) put(d, "memory.swap.max", max_or(s), R + "memory.swap");
      else if (s > 0) throw Error(R + "memory.swap: this kernel has no swap accounting (memory.swap.max)", ENOTSUP);
    }
  }
  if (limit) put(d, "memory.max", max_or(limit), R + "memory.limit");
  if (m.reservation && *m.reservation) put(d, "memory.low", max_or(*m.reservation), R + "memory.reservation");
  if (m.kernel.value_or(0) || m.kernel_tcp.value_or(0))
    c.warnings.push_back(R + "memory.kernel/kernelTCP: no such limits on cgroup v2; ignored");
  if (m.swappiness) c.warnings.push_back(R + "memory.swappiness: no such setting on cgroup v2; ignored");
  if (m.disable_oom_killer.value_or(false))
    c.warnings.push_back(R + "memory.disableOOMKiller: no such setting on cgroup v2; ignored");
}

void apply_blkio(const Ctx& c, const spec::BlockIo& b) {
  const std::string& d = c.leaf(c.m.leaf_of("blkio").empty() ? "io" : "blkio", R + "blockIO");
  bool v2 = c.m.leaf_of("blkio").empty();
  auto throttles = [&](const std::vector<spec::ThrottleDevice>& list, const char* v1file, const char* key,
                       const char* field) {
    for (size_t i = 0; i < list.size(); ++i) {
      auto& t = list[i];
      std::string f = R + "blockIO." + field + "[" + std::to_string(i) + "]";
      if (!v2) put(d, v1file, dev(t.major, t.minor) + " " + unum(t.rate), f);
      else put(d, "io.max", dev(t.major, t.minor) + " " + key + "=" + (t.rate ? unum(t.rate) : "max"), f);
    }
  };
  if (!v2) {
    // CFQ's blkio.weight is gone from current kernels; BFQ's takes the same range.
    std::string wfile = exists(d + "/blkio.weight") ? "blkio.weight" : "blkio.bfq.weight";
    if (b.weight && *b.weight) put(d, wfile, unum(*b.weight), R + "blockIO.weight");
    // leaf weights were CFQ's; BFQ (the only weight-based scheduler left) has none
    bool has_leaf = exists(d + "/blkio.leaf_weight");
    if (b.leaf_weight && *b.leaf_weight) {
      if (has_leaf) put(d, "blkio.leaf_weight", unum(*b.leaf_weight), R + "blockIO.leafWeight");
      else c.warnings.push_back(R + "blockIO.leafWeight: this kernel has no blkio.leaf_weight (no CFQ); ignored");
    }
    for (size_t i = 0; i < b.weight_device.size(); ++i) {
      auto& w = b.weight_device[i];
      std::string f = R + "blockIO.weightDevice[" + std::to_string(i) + "]";
      if (w.weight) put(d, wfile + "_device", dev(w.major, w.minor) + " " + unum(*w.weight), f + ".weight");
      if (w.leaf_weight && has_leaf)
        put(d, "blkio.leaf_weight_device", dev(w.major, w.minor) + " " + unum(*w.leaf_weight), f + ".leafWeight");
      else if (w.leaf_weight)
        c.warnings.push_back(f + ".leafWeight: this kernel has no blkio.leaf_weight_device (no CFQ); ignored");
    }
  } else {
    bool bfq = exists(d + "/io.bfq.weight");
    if (b.weight && *b.weight)
      put(d, bfq ? "io.bfq.weight" : "io.weight", unum(bfq ? *b.weight : blkio_to_io_weight(*b.weight)),
          R + "blockIO.weight");
    if (b.leaf_weight.value_or(0)) c.warnings.push_back(R + "blockIO.leafWeight: no such setting on cgroup v2; ignored");
    for (size_t i = 0; i < b.weight_device.size(); ++i) {
      auto& w = b.weight_device[i];
      if (!w.weight) continue;
      put(d, bfq ? "io.bfq.weight" : "io.weight",
          dev(w.major, w.minor) + " " + unum(bfq ? *w.weight : blkio_to_io_weight(*w.weight)),
          R + "blockIO.weightDevice[" + std::to_string(i) + "].weight");
    }
  }
  throttles(b.throttle_read_bps, "blkio.throttle.read_bps_device", "rbps", "throttleReadBpsDevice");
  throttles(b.throttle_write_bps, "blkio.throttle.write_bps_device", "wbps", "throttleWriteBpsDevice");
  throttles(b.throttle_read_iops, "blkio.throttle.read_iops_device", "riops", "throttleReadIOPSDevice");
  throttles(b.throttle_write_iops, "blkio.throttle.write_iops_device", "wiops", "throttleWriteIOPSDevice");
}

void apply_hugetlb(const Ctx& c, const std::vector<spec::HugepageLimit>& list) {
  const std::string& d = c.leaf("hugetlb", R + "hugepageLimits");
  bool v2 = c.m.v2_for("hugetlb");
  for (size_t i = 0; i < list.size(); ++i) {
    auto& h = list[i];
    std::string f = R + "hugepageLimits[" + std::to_string(i) + "]";
    std::string base = "hugetlb." + h.page_size;
    std::string file = base + (v2 ? ".max" : ".limit_in_bytes");
    if (!exists(d + "/" + file)) {
      auto sizes = hugepage_sizes();
      std::string have;
      for (auto& s : sizes) have += (have.empty() ? "" : ", ") + s;
      throw Error(f + ".pageSize: \"" + h.page_size + "\" is not a huge page size of this host (it has: " +
                      (have.empty() ? "none" : have) + ")", EINVAL);
    }
    put(d, file, unum(h.limit), f + ".limit");
    // the reservation limit too where the kernel has it, as runc does
    std::string rsvd = base + (v2 ? ".rsvd.max" : ".rsvd.limit_in_bytes");
    if (exists(d + "/" + rsvd)) put(d, rsvd, unum(h.limit), f + ".limit");
  }
}

void apply_network(const Ctx& c, const spec::NetworkResources& n) {
  if (n.class_id)
    put(c.leaf("net_cls", R + "network.classID"), "net_cls.classid", unum(*n.class_id), R + "network.classID");
  for (size_t i = 0; i < n.priorities.size(); ++i) {
    std::string f = R + "network.priorities[" + std::to_string(i) + "]";
    put(c.leaf("net_prio", f), "net_prio.ifpriomap", n.priorities[i].first + " " + unum(n.priorities[i].second), f);
  }
}

void apply_rdma(const Ctx& c, const std::map<std::string, spec::RdmaLimit>& rdma) {
  for (auto& [name, lim] : rdma) {
    std::string f = R + "rdma." + name;
    std::string v = name;
    if (lim.hca_handles) v += " hca_handle=" + unum(*lim.hca_handles);
    if (lim.hca_objects) v += " hca_object=" + unum(*lim.hca_objects);
    if (v == name) continue;
    put(c.leaf("rdma", f), "rdma.max", v, f);
  }
}

void apply_unified(const Ctx& c, const std::map<std::string, std::string>& u) {
  for (auto& [key, value] : u) {
    std::string f = R + "unified." + key;
    if (key.empty() || key.find('/') != std::string::npos || key[0] == '.' || key.find('.') == std::string::npos)
      throw Error(f + ": not a cgroup file name", EINVAL);
    std::string ctrl = key.substr(0, key.find('.'));
    std::string dir = ctrl == "cgroup" ? c.m.v2_dir() : c.m.v2_for(ctrl) ? c.m.leaf_of(ctrl) : "";
    if (dir.empty())
      throw Error(f + ": invalid configuration: the " + ctrl +
                      " controller is not on a cgroup v2 hierarchy on this host (unified is v2 only)",
                  ENOTSUP);
    if (!exists(dir + "/" + key)) throw Error(f + ": " + dir + " has no such file", ENOENT);
    put(dir, key, value, f);
  }
}

}  // namespace

namespace detail {

// runc's conversions (libcontainer/cgroups/utils.go).
uint64_t shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  return 1 + ((shares - 2) * 9999) / 262142;
}
uint64_t blkio_to_io_weight(uint64_t w) {
  if (w == 0) return 0;
  return 1 + (w - 10) * 9999 / 990;
}
int64_t swap_to_v2(int64_t swap, int64_t memory) {
  if (memory == -1 && swap == 0) return -1;
  if (swap == -1 || swap == 0) return swap;
  if (memory == 0 || memory == -1)
    throw Error(R + "memory.swap: a swap limit needs a memory limit on cgroup v2", EINVAL);
  if (swap < memory) throw Error(R + "memory.swap: must be >= memory.limit (it is memory+swap)", EINVAL);
  return swap - memory;
}

}  // namespace detail

std::vector<std::string> Manager::apply(const spec::Resources& r, bool devices,
                                        bool update) const {
  std::vector<std::string> warnings;
  Ctx c{*this, warnings};
  if (r.cpu) apply_cpu(c, *r.cpu);
  if (r.memory) apply_memory(c, *r.memory, update);
  if (r.pids_limit) {
    const std::string& d = c.leaf("pids", R + "pids.limit");
    put(d, "pids.max", *r.pids_limit > 0 ? num(*r.pids_limit) : "max", R + "pids.limit");
  }
  if (r.block_io) apply_blkio(c, *r.block_io);
  if (!r.hugepage_limits.empty()) apply_hugetlb(c, r.hugepage_limits);
  if (r.network) apply_network(c, *r.network);
  if (!r.rdma.empty()) apply_rdma(c, r.rdma);
  if (!r.unified.empty()) apply_unified(c, r.unified);
  if (devices) {
    DeviceState st = emulate(device_rules(r.devices));
    if (const Leaf* l = find("devices"); l && !l->h->v2) {
      const std::string field = R + "devices";
      // a fresh cgroup (create) starts over; a live one (update) gets only the difference
      DeviceState cur;
      cur.allow_by_default = true;
      if (update) cur = parse_device_list(get(l->dir, "devices.list"));
      std::string file;
      std::vector<std::string> batch;
      auto flush = [&]() {
        if (!batch.empty()) put_each(l->dir, file.c_str(), batch, field);
        batch.clear();
      };
      for (auto& [f, rule] : device_transition(cur, st)) {
        if (f != file) flush();
        file = f;
        batch.push_back(rule);
      }
      flush();
    } else if (const Leaf* v = v2_leaf(); v && System::get().layout == Layout::V2) {
      attach_device_filter(v->dir, device_filter(st));
    } else if (!r.devices.empty()) {
      throw Error(R + "devices: this host has no device controller", ENOTSUP);
    }
  }
  return warnings;
}

int64_t parse_bytes(const std::string& s) {
  if (s == "-1") return -1;
  char* end = nullptr;
  errno = 0;
  double v = strtod(s.c_str(), &end);
  if (end == s.c_str() || errno || v < 0) throw Error("\"" + s + "\" is not a size (e.g. 512, 64k, 128m, 1g)", EINVAL);
  std::string unit(end);
  for (auto& ch : unit) ch = static_cast<char>(tolower(ch));
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  if (!unit.empty() && unit.back() == 'i') unit.pop_back();
  double mul = 1;
  if (unit.empty()) mul = 1;
  else if (unit == "k") mul = 1024.0;
  else if (unit == "m") mul = 1024.0 * 1024;
  else if (unit == "g") mul = 1024.0 * 1024 * 1024;
  else if (unit == "t") mul = 1024.0 * 1024 * 1024 * 1024;
  else if (unit == "p") mul = 1024.0 * 1024 * 1024 * 1024 * 1024;
  else throw Error("\"" + s + "\" is not a size (unknown unit \"" + std::string(end) + "\")", EINVAL);
  const double bytes = v * mul + 0.5;  // no libm for one rounding
  // "1e300", "inf", "nan": a conversion to int64 out of its range is undefined (fuzz: cgroup_files)
  if (!(bytes < 9223372036854775808.0)) throw Error("\"" + s + "\" is not a size (2^63 bytes or more)", EINVAL);
  return static_cast<int64_t>(bytes);
}

}  // namespace ocirt::cgroups
