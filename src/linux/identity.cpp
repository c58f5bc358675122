// Who the container process is: rlimits, groups, uid/gid, capabilities (libcap-ng),
// no_new_privs, umask, and the PATH lookup of its executable.
#include <cap-ng.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "ocirt/error.hpp"
#include "src/linux/linux.hpp"
#include "src/linux/files.hpp"
#include "src/spec/rlimits.hpp"

namespace ocirt::linux_ {

void apply_rlimits(const spec::Process& p) {
  for (size_t i = 0; i < p.rlimits.size(); ++i) {
    const auto& r = p.rlimits[i];
    struct rlimit rl = {static_cast<rlim_t>(r.soft), static_cast<rlim_t>(r.hard)};
    if (::setrlimit(spec::rlimit_resource(r.type), &rl) < 0) {
      const int e = errno;
      struct rlimit cur {};
      ::getrlimit(spec::rlimit_resource(r.type), &cur);
      throw_errno("process.rlimits[" + std::to_string(i) + "] (" + r.type + "): setrlimit" +
                      (e == EPERM && rl.rlim_max > cur.rlim_max
                           ? " (a hard limit above the current " + std::to_string(cur.rlim_max) + " needs CAP_SYS_RESOURCE)"
                           : ""),
                  e);
    }
  }
}

namespace {

struct CapSet {
  const std::optional<std::vector<std::string>>& names;
  capng_type_t type;
  const char* field;
};

// Loads the sets into libcap-ng's state and returns the bounding set as a mask. Names that
// libcap-ng or this kernel does not know are left out with a warning, as runc does (podman's
// lists can name capabilities newer than the kernel); a known one the runtime lacks is an error.
uint64_t load_caps(const spec::Capabilities& c, std::vector<std::string>& warnings) {
  uint64_t bounding = 0, checked = 0;
  std::vector<std::string> unknown;
  capng_clear(CAPNG_SELECT_ALL);
  const CapSet sets[] = {
      {c.bounding, CAPNG_BOUNDING_SET, "bounding"}, {c.effective, CAPNG_EFFECTIVE, "effective"},
      {c.permitted, CAPNG_PERMITTED, "permitted"},  {c.inheritable, CAPNG_INHERITABLE, "inheritable"},
  };
  for (auto& s : sets) {
    if (!s.names) continue;
    for (size_t i = 0; i < s.names->size(); ++i) {
      const std::string& name = (*s.names)[i];
      int cap = name.size() > 4 ? capng_name_to_capability(name.c_str() + 4) : -1;
      std::string where = std::string("process.capabilities.") + s.field + "[" + std::to_string(i) + "]";
      // A capability the runtime itself lacks cannot be given: say so instead of dropping it.
      // (Each capability is asked about once, though it is usually named in four sets.)
      int have = cap < 0 || cap >= 64 ? -1 : (checked & (uint64_t{1} << cap)) ? 1 : ::prctl(PR_CAPBSET_READ, cap);
      if (have < 0) {  // unknown to libcap-ng, or beyond this kernel's last capability (EINVAL)
        if (std::find(unknown.begin(), unknown.end(), name) == unknown.end()) unknown.push_back(name);
        continue;
      }
      if (have != 1) throw Error(where + ": " + name + " is not in the runtime's bounding set on this host", EPERM);
      if (capng_update(CAPNG_ADD, s.type, cap) < 0) throw Error(where + ": cannot add " + name, EINVAL);
      checked |= uint64_t{1} << cap;
      if (s.type == CAPNG_BOUNDING_SET) bounding |= uint64_t{1} << cap;
    }
  }
  if (!unknown.empty()) {
    std::string list;
    for (auto& n : unknown) list += (list.empty() ? "" : " ") + n;
    warnings.push_back("ignoring unknown or unavailable capabilities: [" + list + "]");
  }
  return bounding;
}

// Drops every capability outside `keep` from the bounding set, up to the kernel's last one
// (EINVAL). Not capng_apply(CAPNG_SELECT_BOUNDS): that first re-reads the process's state,
// opening and parsing /proc/self/status three times, a third of the cost of this step.
void drop_bounding(uint64_t keep) {
  for (int cap = 0; cap < 64; ++cap) {
    if (keep & (uint64_t{1} << cap)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      if (errno == EINVAL) return;
      const char* name = capng_capability_to_name(static_cast<unsigned>(cap));
      throw_errno(std::string("process.capabilities.bounding: drop ") + (name ? name : std::to_string(cap).c_str()));
    }
  }
}

}  // namespace

void fix_stdio_owner(uid_t uid) {
  // runc's fixStdioPermissions: stdio the caller gave (pipes, a tty) becomes the process's user's,
  // so it can reopen /dev/stdout (/proc/self/fd/1); /dev/null and what is already its own are
  // left alone, and a refusal (an unmapped owner, a read-only /dev) is no error.
  for (int fd = 0; fd < 3; ++fd) {
    struct stat st;
    if (::fstat(fd, &st) < 0 || st.st_uid == uid) continue;
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) continue;
    if (::fchown(fd, uid, static_cast<gid_t>(-1)) < 0 && errno != EINVAL && errno != EPERM && errno != EROFS)
      throw_errno("chown stdio (fd " + std::to_string(fd) + ") to the process's user");
  }
}

