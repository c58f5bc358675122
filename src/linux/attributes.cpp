// Process attributes beyond identity (see attributes.hpp): their validation and how each is applied.
#include "src/linux/attributes.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "ocirt/error.hpp"
#include "src/linux/files.hpp"
#include "src/linux/procfs.hpp"

namespace ocirt::linux_ {
namespace {

// "0-3,7" -> {0,1,2,3,7}; throws on anything else.
std::vector<unsigned> parse_list(const std::string& s, const std::string& field) {
  std::vector<unsigned> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    std::string part = s.substr(i, j - i);
    char* end;
    unsigned long a = strtoul(part.c_str(), &end, 10), b = a;
    if (end == part.c_str()) throw Error(field + ": \"" + s + "\" is not a list like 0-3,7", EINVAL);
    if (*end == '-') {
      const char* p2 = end + 1;
      b = strtoul(p2, &end, 10);
      if (end == p2) throw Error(field + ": \"" + s + "\" is not a list like 0-3,7", EINVAL);
    }
    if (*end || b < a || b > 4095) throw Error(field + ": \"" + s + "\" is not a list like 0-3,7", EINVAL);
    for (unsigned long k = a; k <= b; ++k) out.push_back(static_cast<unsigned>(k));
    i = j + 1;
  }
  if (out.empty()) throw Error(field + ": empty list", EINVAL);
  return out;
}

int policy_of(const std::string& p) {
  if (p == "SCHED_OTHER") return SCHED_OTHER;
  if (p == "SCHED_FIFO") return SCHED_FIFO;
  if (p == "SCHED_RR") return SCHED_RR;
  if (p == "SCHED_BATCH") return SCHED_BATCH;
  if (p == "SCHED_IDLE") return SCHED_IDLE;
  if (p == "SCHED_DEADLINE") return 6;
  return -1;  // SCHED_ISO: not in mainline Linux
}

uint64_t sched_flag(const std::string& f) {
  static const std::pair<const char*, uint64_t> t[] = {
      {"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02},       {"SCHED_FLAG_DL_OVERRUN", 0x04},
      {"SCHED_FLAG_KEEP_POLICY", 0x08},   {"SCHED_FLAG_KEEP_PARAMS", 0x10},    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
      {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
  };
  for (auto& [n, v] : t)
    if (f == n) return v;
  return 0;
}

struct SchedAttr {
  uint32_t size, sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
  uint32_t util_min, util_max;
};

bool read_is(const char* path, const char* want) {
  std::string s;
  try {
    if (!sys::try_read_file(path, s)) return false;
  } catch (const Error&) {
    return false;
  }
  return s.rfind(want, 0) == 0;
}

}  // namespace

void validate_attributes(const spec::Config& c) {
  if (c.process) {
    const auto& p = *c.process;
    if (p.scheduler) {
      const auto& s = *p.scheduler;
      int pol = policy_of(s.policy);
      if (pol < 0) throw Error("process.scheduler.policy: " + s.policy + " is not supported by Linux", EINVAL);
      bool rt = pol == SCHED_FIFO || pol == SCHED_RR;
      if (s.nice && (pol != SCHED_OTHER && pol != SCHED_BATCH))
        throw Error("process.scheduler.nice: only valid with SCHED_OTHER or SCHED_BATCH", EINVAL);
      if (s.nice && (*s.nice < -20 || *s.nice > 19)) throw Error("process.scheduler.nice: must be -20..19", EINVAL);
      if (rt && (!s.priority || *s.priority < 1 || *s.priority > 99))
        throw Error("process.scheduler.priority: must be 1..99 with " + s.policy, EINVAL);
      if (!rt && s.priority && *s.priority != 0)
        throw Error("process.scheduler.priority: must be 0 with " + s.policy, EINVAL);
      if (pol == 6 && (!s.runtime || !s.deadline || !s.period))
        throw Error("process.scheduler: SCHED_DEADLINE needs runtime, deadline and period", EINVAL);
    }
    if (p.exec_cpu_affinity) {
      if (!p.exec_cpu_affinity->initial.empty())
        parse_list(p.exec_cpu_affinity->initial, "process.execCPUAffinity.initial");
      if (!p.exec_cpu_affinity->final_.empty()) parse_list(p.exec_cpu_affinity->final_, "process.execCPUAffinity.final");
    }
  }
  if (!c.linux) return;
  const auto& l = *c.linux;
  if (l.personality && !l.personality->flags.empty())
    throw Error("linux.personality.flags: no personality flags are defined; leave it empty", EINVAL);
  if (l.memory_policy && !l.memory_policy->nodes.empty())
    parse_list(l.memory_policy->nodes, "linux.memoryPolicy.nodes");
  if (l.memory_policy && l.memory_policy->nodes.empty() && l.memory_policy->mode != "MPOL_DEFAULT" &&
      l.memory_policy->mode != "MPOL_LOCAL")
    throw Error("linux.memoryPolicy.nodes: required with " + l.memory_policy->mode, EINVAL);
  if (l.intel_rdt) {
    struct stat st;
    if (::stat("/sys/fs/resctrl/schemata", &st) < 0)
      throw Error("linux.intelRdt: this host has no resctrl filesystem mounted at /sys/fs/resctrl (Intel RDT)", ENOTSUP);
    throw Error("linux.intelRdt: Intel RDT is not supported by this build yet", ENOTSUP);
  }
}

void apply_personality(const spec::Linux& l) {
  if (!l.personality) return;
  unsigned long dom = l.personality->domain == "LINUX32" ? PER_LINUX32 : PER_LINUX;
  if (::personality(dom) < 0) throw_errno("linux.personality: personality(" + l.personality->domain + ")");
}

void apply_io_priority(const spec::Process& p) {
  if (!p.io_priority) return;
  int klass = p.io_priority->klass == "IOPRIO_CLASS_RT" ? 1 : p.io_priority->klass == "IOPRIO_CLASS_BE" ? 2 : 3;
  int value = (klass << 13) | p.io_priority->priority;
  if (::syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, value) < 0) throw_errno("process.ioPriority: ioprio_set");
}

void apply_scheduler(const spec::Process& p) {
  if (!p.scheduler) return;
  const auto& s = *p.scheduler;
  SchedAttr a{};
  a.size = sizeof a;
  a.sched_policy = static_cast<uint32_t>(policy_of(s.policy));
  for (auto& f : s.flags) a.sched_flags |= sched_flag(f);
  a.sched_nice = s.nice.value_or(0);
  a.sched_priority = static_cast<uint32_t>(s.priority.value_or(0));
  a.sched_runtime = s.runtime.value_or(0);
  a.sched_deadline = s.deadline.value_or(0);
  a.sched_period = s.period.value_or(0);
  if (::syscall(SYS_sched_setattr, 0, &a, 0) < 0) throw_errno("process.scheduler: sched_setattr(" + s.policy + ")");
}

void apply_memory_policy(const spec::Linux& l) {
  if (!l.memory_policy) return;
  const auto& m = *l.memory_policy;
  static const std::pair<const char*, int> modes[] = {
      {"MPOL_DEFAULT", 0}, {"MPOL_PREFERRED", 1},      {"MPOL_BIND", 2},
      {"MPOL_INTERLEAVE", 3}, {"MPOL_LOCAL", 4}, {"MPOL_PREFERRED_MANY", 5}, {"MPOL_WEIGHTED_INTERLEAVE", 6},
  };
  int mode = 0;
  for (auto& [n, v] : modes)
    if (m.mode == n) mode = v;
  for (auto& f : m.flags) {
    if (f == "MPOL_F_STATIC_NODES") mode |= 1 << 15;
    else if (f == "MPOL_F_RELATIVE_NODES") mode |= 1 << 14;
    else if (f == "MPOL_F_NUMA_BALANCING") mode |= 1 << 13;
  }
  unsigned long mask[64] = {};
  unsigned long maxnode = 0;
  if (!m.nodes.empty()) {
    for (unsigned n : parse_list(m.nodes, "linux.memoryPolicy.nodes")) {
      mask[n / (8 * sizeof(unsigned long))] |= 1UL << (n % (8 * sizeof(unsigned long)));
      maxnode = std::max<unsigned long>(maxnode, n + 2);
    }
  }
  if (::syscall(SYS_set_mempolicy, mode, m.nodes.empty() ? nullptr : mask, maxnode) < 0)
    throw_errno("linux.memoryPolicy: set_mempolicy(" + m.mode + (m.nodes.empty() ? "" : ", " + m.nodes) + ")");
}

void apply_cpu_affinity(const std::string& list, const char* field) {
  if (list.empty()) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  for (unsigned c : parse_list(list, field))
    if (c < CPU_SETSIZE) CPU_SET(c, &set);
  if (::sched_setaffinity(0, sizeof set, &set) < 0) throw_errno(std::string(field) + ": sched_setaffinity(" + list + ")");
}

Lsm host_lsm(const spec::Process& p, const std::string& mount_label) {
  Lsm l;
  // Asked of the host's /sys, by the runtime, before clone: never of the container's.
  if (!p.apparmor_profile.empty()) l.apparmor = read_is("/sys/module/apparmor/parameters/enabled", "Y");
  if (!p.selinux_label.empty() || !mount_label.empty()) l.selinux = selinux_enabled();
  return l;
}

bool selinux_enabled() {
  struct statfs sf;
  return ::statfs("/sys/fs/selinux", &sf) == 0 && sf.f_type == SELINUX_MAGIC;
}

namespace {

void write_attr(int procfd, const char* path, const std::string& value, const std::string& what) {
  int fd = sys::procfs_open(procfd, path, O_WRONLY);
  if (fd < 0) throw_errno(what + ": open /proc/" + path, -fd);
  Fd f(fd);
  if (::write(f.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) throw_errno(what);
}

}  // namespace

void apply_lsm(const spec::Process& p, const Lsm& host, const std::function<int()>& procfs,
               std::vector<std::string>& notes) {
  if (!p.apparmor_profile.empty()) {
    if (!host.apparmor) {
      notes.push_back("debug:process.apparmorProfile: AppArmor is not enabled on this host; profile \"" + p.apparmor_profile +
                      "\" not applied (as runc)");
    } else {
      const std::string what = "process.apparmorProfile: apply \"" + p.apparmor_profile + "\"";
      int proc = procfs();
      int fd = sys::procfs_open(proc, "thread-self/attr/apparmor/exec", O_WRONLY);
      if (fd >= 0) ::close(fd);
      write_attr(proc, fd >= 0 ? "thread-self/attr/apparmor/exec" : "thread-self/attr/exec",
                 "exec " + p.apparmor_profile, what);
    }
  }
  if (!p.selinux_label.empty()) {
    if (!host.selinux) {
      notes.push_back("debug:process.selinuxLabel: SELinux is not enabled on this host; label \"" + p.selinux_label +
                      "\" not applied (as runc)");
    } else {
      write_attr(procfs(), "thread-self/attr/exec", p.selinux_label, "process.selinuxLabel: apply \"" + p.selinux_label + "\"");
    }
  }
}

}  // namespace ocirt::linux_
