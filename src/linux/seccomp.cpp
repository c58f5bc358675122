// linux.seccomp: validation with JSON paths, compilation by libseccomp, the BPF cache, loading.
#include "src/linux/seccomp.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <linux/audit.h>
#include <set>

#include "config.h"
#include "ocirt/error.hpp"
#include "ocirt/fd.hpp"
#include "src/linux/sync.hpp"

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
    if (c.action == "SCMP_ACT_NOTIFY") {
      notify = true;
      // the init talks to the runtime with write(2) before exec: it would wait on itself (runc's words)
      for (auto& n : c.names)
        if (n == "write")
          throw Error(where + ".names: SCMP_ACT_NOTIFY cannot be used for the write syscall", EINVAL);
    }
    for (size_t j = 0; j < c.args.size(); ++j) {
      scmp_compare op;
      if (!parse_op(c.args[j].op, op))
        throw Error(where + ".args[" + std::to_string(j) + "].op: unknown operator \"" + c.args[j].op + "\"", EINVAL);
    }
  }
  if (s.default_action == "SCMP_ACT_NOTIFY")
    throw Error("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be used as default action (the runtime's own calls would block)", EINVAL);
  if (notify && s.listener_path.empty())
    throw Error("linux.seccomp.listenerPath: required when an action is SCMP_ACT_NOTIFY", EINVAL);
  if (notify && s.listener_path[0] != '/')
    throw Error("linux.seccomp.listenerPath: \"" + s.listener_path + "\" is not an absolute path", EINVAL);
  // a listenerPath without any SCMP_ACT_NOTIFY rule is unused, as runc leaves it
}

namespace {

// The cache key: a canonical text of everything that shapes the compiled program.
std::string cache_key(const spec::Seccomp& s) {
  // the runtime's own version first: a new build may compile the same profile differently
  std::string k = "oci-rt-seccomp-v1 " OCIRT_VERSION " " OCIRT_COMMIT "\n";
  const scmp_version* v = seccomp_version();
  k += "libseccomp " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro);
  k += " api " + std::to_string(seccomp_api_get()) + " native " + std::to_string(seccomp_arch_native()) + "\n";
  k += "default " + s.default_action + " " + (s.default_errno_ret ? std::to_string(*s.default_errno_ret) : "-") + "\n";
  for (auto& a : s.architectures) k += "arch " + a + "\n";
  for (auto& f : s.flags) k += "flag " + f + "\n";
  for (auto& c : s.syscalls) {
    k += "rule " + c.action + " " + (c.errno_ret ? std::to_string(*c.errno_ret) : "-");
    for (auto& n : c.names) k += " " + n;
    for (auto& a : c.args)
      k += " [" + std::to_string(a.index) + " " + a.op + " " + std::to_string(a.value) + " " + std::to_string(a.value_two) + "]";
    k += "\n";
  }
  return k;
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

constexpr char kMagic[8] = {'O', 'C', 'I', 'R', 'T', 'S', 'C', '1'};
constexpr size_t kMaxEntries = 64;
constexpr off_t kMaxEntryBytes = 4 << 20;  // key (the profile's text) and up to 65536 instructions

}  // namespace

// File: magic, u32 key length, key, u32 instruction count, instructions. A hit needs the whole
// key to match (the hash only names the file) and a consistent size.
bool parse_cache_entry(std::string_view data, const std::string& key, std::vector<uint64_t>& prog) {
  size_t pos = 0;
  auto take = [&](void* out, size_t n) {
    if (pos + n > data.size()) return false;
    memcpy(out, data.data() + pos, n);
    pos += n;
    return true;
  };
  char magic[8];
  uint32_t klen, n;
  if (!take(magic, 8) || memcmp(magic, kMagic, 8) != 0 || !take(&klen, 4) || klen != key.size()) return false;
  if (data.compare(pos, klen, key) != 0) return false;
  pos += klen;
  if (!take(&n, 4) || n == 0 || n > BPF_MAXINSNS || data.size() - pos != n * 8ull) return false;
  prog.resize(n);
  memcpy(prog.data(), data.data() + pos, n * 8ull);
  return true;
}

