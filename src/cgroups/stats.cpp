// Stats in runc's `events` shape (libcontainer/cgroups stats, as runc's types.Stats prints it).
#include <unistd.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "ocirt/cgroups.hpp"
#include "src/cgroups/internal.hpp"

namespace ocirt::cgroups {

using namespace detail;

namespace detail {

std::vector<uint64_t> numbers(const std::string& s) {
  std::vector<uint64_t> out;
  const char* p = s.c_str();
  char* end;
  for (;;) {
    uint64_t v = strtoull(p, &end, 10);
    if (end == p) break;
    out.push_back(v);
    p = end;
  }
  return out;
}

void raw_object(rapidjson::Writer<rapidjson::StringBuffer>& w, const std::string& text) {
  w.StartObject();
  for (auto& line : lines(text)) {
    auto sp = line.find(' ');
    if (sp == std::string::npos) continue;
    w.Key(line.c_str(), static_cast<rapidjson::SizeType>(sp));
    w.Uint64(strtoull(line.c_str() + sp + 1, nullptr, 10));
  }
  w.EndObject();
}

// v1 "8:0 Read 123" lines
std::vector<BlkEntry> blk_v1(const std::string& text) {
  std::vector<BlkEntry> out;
  for (auto& line : lines(text)) {
    unsigned long ma, mi;
    char op[32];
    unsigned long long v;
    if (sscanf(line.c_str(), "%lu:%lu %31s %llu", &ma, &mi, op, &v) == 4) out.push_back({ma, mi, op, v});
  }
  return out;
}

// v2 io.stat "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." lines: bytes and ops, Read then Write
void io_stat(const std::string& text, std::vector<BlkEntry>& bytes, std::vector<BlkEntry>& ops) {
  for (auto& line : lines(text)) {
    unsigned long ma, mi;
    if (sscanf(line.c_str(), "%lu:%lu", &ma, &mi) != 2) continue;
    auto field = [&](const char* k) {
      auto p = line.find(std::string(" ") + k + "=");
      return p == std::string::npos ? 0ull : strtoull(line.c_str() + p + strlen(k) + 2, nullptr, 10);
    };
    bytes.push_back({ma, mi, "Read", field("rbytes")});
    bytes.push_back({ma, mi, "Write", field("wbytes")});
    ops.push_back({ma, mi, "Read", field("rios")});
    ops.push_back({ma, mi, "Write", field("wios")});
  }
}

}  // namespace detail

namespace {

using W = rapidjson::Writer<rapidjson::StringBuffer>;

void kv(W& w, const char* k, uint64_t v) {
  w.Key(k);
  w.Uint64(v);
}

void array(W& w, const char* k, const std::vector<uint64_t>& v) {
  w.Key(k);
  w.StartArray();
  for (auto x : v) w.Uint64(x);
  w.EndArray();
}

void raw(W& w, const std::string& text) {
  w.Key("raw");
  raw_object(w, text);
}

void usage(W& w, const char* key, uint64_t use, uint64_t max, uint64_t failcnt, uint64_t limit) {
  w.Key(key);
  w.StartObject();
  kv(w, "usage", use);
  kv(w, "max", max);
  kv(w, "failcnt", failcnt);
  kv(w, "limit", limit);
  w.EndObject();
}

void blk_array(W& w, const char* key, const std::vector<BlkEntry>& v) {
  w.Key(key);
  w.StartArray();
  for (auto& e : v) {
    w.StartObject();
    kv(w, "major", e.major);
    kv(w, "minor", e.minor);
    w.Key("op");
    w.String(e.op.c_str());
    kv(w, "value", e.value);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

std::string Manager::stats_json() const {
  rapidjson::StringBuffer sb;
  W w(sb);
  w.StartObject();
  // cpu
  w.Key("cpu");
  w.StartObject();
  if (const Leaf* c = find("cpu"); c && c->h->v2) {
    std::string st = get(c->dir, "cpu.stat");
    w.Key("usage");
    w.StartObject();
    kv(w, "total", keyed(st, "usage_usec") * 1000);
    kv(w, "kernel", keyed(st, "system_usec") * 1000);
    kv(w, "user", keyed(st, "user_usec") * 1000);
    w.EndObject();
    w.Key("throttling");
    w.StartObject();
    kv(w, "periods", keyed(st, "nr_periods"));
    kv(w, "throttledPeriods", keyed(st, "nr_throttled"));
    kv(w, "throttledTime", keyed(st, "throttled_usec") * 1000);
    w.EndObject();
  } else {
    const std::string& acct = leaf_of("cpuacct");
    w.Key("usage");
    w.StartObject();
    if (!acct.empty()) {
      kv(w, "total", get_u64(acct, "cpuacct.usage"));
      array(w, "percpu", numbers(get(acct, "cpuacct.usage_percpu")));
      std::string sys_per = get(acct, "cpuacct.usage_percpu_sys"), user_per = get(acct, "cpuacct.usage_percpu_user");
      if (!sys_per.empty()) array(w, "percpu_kernel", numbers(sys_per));
      if (!user_per.empty()) array(w, "percpu_user", numbers(user_per));
      // cpuacct.stat is in USER_HZ ticks
      std::string st = get(acct, "cpuacct.stat");
      uint64_t ns_per_tick = 1000000000ull / static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
      kv(w, "kernel", keyed(st, "system") * ns_per_tick);
      kv(w, "user", keyed(st, "user") * ns_per_tick);
    }
    w.EndObject();
    w.Key("throttling");
    w.StartObject();
    if (const Leaf* c = find("cpu")) {
      std::string st = get(c->dir, "cpu.stat");
      kv(w, "periods", keyed(st, "nr_periods"));
      kv(w, "throttledPeriods", keyed(st, "nr_throttled"));
      kv(w, "throttledTime", keyed(st, "throttledTime"));
    }
    w.EndObject();
  }
  w.EndObject();
  // memory
  w.Key("memory");
  w.StartObject();
  if (const Leaf* m = find("memory")) {
    const std::string& d = m->dir;
    std::string st = get(d, "memory.stat");
    if (m->h->v2) {
      kv(w, "cache", keyed(st, "file"));
      uint64_t cur = get_u64(d, "memory.current"), lim = get_u64(d, "memory.max");
      std::string events = get(d, "memory.events");
      usage(w, "usage", cur, get_u64(d, "memory.peak"), keyed(events, "max"), lim);
      // as runc: swap usage is memory+swap, like v1's memsw
      uint64_t swap_cur = get_u64(d, "memory.swap.current"), swap_lim = get_u64(d, "memory.swap.max");
      usage(w, "swap", cur + swap_cur, 0, 0, swap_lim == UINT64_MAX || lim == UINT64_MAX ? UINT64_MAX : lim + swap_lim);
    } else {
      kv(w, "cache", keyed(st, "cache"));
      usage(w, "usage", get_u64(d, "memory.usage_in_bytes"), get_u64(d, "memory.max_usage_in_bytes"),
            get_u64(d, "memory.failcnt"), get_u64(d, "memory.limit_in_bytes"));
      usage(w, "swap", get_u64(d, "memory.memsw.usage_in_bytes"), get_u64(d, "memory.memsw.max_usage_in_bytes"),
            get_u64(d, "memory.memsw.failcnt"), get_u64(d, "memory.memsw.limit_in_bytes"));
      usage(w, "kernel", get_u64(d, "memory.kmem.usage_in_bytes"), get_u64(d, "memory.kmem.max_usage_in_bytes"),
            get_u64(d, "memory.kmem.failcnt"), get_u64(d, "memory.kmem.limit_in_bytes"));
      usage(w, "kernelTCP", get_u64(d, "memory.kmem.tcp.usage_in_bytes"),
            get_u64(d, "memory.kmem.tcp.max_usage_in_bytes"), get_u64(d, "memory.kmem.tcp.failcnt"),
            get_u64(d, "memory.kmem.tcp.limit_in_bytes"));
    }
    raw(w, st);
  }
  w.EndObject();
  // pids
  w.Key("pids");
  w.StartObject();
  if (const Leaf* p = find("pids")) {
    kv(w, "current", get_u64(p->dir, "pids.current"));
    uint64_t lim = get_u64(p->dir, "pids.max");
    kv(w, "limit", lim == UINT64_MAX ? 0 : lim);  // runc: 0 means no limit
  }
  w.EndObject();
  // blkio
  w.Key("blkio");
  w.StartObject();
  if (const Leaf* b = find("blkio"); b && !b->h->v2) {
    std::string bytes = get(b->dir, "blkio.throttle.io_service_bytes_recursive");
    std::string ops = get(b->dir, "blkio.throttle.io_serviced_recursive");
    blk_array(w, "ioServiceBytesRecursive", blk_v1(bytes));
    blk_array(w, "ioServicedRecursive", blk_v1(ops));
  } else if (const Leaf* io = find("io")) {
    std::vector<BlkEntry> bytes, ops;
    io_stat(get(io->dir, "io.stat"), bytes, ops);
    blk_array(w, "ioServiceBytesRecursive", bytes);
    blk_array(w, "ioServicedRecursive", ops);
  }
  w.EndObject();
  // hugetlb
  w.Key("hugetlb");
  w.StartObject();
  if (const Leaf* h = find("hugetlb")) {
    for (auto& size : hugepage_sizes()) {
      std::string b = "hugetlb." + size;
      w.Key(size.c_str());
      w.StartObject();
      if (h->h->v2) {
        kv(w, "usage", get_u64(h->dir, b + ".current"));
        kv(w, "failcnt", keyed(get(h->dir, b + ".events"), "max"));
      } else {
        kv(w, "usage", get_u64(h->dir, b + ".usage_in_bytes"));
        kv(w, "max", get_u64(h->dir, b + ".max_usage_in_bytes"));
        kv(w, "failcnt", get_u64(h->dir, b + ".failcnt"));
      }
      w.EndObject();
    }
  }
  w.EndObject();
  w.EndObject();
  return sb.GetString();
}

}  // namespace ocirt::cgroups