void apply_identity(const spec::Process& p, bool in_userns, std::vector<std::string>& warnings) {
  fix_stdio_owner(p.user.uid);
  const bool caps = p.capabilities.has_value();
  if (caps) {
    drop_bounding(load_caps(*p.capabilities, warnings));
  }
  std::vector<gid_t> groups(p.user.additional_gids.begin(), p.user.additional_gids.end());
  if (::setgroups(groups.size(), groups.data()) < 0 && !(in_userns && errno == EPERM))
    throw_errno("process.user.additionalGids: setgroups");
  if (caps && ::prctl(PR_SET_KEEPCAPS, 1) < 0) throw_errno("prctl(PR_SET_KEEPCAPS)");
  if (::setresgid(p.user.gid, p.user.gid, p.user.gid) < 0) throw_errno("process.user.gid: setresgid");
  if (::setresuid(p.user.uid, p.user.uid, p.user.uid) < 0) throw_errno("process.user.uid: setresuid");
  if (caps) {
    ::prctl(PR_SET_KEEPCAPS, 0);
    if (capng_apply(CAPNG_SELECT_CAPS) < 0) throw_errno("process.capabilities: capset");
    // Like runc: an ambient capability the kernel refuses (not permitted and inheritable) is a warning.
    if (p.capabilities->ambient) {
      for (auto& name : *p.capabilities->ambient) {
        int cap = name.size() > 4 ? capng_name_to_capability(name.c_str() + 4) : -1;
        if (cap < 0 || !capng_have_capability(CAPNG_PERMITTED, static_cast<unsigned>(cap))) {
          if (cap >= 0) warnings.push_back("debug:process.capabilities.ambient: cannot raise " + name + " (it must be permitted and inheritable)");
          continue;  // unknown: already warned about, or not permitted
        }
        if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
          warnings.push_back("debug:process.capabilities.ambient: cannot raise " + name + ": " + std::strerror(errno) +
                             " (it must be permitted and inheritable)");
      }
    }
  }
  if (p.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) throw_errno("process.noNewPrivileges");
  ::umask(p.user.umask.value_or(022));
}

std::string find_executable(const spec::Process& p) {
  const std::string& name = p.args[0];
  // stat and the mode bits only: a seccomp profile may already be loaded here, and glibc's
  // faccessat2 gets EPERM from profiles that predate it (it only falls back on ENOSYS).
  const uid_t euid = ::geteuid();
  const gid_t egid = ::getegid();
  std::vector<gid_t> groups(::getgroups(0, nullptr) > 0 ? ::getgroups(0, nullptr) : 0);
  if (!groups.empty()) groups.resize(std::max(0, ::getgroups(groups.size(), groups.data())));
  auto check = [&](const std::string& path) -> int {
    struct stat st;
    if (::stat(path.c_str(), &st) < 0) return errno;
    if (!S_ISREG(st.st_mode)) return EACCES;
    mode_t bits;
    if (euid == 0) bits = S_IXUSR | S_IXGRP | S_IXOTH;
    else if (st.st_uid == euid) bits = S_IXUSR;
    else if (st.st_gid == egid || std::find(groups.begin(), groups.end(), st.st_gid) != groups.end()) bits = S_IXGRP;
    else bits = S_IXOTH;
    return (st.st_mode & bits) ? 0 : EACCES;
  };
  // Go's exec.LookPath words (runc's): a path that cannot be stat'ed says "stat PATH: why"
  // (Go's lower-case strerror); one that is not an executable file, "permission denied"; a
  // name is searched in PATH, skipping what is not executable, else "not found in $PATH".
  if (name.find('/') != std::string::npos) {
    int e = check(name);
    if (e == 0) return name;
    if (e == EACCES) throw Error("exec: \"" + name + "\": permission denied", e);
    std::string why = std::strerror(e);
    if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
    throw Error("exec: \"" + name + "\": stat " + name + ": " + why, e);
  }
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (auto& e : p.env)
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t c = path.find(':', pos);
    if (c == std::string::npos) c = path.size();
    std::string dir = path.substr(pos, c - pos);
    std::string cand = (dir.empty() ? "." : dir) + "/" + name;
    if (check(cand) == 0) return cand;
    pos = c + 1;
  }
  throw Error("exec: \"" + name + "\": executable file not found in $PATH", ENOENT);
}