namespace {

// A hit also needs a file of ours (owner, no group/other write); anything else is a miss and
// is overwritten.
bool cache_read(const std::string& path, const std::string& key, std::vector<uint64_t>& prog) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return false;
  struct stat st;
  if (::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 022)) return false;
  if (st.st_size > kMaxEntryBytes) return false;  // not one of ours: no unbounded read
  std::string data;
  data.resize(static_cast<size_t>(st.st_size));
  if (::read(fd.get(), data.data(), data.size()) != static_cast<ssize_t>(data.size())) return false;
  if (!parse_cache_entry(data, key, prog)) return false;
  ::futimens(fd.get(), nullptr);  // its mtime is its last use: eviction drops the oldest
  return true;
}

// At most kMaxEntries programs: after a write, the least recently used beyond that are removed
// (a host running many different profiles keeps the ones it uses; the directory stays small).
void cache_evict(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  std::vector<std::pair<struct timespec, std::string>> entries;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n.size() < 5 || n.substr(n.size() - 4) != ".bpf" || n[0] == '.') continue;
    struct stat st;
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) entries.push_back({st.st_mtim, e->d_name});
  }
  ::closedir(d);
  if (entries.size() <= kMaxEntries) return;
  std::sort(entries.begin(), entries.end(), [](auto& a, auto& b) {
    return a.first.tv_sec != b.first.tv_sec ? a.first.tv_sec < b.first.tv_sec : a.first.tv_nsec < b.first.tv_nsec;
  });
  for (size_t i = 0; i < entries.size() - kMaxEntries; ++i) ::unlink((dir + "/" + entries[i].second).c_str());
}

void cache_write(const std::string& dir, const std::string& name, const std::string& key, const std::vector<uint64_t>& prog) {
  if (::mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) return;
  std::string data(kMagic, 8);
  uint32_t klen = static_cast<uint32_t>(key.size()), n = static_cast<uint32_t>(prog.size());
  data.append(reinterpret_cast<const char*>(&klen), 4);
  data += key;
  data.append(reinterpret_cast<const char*>(&n), 4);
  data.append(reinterpret_cast<const char*>(prog.data()), prog.size() * 8);
  std::string tmp = dir + "/." + name + "." + std::to_string(::getpid());
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return;
  bool ok = ::write(fd.get(), data.data(), data.size()) == static_cast<ssize_t>(data.size());
  fd.reset();
  if (!ok || ::rename(tmp.c_str(), (dir + "/" + name).c_str()) < 0) ::unlink(tmp.c_str());  // a cache: best effort
  else cache_evict(dir);
}

uint64_t bpf(uint16_t code, uint8_t jt, uint8_t jf, uint32_t k) {
  struct sock_filter f = {code, jt, jf, k};
  uint64_t out;
  static_assert(sizeof f == sizeof out);
  memcpy(&out, &f, sizeof out);
  return out;
}

