#include "src/linux/seccomp.hpp"

#include <seccomp.h>

#include <cstring>
#include <set>

#include "ocirt/error.hpp"

namespace ocirt::linux_ {
namespace {

bool parse_action(const std::string& name, std::optional<uint32_t> errno_ret, uint32_t dflt_errno, uint32_t& out) {
  if (name == "SCMP_ACT_ALLOW") out = SCMP_ACT_ALLOW;
  else if (name == "SCMP_ACT_ERRNO") out = SCMP_ACT_ERRNO(errno_ret.value_or(dflt_errno));
  else if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") out = SCMP_ACT_KILL_THREAD;
  else if (name == "SCMP_ACT_KILL_PROCESS") out = SCMP_ACT_KILL_PROCESS;
  else if (name == "SCMP_ACT_TRAP") out = SCMP_ACT_TRAP;
  else if (name == "SCMP_ACT_TRACE") out = SCMP_ACT_TRACE(errno_ret.value_or(dflt_errno));
  else if (name == "SCMP_ACT_LOG") out = SCMP_ACT_LOG;
  else if (name == "SCMP_ACT_NOTIFY") out = SCMP_ACT_NOTIFY;
  else return false;
  return true;
}

bool parse_op(const std::string& op, scmp_compare& out) {
  static const std::pair<const char*, scmp_compare> ops[] = {
      {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
  };
  for (auto& [n, v] : ops)
    if (op == n) {
      out = v;
      return true;
    }
  return false;
}

uint32_t parse_arch(const std::string& name) {
  // SCMP_ARCH_X86_64 -> "x86_64"
  if (name.rfind("SCMP_ARCH_", 0) != 0) return 0;
  std::string n = name.substr(10);
  for (auto& c : n) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return seccomp_arch_resolve_name(n.c_str());
}

}  // namespace

void validate_seccomp(const spec::Seccomp& s) {
  uint32_t act;
  if (!parse_action(s.default_action, s.default_errno_ret, EPERM, act))
    throw Error("linux.seccomp.defaultAction: unknown action \"" + s.default_action + "\"", EINVAL);
  for (size_t i = 0; i < s.architectures.size(); ++i)
    if (!parse_arch(s.architectures[i]))
      throw Error("linux.seccomp.architectures[" + std::to_string(i) + "]: unknown architecture \"" + s.architectures[i] + "\"", EINVAL);
  for (size_t i = 0; i < s.flags.size(); ++i) {
    const auto& f = s.flags[i];
    if (f != "SECCOMP_FILTER_FLAG_TSYNC" && f != "SECCOMP_FILTER_FLAG_LOG" && f != "SECCOMP_FILTER_FLAG_SPEC_ALLOW")
      throw Error("linux.seccomp.flags[" + std::to_string(i) + "]: unsupported flag \"" + f + "\"", EINVAL);
  }
  bool notify = s.default_action == "SCMP_ACT_NOTIFY";
  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    const auto& c = s.syscalls[i];
    std::string where = "linux.seccomp.syscalls[" + std::to_string(i) + "]";
    if (!parse_action(c.action, c.errno_ret, EPERM, act)) throw Error(where + ".action: unknown action \"" + c.action + "\"", EINVAL);
    notify |= c.action == "SCMP_ACT_NOTIFY";
    for (size_t j = 0; j < c.args.size(); ++j) {
      scmp_compare op;
      if (!parse_op(c.args[j].op, op))
        throw Error(where + ".args[" + std::to_string(j) + "].op: unknown operator \"" + c.args[j].op + "\"", EINVAL);
    }
  }
  if (s.default_action == "SCMP_ACT_NOTIFY")
    throw Error("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default (the runtime's own calls would block)", EINVAL);
  if (notify && s.listener_path.empty())
    throw Error("linux.seccomp.listenerPath: required when an action is SCMP_ACT_NOTIFY", EINVAL);
  if (notify && s.listener_path[0] != '/')
    throw Error("linux.seccomp.listenerPath: \"" + s.listener_path + "\" is not an absolute path", EINVAL);
  if (!notify && !s.listener_path.empty())
    throw Error("linux.seccomp.listenerPath: set, but no syscall uses SCMP_ACT_NOTIFY", EINVAL);
}

SeccompFilter::SeccompFilter(const spec::Seccomp& s) {
  uint32_t dflt_errno = s.default_errno_ret.value_or(EPERM);
  uint32_t dflt;
  parse_action(s.default_action, s.default_errno_ret, EPERM, dflt);
  scmp_filter_ctx ctx = seccomp_init(dflt);
  if (!ctx) throw Error("linux.seccomp: seccomp_init failed", ENOMEM);
  ctx_ = ctx;
  // We set no_new_privs ourselves (process.noNewPrivileges); libseccomp must not force it.
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  for (size_t i = 0; i < s.architectures.size(); ++i) {
    int r = seccomp_arch_add(ctx, parse_arch(s.architectures[i]));
    if (r < 0 && r != -EEXIST)
      throw Error("linux.seccomp.architectures[" + std::to_string(i) + "]: " + std::strerror(-r), -r);
  }
  for (auto& f : s.flags) {
    int r = 0;
    if (f == "SECCOMP_FILTER_FLAG_TSYNC") r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    else if (f == "SECCOMP_FILTER_FLAG_LOG") r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
    else if (f == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
    if (r < 0) throw Error("linux.seccomp.flags: " + f + ": " + std::strerror(-r), -r);
  }
  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    const auto& c = s.syscalls[i];
    uint32_t act;
    parse_action(c.action, c.errno_ret, dflt_errno, act);
    if (act == dflt) continue;  // libseccomp refuses rules that repeat the default (runc skips them)
    notify_ |= act == SCMP_ACT_NOTIFY;
    std::vector<scmp_arg_cmp> args;
    std::set<unsigned> idx;
    bool repeated = false;
    for (auto& a : c.args) {
      scmp_compare op;
      parse_op(a.op, op);
      args.push_back({a.index, op, a.value, a.value_two});
      repeated |= !idx.insert(a.index).second;
    }
    for (auto& name : c.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) continue;  // unknown to this libseccomp/arch: skipped, as runc does
      auto add = [&](const scmp_arg_cmp* a, unsigned n) {
        int r = seccomp_rule_add_array(ctx, act, nr, n, a);
        if (r < 0)
          throw Error("linux.seccomp.syscalls[" + std::to_string(i) + "] (" + name + "): " + std::strerror(-r), -r);
      };
      if (!repeated) {
        add(args.data(), static_cast<unsigned>(args.size()));
      } else {
        // conditions on the same argument cannot share a rule: one rule each (runc's behaviour)
        for (auto& a : args) add(&a, 1);
      }
    }
  }
}

SeccompFilter::~SeccompFilter() {
  if (ctx_) seccomp_release(static_cast<scmp_filter_ctx>(ctx_));
}

int SeccompFilter::notify_fd() {
  int fd = seccomp_notify_fd(static_cast<scmp_filter_ctx>(ctx_));
  if (fd < 0) throw Error(std::string("linux.seccomp: listener fd: ") + std::strerror(-fd), -fd);
  return fd;
}

void SeccompFilter::load() {
  int r = seccomp_load(static_cast<scmp_filter_ctx>(ctx_));
  if (r < 0) throw Error(std::string("linux.seccomp: load filter: ") + std::strerror(-r), -r);
}

}  // namespace ocirt::linux_
