// The device controller: the v1 rule semantics (emulated, so v1 and v2 agree) and, for
// cgroup v2, an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE generated from them.
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "ocirt/cgroups.hpp"
#include "ocirt/error.hpp"
#include "ocirt/fd.hpp"
#include "src/cgroups/internal.hpp"

namespace ocirt::cgroups {

namespace {

unsigned parse_access(const std::string& a) {
  if (a.empty()) return 7;
  unsigned out = 0;
  for (char ch : a) out |= ch == 'm' ? 1 : ch == 'r' ? 2 : ch == 'w' ? 4 : 0;
  return out;
}

DeviceRule allow_char(int64_t major, int64_t minor) { return {'c', major, minor, 7}; }

}  // namespace

std::vector<std::pair<bool, DeviceRule>> device_rules(const std::vector<spec::DeviceCgroup>& rules) {
  std::vector<std::pair<bool, DeviceRule>> out;
  for (auto& r : rules) {
    char t = r.type.empty() ? 'a' : r.type[0];
    out.push_back({r.allow, {t, r.major.value_or(-1), r.minor.value_or(-1), parse_access(r.access)}});
  }
  // runc's allowed devices, exactly: mknod of any char or block device (opening stays denied),
  // null, zero, full, tty, random, urandom, ptmx, the pts, /dev/net/tun. A linux.devices entry
  // is created in /dev but gets no rule of its own: only resources.devices allows it (runc).
  out.push_back({true, {'c', -1, -1, 1}});
  out.push_back({true, {'b', -1, -1, 1}});
  for (auto [ma, mi] : std::initializer_list<std::pair<int, int>>{{1, 3}, {1, 5}, {1, 7}, {5, 0}, {1, 8}, {1, 9},
                                                                   {5, 2}, {136, -1}, {10, 200}})
    out.push_back({true, allow_char(ma, mi)});
  return out;
}

namespace {

std::string rule_text(const DeviceRule& x) {
  auto n = [](int64_t v) { return v < 0 ? std::string("*") : std::to_string(v); };
  std::string acc;
  if (x.access & 2) acc += 'r';
  if (x.access & 4) acc += 'w';
  if (x.access & 1) acc += 'm';
  return std::string(1, x.type) + " " + n(x.major) + ":" + n(x.minor) + " " + acc;
}

}  // namespace

DeviceState emulate(const std::vector<std::pair<bool, DeviceRule>>& rules) {
  DeviceState s;
  s.allow_by_default = false;
  for (auto& [allow, r] : rules) {
    if (r.type == 'a') {  // the kernel ignores the rest of an "a" rule: everything, reset
      s.allow_by_default = allow;
      s.exceptions.clear();
      continue;
    }
    if (allow == s.allow_by_default) {
      // The kernel silently ignores a rule that would punch a hole in a wildcard exception
      // (deny c 1:3 after allow c *:*): the device would stay allowed. Refused, as runc does.
      for (auto& e : s.exceptions) {
        bool wider = (e.major < 0 || e.major == r.major) && (e.minor < 0 || e.minor == r.minor) &&
                     !(e.major == r.major && e.minor == r.minor);
        if (e.type == r.type && wider && (e.access & r.access))
          throw Error("linux.resources.devices: \"" + std::string(allow ? "allow " : "deny ") + rule_text(r) +
                          "\" cannot punch a hole in the wildcard rule \"" + (allow ? "deny " : "allow ") + rule_text(e) +
                          "\" (the device controller would ignore it)",
                      EINVAL);
      }
      // takes back the matching exceptions' access (the kernel's dev_exception_rm)
      for (auto it = s.exceptions.begin(); it != s.exceptions.end();) {
        if (it->type == r.type && it->major == r.major && it->minor == r.minor) {
          it->access &= ~r.access;
          if (!it->access) {
            it = s.exceptions.erase(it);
            continue;
          }
        }
        ++it;
      }
      continue;
    }
    bool merged = false;
    for (auto& e : s.exceptions)
      if (e.type == r.type && e.major == r.major && e.minor == r.minor) {
        e.access |= r.access;
        merged = true;
      }
    if (!merged) s.exceptions.push_back(r);
  }
  return s;
}

DeviceState parse_device_list(const std::string& text) {
  DeviceState s;
  s.allow_by_default = false;
  for (size_t at = 0; at < text.size();) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(at, nl - at);
    at = nl + 1;
    char type = 0, maj[16] = {}, min[16] = {}, acc[8] = {};
    if (sscanf(line.c_str(), "%c %15[^:]:%15s %7s", &type, maj, min, acc) != 4) continue;
    if (type == 'a') {
      s.allow_by_default = true;
      s.exceptions.clear();
      continue;
    }
    auto num = [](const char* v) { return v[0] == '*' ? int64_t{-1} : static_cast<int64_t>(strtoll(v, nullptr, 10)); };
    s.exceptions.push_back({type, num(maj), num(min), parse_access(acc)});
  }
  return s;
}