// runc's ENOSYS stub (patchbpf): a syscall newer than every one the profile names, for an
// architecture, gets ENOSYS instead of the default action, so a new libc falls back to the old
// call (clone3 -> clone, faccessat2 -> faccessat) instead of failing with EPERM. Prepended to
// libseccomp's program: per architecture, "nr > highest named: return ENOSYS", else on.
std::vector<uint64_t> enosys_stub(const spec::Seccomp& s) {
  struct Arch {
    uint32_t scmp, audit;
    int max = -1;
  };
  std::vector<Arch> arches;
  auto want = [&](uint32_t scmp, uint32_t audit) {
    for (auto& a : arches)
      if (a.scmp == scmp) return;
    arches.push_back({scmp, audit});
  };
  const uint32_t native = seccomp_arch_native();
  if (native == SCMP_ARCH_X86_64) want(SCMP_ARCH_X86_64, AUDIT_ARCH_X86_64);
  else if (native == SCMP_ARCH_AARCH64) want(SCMP_ARCH_AARCH64, AUDIT_ARCH_AARCH64);
  for (auto& a : s.architectures) {
    uint32_t scmp = parse_arch(a);
    if (scmp == SCMP_ARCH_X86) want(SCMP_ARCH_X86, AUDIT_ARCH_I386);
    else if (scmp == SCMP_ARCH_X86_64) want(SCMP_ARCH_X86_64, AUDIT_ARCH_X86_64);
    else if (scmp == SCMP_ARCH_AARCH64) want(SCMP_ARCH_AARCH64, AUDIT_ARCH_AARCH64);
  }
  for (auto& a : arches)
    for (auto& c : s.syscalls)
      for (auto& name : c.names) {
        int nr = seccomp_syscall_resolve_name_arch(a.scmp, name.c_str());
        if (nr >= 0 && nr < 0x40000000) a.max = std::max(a.max, nr);
      }
  std::vector<uint64_t> out;
  const uint16_t ld = BPF_LD | BPF_W | BPF_ABS, jeq = BPF_JMP | BPF_JEQ | BPF_K, jgt = BPF_JMP | BPF_JGT | BPF_K,
                 jge = BPF_JMP | BPF_JGE | BPF_K, ret = BPF_RET | BPF_K;
  const uint32_t enosys = SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA);
  // blocks of 6: ld arch; jeq arch; ld nr; jge x32 bit (to the program); jgt max; ret ENOSYS
  size_t blocks = 0;
  for (auto& a : arches) blocks += a.max >= 0;
  size_t left = blocks;
  for (auto& a : arches) {
    if (a.max < 0) continue;
    --left;
    const uint8_t to_end = static_cast<uint8_t>(left * 6);  // from after this block's last insn
    out.push_back(bpf(ld, 0, 0, 4));                        // seccomp_data.arch
    out.push_back(bpf(jeq, 0, 4, a.audit));                  // another arch: next block
    out.push_back(bpf(ld, 0, 0, 0));                        // seccomp_data.nr
    out.push_back(bpf(jge, static_cast<uint8_t>(2 + to_end), 0, 0x40000000));  // x32: the program decides
    out.push_back(bpf(jgt, 0, static_cast<uint8_t>(1 + to_end), static_cast<uint32_t>(a.max)));
    out.push_back(bpf(ret, 0, 0, enosys));
  }
  return out;
}