namespace {

// The fields of /etc/passwd or /etc/group lines, the way runc's user package reads them:
// "name:x:id:gid:gecos:home:shell" and "name:x:gid:member,member".
std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> f;
  for (size_t at = 0;;) {
    size_t c = line.find(':', at);
    f.push_back(line.substr(at, c == line.npos ? line.npos : c - at));
    if (c == line.npos) return f;
    at = c + 1;
  }
}

template <class F>
void each_line(const char* path, F&& f) {
  std::string text;
  try {
    if (!sys::try_read_file(path, text)) return;
  } catch (const Error&) {
    return;
  }
  for (size_t at = 0; at < text.size();) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + at, nl - at);
    if (!line.empty() && line[0] != '#' && f(fields(line))) return;
    at = nl + 1;
  }
}

bool number(std::string_view s, uint32_t& out) {
  if (s.empty() || s.size() > 10) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > UINT32_MAX) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

}  // namespace

std::string home_of(const spec::Process& p) {
  for (auto& e : p.env)
    if (e.rfind("HOME=", 0) == 0) return "";
  std::string home = "/";  // runc's default for a user without an entry
  std::string uid = std::to_string(p.user.uid);
  each_line("/etc/passwd", [&](const std::vector<std::string_view>& f) {
    if (f.size() < 6 || f[2] != uid) return false;
    home = f[5].empty() ? "/" : std::string(f[5]);
    return true;
  });
  return home;
}

void resolve_user(const std::string& spec, spec::User& u) {
  std::string user = spec, group;
  if (auto c = spec.find(':'); c != std::string::npos) {
    user = spec.substr(0, c);
    group = spec.substr(c + 1);
  }
  if (user.empty()) throw Error(ErrorKind::Invalid, "user", "\"" + spec + "\" names no user", EINVAL);
  uint32_t uid = 0, gid = 0;
  bool by_number = number(user, uid), found = by_number, gid_known = false;
  std::string name = by_number ? "" : user;
  each_line("/etc/passwd", [&](const std::vector<std::string_view>& f) {
    uint32_t id;
    if (f.size() < 4 || !number(f[2], id)) return false;
    if (by_number ? id != uid : f[0] != user) return false;
    uid = id;
    found = gid_known = number(f[3], gid);
    name = std::string(f[0]);
    return true;
  });
  if (!found) throw Error(ErrorKind::Invalid, "user", "unable to find user " + user + ": no matching entries in passwd file", ENOENT);
  if (!group.empty()) {
    bool g_number = number(group, gid);
    bool g_found = g_number;
    if (!g_number)
      each_line("/etc/group", [&](const std::vector<std::string_view>& f) {
        if (f.size() < 3 || f[0] != group || !number(f[2], gid)) return false;
        return g_found = true;
      });
    if (!g_found) throw Error(ErrorKind::Invalid, "user", "unable to find group " + group + ": no matching entries in group file", ENOENT);
    gid_known = true;
  }
  u.uid = uid;
  if (gid_known) u.gid = gid;
  // the groups that list the user (runc's supplementary groups for a named user)
  if (!name.empty() && group.empty())
    each_line("/etc/group", [&](const std::vector<std::string_view>& f) {
      uint32_t g;
      if (f.size() < 4 || !number(f[2], g)) return false;
      for (size_t at = 0; at <= f[3].size();) {
        size_t c = f[3].find(',', at);
        if (f[3].substr(at, c == std::string_view::npos ? std::string_view::npos : c - at) == name &&
            std::find(u.additional_gids.begin(), u.additional_gids.end(), g) == u.additional_gids.end())
          u.additional_gids.push_back(g);
        if (c == std::string_view::npos) break;
        at = c + 1;
      }
      return false;
    });
}

int exec_process(const std::string& exe, const spec::Process& p, const std::string& home) {
  std::vector<char*> argv, envp;
  for (auto& a : p.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : p.env) envp.push_back(const_cast<char*>(e.c_str()));
  std::string home_env = "HOME=" + home;
  if (!home.empty()) envp.push_back(home_env.data());
  envp.push_back(nullptr);
  ::execve(exe.c_str(), argv.data(), envp.data());
  return errno;
}

}  // namespace ocirt::linux_