std::vector<std::pair<std::string, std::string>> device_transition(const DeviceState& cur, const DeviceState& target) {
  std::vector<std::pair<std::string, std::string>> out;
  auto same = [](const DeviceRule& a, const DeviceRule& b) {
    return a.type == b.type && a.major == b.major && a.minor == b.minor;
  };
  // A default-allow list shows no exceptions in devices.list, and a change of default resets the
  // list in the kernel: start over. Otherwise only what differs is written, allows first, so a
  // device both keep (/dev/null) is never denied in between.
  if (cur.allow_by_default || cur.allow_by_default != target.allow_by_default) {
    out.push_back({target.allow_by_default ? "devices.allow" : "devices.deny", "a"});
    for (auto& e : target.exceptions) out.push_back({target.allow_by_default ? "devices.deny" : "devices.allow", rule_text(e)});
    return out;
  }
  for (auto& t : target.exceptions) {
    unsigned have = 0;
    for (auto& c : cur.exceptions)
      if (same(c, t)) have |= c.access;
    if (t.access & ~have) {
      DeviceRule add = t;
      add.access = t.access & ~have;
      out.push_back({"devices.allow", rule_text(add)});
    }
  }
  for (auto& c : cur.exceptions) {
    unsigned keep = 0;
    for (auto& t : target.exceptions)
      if (same(c, t)) keep |= t.access;
    if (c.access & ~keep) {
      DeviceRule drop = c;
      drop.access = c.access & ~keep;
      out.push_back({"devices.deny", rule_text(drop)});
    }
  }
  return out;
}

namespace {

uint64_t insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  struct bpf_insn i {};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  uint64_t out;
  static_assert(sizeof i == sizeof out);
  memcpy(&out, &i, sizeof out);
  return out;
}

}  // namespace

std::vector<uint64_t> device_filter(const DeviceState& s) {
  // r2 = type, r3 = access, r4 = major, r5 = minor (struct bpf_cgroup_dev_ctx)
  std::vector<uint64_t> p = {
      insn(BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0),     insn(BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xffff),
      insn(BPF_LDX | BPF_MEM | BPF_W, 3, 1, 0, 0),     insn(BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16),
      insn(BPF_LDX | BPF_MEM | BPF_W, 4, 1, 4, 0),     insn(BPF_LDX | BPF_MEM | BPF_W, 5, 1, 8, 0),
  };
  const int32_t on_match = s.allow_by_default ? 0 : 1;
  for (auto& e : s.exceptions) {
    std::vector<uint64_t> block;
    std::vector<size_t> jumps;  // indexes of "goto next" to patch
    if (e.type != 'a') {
      jumps.push_back(block.size());
      block.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 0, e.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR));
    }
    // kernel semantics: a deny-by-default list needs an exception covering all requested
    // access; an allow-by-default list denies on any overlap
    if (e.access != 7 || s.allow_by_default) {
      unsigned bits = (e.access & 1 ? BPF_DEVCG_ACC_MKNOD : 0) | (e.access & 2 ? BPF_DEVCG_ACC_READ : 0) |
                      (e.access & 4 ? BPF_DEVCG_ACC_WRITE : 0);
      block.push_back(insn(BPF_ALU | BPF_MOV | BPF_X, 1, 3, 0, 0));
      if (s.allow_by_default) {
        block.push_back(insn(BPF_ALU | BPF_AND | BPF_K, 1, 0, 0, static_cast<int32_t>(bits)));
        jumps.push_back(block.size());
        block.push_back(insn(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0, 0));
      } else {
        block.push_back(insn(BPF_ALU | BPF_AND | BPF_K, 1, 0, 0, static_cast<int32_t>(~bits)));
        jumps.push_back(block.size());
        block.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 1, 0, 0, 0));
      }
    }
    if (e.major >= 0) {
      jumps.push_back(block.size());
      block.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 0, static_cast<int32_t>(e.major)));
    }
    if (e.minor >= 0) {
      jumps.push_back(block.size());
      block.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, static_cast<int32_t>(e.minor)));
    }
    block.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, on_match));
    block.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    for (size_t j : jumps) {
      struct bpf_insn i;
      memcpy(&i, &block[j], sizeof i);
      i.off = static_cast<int16_t>(block.size() - j - 1);
      memcpy(&block[j], &i, sizeof i);
    }
    p.insert(p.end(), block.begin(), block.end());
  }
  p.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, s.allow_by_default ? 1 : 0));
  p.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  return p;
}