// libseccomp: rules -> BPF (the same program seccomp_load would install).
std::vector<uint64_t> compile(const spec::Seccomp& s) {
  uint32_t dflt_errno = s.default_errno_ret.value_or(EPERM);
  uint32_t dflt;
  parse_action(s.default_action, s.default_errno_ret, EPERM, dflt);
  scmp_filter_ctx ctx = seccomp_init(dflt);
  if (!ctx) throw Error("linux.seccomp: seccomp_init failed", ENOMEM);
  struct Release {
    scmp_filter_ctx c;
    ~Release() { seccomp_release(c); }
  } release{ctx};
  for (size_t i = 0; i < s.architectures.size(); ++i) {
    int r = seccomp_arch_add(ctx, parse_arch(s.architectures[i]));
    if (r < 0 && r != -EEXIST)
      throw Error("linux.seccomp.architectures[" + std::to_string(i) + "]: " + std::strerror(-r), -r);
  }
  std::set<std::string> distinct;
  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    const auto& c = s.syscalls[i];
    uint32_t act;
    parse_action(c.action, c.errno_ret, dflt_errno, act);
    if (act == dflt) continue;  // libseccomp refuses rules that repeat the default (runc skips them)
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
        // Every distinct rule costs the program at least one instruction: past the kernel's
        // limit it could never load, and libseccomp's cost grows faster than the rule count.
        std::string key = std::to_string(nr) + " " + std::to_string(act);
        for (unsigned j = 0; j < n; ++j)
          key += " " + std::to_string(a[j].arg) + ":" + std::to_string(a[j].op) + ":" + std::to_string(a[j].datum_a) +
                 ":" + std::to_string(a[j].datum_b);
        if (distinct.insert(std::move(key)).second && distinct.size() > BPF_MAXINSNS)
          throw Error("linux.seccomp.syscalls[" + std::to_string(i) + "]: more than " + std::to_string(BPF_MAXINSNS) +
                          " distinct rules cannot fit the kernel's limit of " + std::to_string(BPF_MAXINSNS) +
                          " BPF instructions",
                      E2BIG);
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
  // export through a memfd (libseccomp 2.5 has no in-memory export)
  Fd mfd(static_cast<int>(::syscall(SYS_memfd_create, "seccomp-bpf", MFD_CLOEXEC)));
  if (!mfd) throw_errno("linux.seccomp: memfd_create");
  int r = seccomp_export_bpf(ctx, mfd.get());
  if (r < 0) throw Error(std::string("linux.seccomp: compile: ") + std::strerror(-r), -r);
  off_t size = ::lseek(mfd.get(), 0, SEEK_CUR);
  if (size <= 0 || size % 8) throw Error("linux.seccomp: compile: unexpected program size", EINVAL);
  std::vector<uint64_t> prog(static_cast<size_t>(size) / 8);
  if (::pread(mfd.get(), prog.data(), static_cast<size_t>(size), 0) != size) throw_errno("linux.seccomp: read program");
  if (dflt != SCMP_ACT_ALLOW && dflt != SCMP_ACT_LOG) {
    std::vector<uint64_t> stub = enosys_stub(s);
    prog.insert(prog.begin(), stub.begin(), stub.end());
  }
  if (prog.size() > BPF_MAXINSNS)
    throw Error("linux.seccomp: the profile compiles to " + std::to_string(prog.size()) +
                    " BPF instructions, over the kernel's limit of " + std::to_string(BPF_MAXINSNS),
                E2BIG);
  return prog;
}

}  // namespace

SeccompFilter::SeccompFilter(const spec::Seccomp& s, const std::string& cache_dir) {
  uint32_t dflt_errno = s.default_errno_ret.value_or(EPERM), dflt, act;
  parse_action(s.default_action, s.default_errno_ret, EPERM, dflt);
  for (auto& c : s.syscalls)
    if (parse_action(c.action, c.errno_ret, dflt_errno, act) && act != dflt && act == SCMP_ACT_NOTIFY) notify_ = true;
  for (auto& f : s.flags) {
    if (f == "SECCOMP_FILTER_FLAG_TSYNC") flags_ |= SECCOMP_FILTER_FLAG_TSYNC;
    else if (f == "SECCOMP_FILTER_FLAG_LOG") flags_ |= SECCOMP_FILTER_FLAG_LOG;
    else if (f == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") flags_ |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  }
  std::string key, name;
  if (!cache_dir.empty()) {
    key = cache_key(s);
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(key)));
    name = std::string(hex) + ".bpf";
    if (cache_read(cache_dir + "/" + name, key, prog_)) {
      from_cache_ = true;
      return;
    }
  }
  prog_ = compile(s);
  if (!cache_dir.empty()) cache_write(cache_dir, name, key, prog_);
}

void load_seccomp(SeccompFilter& f, int sync_fd) {
  f.load();
  if (!f.has_notify()) return;
  Fd lfd(f.notify_fd());
  sync::send_fd(sync_fd, sync::Type::SeccompFd, lfd.get());
  sync::expect(sync_fd, sync::Type::SeccompDone, "wait for the seccomp listener hand-off");
}

void SeccompFilter::load() {
  if (loaded_) return;
  struct sock_fprog fp;
  fp.len = static_cast<unsigned short>(prog_.size());
  fp.filter = reinterpret_cast<struct sock_filter*>(prog_.data());
  unsigned flags = flags_;
  if (notify_) flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  if (notify_ && (flags & SECCOMP_FILTER_FLAG_TSYNC)) flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  long r = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fp);
  if (r < 0) throw_errno("linux.seccomp: load filter");
  if (notify_) listener_ = static_cast<int>(r);
  loaded_ = true;
}

}  // namespace ocirt::linux_
