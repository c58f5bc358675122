#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "ocirt/cgroups.hpp"
#include "ocirt/error.hpp"
#include "src/linux/util.hpp"

namespace ocirt::cgroups {
namespace {

long fs_type(const std::string& path) {
  struct statfs s;
  return ::statfs(path.c_str(), &s) == 0 ? static_cast<long>(s.f_type) : 0;
}

System detect() {
  System sys;
  const std::string base = "/sys/fs/cgroup";
  long t = fs_type(base);
  std::string self;
  sys::try_read_file("/proc/self/cgroup", self);
  if (t == CGROUP2_SUPER_MAGIC) {
    sys.layout = Layout::V2;
    Hierarchy h{"", base, "/", true};
    for (size_t pos = 0; pos < self.size();) {
      size_t nl = self.find('\n', pos);
      std::string line = self.substr(pos, nl - pos);
      pos = nl == std::string::npos ? self.size() : nl + 1;
      if (line.rfind("0::", 0) == 0) h.own_path = line.substr(3);
    }
    sys.hierarchies.push_back(h);
    return sys;
  }
  if (t != TMPFS_MAGIC) return sys;
  bool any_v1 = false, v2 = false;
  for (size_t pos = 0; pos < self.size();) {
    size_t nl = self.find('\n', pos);
    std::string line = self.substr(pos, nl - pos);
    pos = nl == std::string::npos ? self.size() : nl + 1;
    auto c1 = line.find(':'), c2 = line.find(':', c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) continue;
    std::string ctrls = line.substr(c1 + 1, c2 - c1 - 1), path = line.substr(c2 + 1);
    if (ctrls.empty()) {
      if (fs_type(base + "/unified") == CGROUP2_SUPER_MAGIC) {
        sys.hierarchies.push_back({"", base + "/unified", path, true});
        v2 = true;
      }
      continue;
    }
    // Mount point: the joined controller list, the name of a named hierarchy, or the first
    // controller (a symlink to the co-mounted dir); confirmed by the filesystem type.
    std::vector<std::string> candidates = {ctrls};
    if (ctrls.rfind("name=", 0) == 0) candidates.push_back(ctrls.substr(5));
    candidates.push_back(ctrls.substr(0, ctrls.find(',')));
    for (auto& c : candidates) {
      if (fs_type(base + "/" + c) == CGROUP_SUPER_MAGIC) {
        sys.hierarchies.push_back({ctrls, base + "/" + c, path, false});
        any_v1 = true;
        break;
      }
    }
  }
  sys.layout = any_v1 ? (v2 ? Layout::Hybrid : Layout::V1) : (v2 ? Layout::V2 : Layout::None);
  return sys;
}

std::string normalize(const std::string& p) {
  std::string out;
  size_t i = 0;
  while (i < p.size()) {
    while (i < p.size() && p[i] == '/') ++i;
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string c = p.substr(i, j - i);
    if (c == "..") throw Error("linux.cgroupsPath: \"" + p + "\" must not contain \"..\"", EINVAL);
    if (!c.empty() && c != ".") out += "/" + c;
    i = j;
  }
  return out;
}

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

void copy_if_empty(const std::string& dir, const char* file) {
  std::string cur;
  if (!sys::try_read_file(dir + "/" + file, cur)) return;
  if (cur.find_first_not_of(" \n") != std::string::npos) return;
  std::string parent = sys::read_file(dir.substr(0, dir.rfind('/')) + "/" + file);
  sys::write_file(dir + "/" + file, parent);
}

}  // namespace

const System& System::get() {
  static System s = detect();
  return s;
}

const char* layout_name(Layout l) {
  switch (l) {
    case Layout::V1: return "v1";
    case Layout::Hybrid: return "hybrid";
    case Layout::V2: return "v2";
    default: return "none";
  }
}

Plan plan(const std::string& cgroups_path, const std::string& id) {
  const System& s = System::get();
  Plan p;
  for (auto& h : s.hierarchies) {
    std::string rel;
    if (cgroups_path.empty()) rel = "/" + id;
    else if (cgroups_path[0] == '/') rel = normalize(cgroups_path);
    else rel = normalize(h.own_path + "/" + cgroups_path);
    if (rel.empty()) throw Error("linux.cgroupsPath: \"" + cgroups_path + "\" names the root cgroup", EINVAL);
    p.path = cgroups_path.empty() || cgroups_path[0] == '/' ? rel : p.path;
    std::string leaf = h.mount + rel;
    p.leaves.push_back(leaf);
    std::string cur = h.mount;
    for (size_t i = 1; i <= rel.size(); ++i) {
      if (i == rel.size() || rel[i] == '/') {
        cur = h.mount + rel.substr(0, i);
        if (!exists(cur)) p.to_create.push_back(cur);
      }
    }
  }
  if (p.path.empty() && !p.leaves.empty()) p.path = normalize(cgroups_path);
  return p;
}

void create(const Plan& p) {
  for (auto& dir : p.to_create) {
    if (::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) throw_errno("create cgroup " + dir);
    if (dir.find("/cpuset/") != std::string::npos) {
      copy_if_empty(dir, "cpuset.cpus");
      copy_if_empty(dir, "cpuset.mems");
    }
  }
}

static bool has_controller(const Hierarchy& h, std::string_view c) {
  size_t pos = 0;
  while (pos <= h.controllers.size()) {
    size_t e = h.controllers.find(',', pos);
    if (e == std::string::npos) e = h.controllers.size();
    if (std::string_view(h.controllers).substr(pos, e - pos) == c) return true;
    pos = e + 1;
  }
  return false;
}

void apply(const Plan& p, const spec::Resources& r) {
  const System& s = System::get();
  if (r.pids_limit) {
    std::string v = *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max";
    bool done = false;
    for (size_t i = 0; i < s.hierarchies.size() && i < p.leaves.size(); ++i) {
      if (s.hierarchies[i].v2 || !has_controller(s.hierarchies[i], "pids")) continue;
      try {
        sys::write_file(p.leaves[i] + "/pids.max", v);
      } catch (const Error& e) {
        throw Error(std::string("linux.resources.pids.limit: ") + e.what(), e.err());
      }
      done = true;
    }
    if (!done) throw Error("linux.resources.pids.limit: no pids controller on this host", ENOTSUP);
  }
}

void add_process(const std::vector<std::string>& leaves, pid_t pid) {
  std::string s = std::to_string(pid);
  for (auto& leaf : leaves) {
    try {
      sys::write_file(leaf + "/cgroup.procs", s);
    } catch (const Error& e) {
      throw Error(std::string("join cgroup: ") + e.what(), e.err());
    }
  }
}

std::vector<pid_t> pids(const std::vector<std::string>& leaves) {
  std::vector<pid_t> out;
  for (auto& leaf : leaves) {
    std::string s;
    try {
      if (!sys::try_read_file(leaf + "/cgroup.procs", s)) continue;
    } catch (const Error&) {
      continue;
    }
    for (size_t pos = 0; pos < s.size();) {
      size_t nl = s.find('\n', pos);
      pid_t pid = static_cast<pid_t>(atoi(s.c_str() + pos));
      if (pid > 0 && std::find(out.begin(), out.end(), pid) == out.end()) out.push_back(pid);
      pos = nl == std::string::npos ? s.size() : nl + 1;
    }
  }
  return out;
}

void destroy(const std::vector<std::string>& leaves, const std::vector<std::string>& created) {
  // A frozen cgroup cannot die: thaw first.
  for (auto& leaf : leaves) {
    if (leaf.find("/freezer/") != std::string::npos && exists(leaf + "/freezer.state")) {
      try { sys::write_file(leaf + "/freezer.state", "THAWED"); } catch (const Error&) {}
    }
    if (exists(leaf + "/cgroup.freeze")) {
      try { sys::write_file(leaf + "/cgroup.freeze", "0"); } catch (const Error&) {}
    }
  }
  struct timespec ts = {0, 1000000};
  for (int round = 0; round < 2000; ++round) {  // up to ~2 s
    auto left = pids(leaves);
    if (left.empty()) break;
    for (pid_t p : left) ::kill(p, SIGKILL);
    nanosleep(&ts, nullptr);
  }
  std::string failed;
  for (auto it = created.rbegin(); it != created.rend(); ++it) {
    int tries = 0;
    while (::rmdir(it->c_str()) < 0) {
      if (errno == ENOENT) break;
      if (errno != EBUSY || ++tries > 1000) {
        failed += (failed.empty() ? "" : ", ") + *it + " (" + strerror(errno) + ")";
        break;
      }
      nanosleep(&ts, nullptr);
    }
  }
  if (!failed.empty()) throw Error("remove cgroup: " + failed, EBUSY);
}

}  // namespace ocirt::cgroups