namespace detail {

static long bpf(int cmd, union bpf_attr* a) { return ::syscall(SYS_bpf, cmd, a, sizeof *a); }

void attach_device_filter(const std::string& leaf, const std::vector<uint64_t>& insns) {
  const std::string field = "linux.resources.devices";
  Fd cg(::open(leaf.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cg) throw_errno(field + ": open " + leaf);
  // what is attached now (an update replaces it)
  uint32_t old_ids[64];
  union bpf_attr q {};
  q.query.target_fd = static_cast<uint32_t>(cg.get());
  q.query.attach_type = BPF_CGROUP_DEVICE;
  q.query.prog_ids = reinterpret_cast<uint64_t>(old_ids);
  q.query.prog_cnt = 64;
  uint32_t n_old = bpf(BPF_PROG_QUERY, &q) == 0 ? q.query.prog_cnt : 0;

  union bpf_attr a {};
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = reinterpret_cast<uint64_t>(insns.data());
  a.insn_cnt = static_cast<uint32_t>(insns.size());
  a.license = reinterpret_cast<uint64_t>("Apache");
  // No verifier log on the way that works: a log costs time, and one larger than its buffer
  // fails the load with ENOSPC. Only a refused program is loaded again, to say why.
  Fd prog(static_cast<int>(bpf(BPF_PROG_LOAD, &a)));
  if (!prog) {
    int e = errno;
    std::string log(64 * 1024, '\0');
    a.log_buf = reinterpret_cast<uint64_t>(log.data());
    a.log_size = static_cast<uint32_t>(log.size());
    a.log_level = 1;
    Fd again(static_cast<int>(bpf(BPF_PROG_LOAD, &a)));
    log.resize(strlen(log.c_str()));
    if (log.size() > 2048) log = "..." + log.substr(log.size() - 2048);
    throw Error(field + ": load the eBPF device filter: " + strerror(e) + (log.empty() ? "" : ": " + log), e);
  }
  union bpf_attr at {};
  at.target_fd = static_cast<uint32_t>(cg.get());
  at.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  at.attach_type = BPF_CGROUP_DEVICE;
  at.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, &at) < 0) throw_errno(field + ": attach the eBPF device filter to " + leaf);
  for (uint32_t i = 0; i < n_old && i < 64; ++i) {
    union bpf_attr g {};
    g.prog_id = old_ids[i];
    Fd old(static_cast<int>(bpf(BPF_PROG_GET_FD_BY_ID, &g)));
    if (!old) continue;
    union bpf_attr d {};
    d.target_fd = static_cast<uint32_t>(cg.get());
    d.attach_bpf_fd = static_cast<uint32_t>(old.get());
    d.attach_type = BPF_CGROUP_DEVICE;
    if (bpf(BPF_PROG_DETACH, &d) < 0) throw_errno(field + ": detach the previous device filter of " + leaf);
  }
}

}  // namespace detail
}  // namespace ocirt::cgroups
