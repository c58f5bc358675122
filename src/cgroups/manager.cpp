// Layout detection, cgroupsPath planning, creation, membership, freezing and removal.
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <functional>
#include <optional>

#include <spdlog/spdlog.h>

#include "ocirt/cgroups.hpp"
#include "ocirt/error.hpp"
#include "ocirt/fd.hpp"
#include "src/cgroups/internal.hpp"
#include "src/common/path.hpp"
#include "src/linux/files.hpp"

namespace ocirt::cgroups {
namespace detail {

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

static void write_values(const std::string& dir, const std::string& file, const std::string* values, size_t count,
                         const std::string& field) {
  std::string path = dir + "/" + file;
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  for (size_t i = 0; i < count; ++i) {
    const std::string& value = values[i];
    ssize_t n = fd ? ::write(fd.get(), value.data(), value.size()) : -1;
    if (n < 0) {
      int e = errno;
      std::string why = e == ENOENT ? "this kernel has no " + file : std::string(strerror(e));
      throw Error(field + ": write \"" + value + "\" to " + path + ": " + why, e);
    }
  }
}

void put(const std::string& dir, const std::string& file, const std::string& value, const std::string& field) {
  write_values(dir, file, &value, 1, field);
}

void put_each(const std::string& dir, const char* file, const std::vector<std::string>& values, const std::string& field) {
  write_values(dir, file, values.data(), values.size(), field);
}

void put(const std::string& dir, const char* file, const std::string& value, const std::string& field) {
  put(dir, std::string(file), value, field);
}

std::string get(const std::string& dir, const std::string& file) {
  std::string s;
  try {
    if (!sys::try_read_file(dir + "/" + file, s)) return "";
  } catch (const Error&) {
    return "";
  }
  return s;
}

uint64_t parse_u64(const std::string& s) {
  if (s.rfind("max", 0) == 0) return UINT64_MAX;
  return strtoull(s.c_str(), nullptr, 10);
}

uint64_t get_u64(const std::string& dir, const std::string& file) { return parse_u64(get(dir, file)); }

std::vector<ProcCgroup> proc_cgroup_entries(const std::string& text) {
  std::vector<ProcCgroup> out;
  for (auto& line : lines(text)) {
    auto c1 = line.find(':'), c2 = line.find(':', c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) continue;
    out.push_back({line.substr(c1 + 1, c2 - c1 - 1), line.substr(c2 + 1)});
  }
  return out;
}

uint64_t keyed(const std::string& text, std::string_view key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + pos, nl - pos);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ' ')
      return strtoull(std::string(line.substr(key.size() + 1)).c_str(), nullptr, 10);
    pos = nl + 1;
  }
  return 0;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    if (nl > pos) out.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

std::vector<std::string> hugepage_sizes() {
  std::vector<std::string> out;
  DIR* d = ::opendir("/sys/kernel/mm/hugepages");
  if (!d) return out;
  while (struct dirent* e = ::readdir(d)) {
    unsigned long kb = 0;
    if (sscanf(e->d_name, "hugepages-%lukB", &kb) != 1) continue;
    if (kb >= 1024 * 1024) out.push_back(std::to_string(kb / (1024 * 1024)) + "GB");
    else if (kb >= 1024) out.push_back(std::to_string(kb / 1024) + "MB");
    else out.push_back(std::to_string(kb) + "KB");
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace detail

using namespace detail;

namespace {

long fs_type(const std::string& path) {
  struct statfs s;
  return ::statfs(path.c_str(), &s) == 0 ? static_cast<long>(s.f_type) : 0;
}

// Controller lists ("cpu,cpuacct", "cpu io memory") as owned strings.
std::vector<std::string> words(std::string_view s, char sep) {
  std::vector<std::string> out;
  for (std::string_view w : path::split(s, sep)) out.emplace_back(w);
  return out;
}

std::vector<std::string> v2_root_controllers(const std::string& mount) {
  std::string s = get(mount, "cgroup.controllers");
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return words(s, ' ');
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
    for (auto& line : lines(self))
      if (line.rfind("0::", 0) == 0) h.own_path = line.substr(3);
    sys.hierarchies.push_back(h);
    sys.v2_controllers = v2_root_controllers(base);
    return sys;
  }
  if (t != TMPFS_MAGIC) return sys;
  bool any_v1 = false, v2 = false;
  for (auto& [ctrls, path] : proc_cgroup_entries(self)) {
    if (ctrls.empty()) {
      if (fs_type(base + "/unified") == CGROUP2_SUPER_MAGIC) {
        sys.hierarchies.push_back({"", base + "/unified", path, true});
        sys.v2_controllers = v2_root_controllers(base + "/unified");
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

// cgroupsPath below a hierarchy's root: "" for the root; ".." is refused, never resolved.
std::string normalize(const std::string& p) {
  std::optional<std::string> out = path::below_root(p);
  if (!out) throw Error("linux.cgroupsPath: \"" + p + "\" must not contain \"..\"", EINVAL);
  return std::move(*out);
}

void copy_if_empty(const std::string& dir, const char* file) {
  std::string cur = get(dir, file);
  if (cur.find_first_not_of(" \n") != std::string::npos) return;
  std::string parent = get(dir.substr(0, dir.rfind('/')), file);
  put(dir, file, parent, "cgroup " + dir);
}

const Hierarchy* hierarchy_of(const std::string& leaf) {
  const Hierarchy* best = nullptr;
  for (auto& h : System::get().hierarchies)
    if (leaf.size() > h.mount.size() && leaf.compare(0, h.mount.size(), h.mount) == 0 && leaf[h.mount.size()] == '/' &&
        (!best || h.mount.size() > best->mount.size()))
      best = &h;
  return best;
}

// v2: enable the root's controllers in every ancestor's subtree_control, top down, where
// missing, as runc's fs2.CreateCgroupPath: all at once, else each on its own, and a refusal is
// no error. A level with processes of its own refuses (EBUSY: the root of a cgroup namespace
// that holds the daemon, as containerd in a kind node or docker-in-docker; any cgroup a caller
// put processes in), and rootless, a level above the delegated subtree is not ours to change.
// A limit that needs a controller that stays off fails when it is set, naming its file.
void enable_controllers(const Hierarchy& h, const std::string& leaf) {
  const auto& want = System::get().v2_controllers;
  if (want.empty()) return;
  std::string dir = h.mount;
  std::string rest = leaf.substr(h.mount.size());
  for (size_t i = 1; i <= rest.size(); ++i) {
    if (i != rest.size() && rest[i] != '/') continue;
    auto list = [](std::string text) {
      for (auto& ch : text) if (ch == '\n') ch = ' ';
      return words(text, ' ');
    };
    auto have = list(get(dir, "cgroup.subtree_control")), avail = list(get(dir, "cgroup.controllers"));
    std::string add;
    for (auto& c : want) {
      if (std::find(have.begin(), have.end(), c) != have.end()) continue;
      if (std::find(avail.begin(), avail.end(), c) == avail.end()) continue;
      if (!add.empty()) add += ' ';
      add += '+';
      add += c;
    }
    if (!add.empty()) {
      try {
        put(dir, "cgroup.subtree_control", add, "");
      } catch (const Error&) {
        for (std::string_view c : path::split(add, ' ')) {
          try {
            put(dir, "cgroup.subtree_control", std::string(c), "");
          } catch (const Error& e) {
            spdlog::debug("cgroup {}: {} not enabled for its children: {}", dir, c, e.what());
          }
        }
      }
    }
    dir = h.mount + rest.substr(0, i);
  }
}

}  // namespace

bool Hierarchy::has(std::string_view c) const {
  if (v2) {
    for (auto& x : System::get().v2_controllers)
      if (x == c) return true;
    return false;
  }
  for (std::string_view x : path::split(controllers, ','))
    if (x == c) return true;
  return false;
}

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

Plan plan(const System& host, const std::string& cgroups_path, const std::string& id,
          const std::function<bool(const std::string&)>& exists) {
  Plan p;
  if (path::has_dotdot(cgroups_path))  // named as the config has it (validation says the same)
    throw Error("linux.cgroupsPath: \"" + cgroups_path + "\" must not contain \"..\"", EINVAL);
  for (auto& h : host.hierarchies) {
    std::string rel;
    if (cgroups_path.empty()) {
      rel = "/" + id;
    } else if (cgroups_path[0] == '/') {
      rel = normalize(cgroups_path);
    } else {
      std::string base = h.own_path;
      if (h.v2) base = base.substr(0, base.rfind('/'));  // the parent: ours has processes
      rel = normalize(base + "/" + cgroups_path);
    }
    if (rel.empty()) throw Error("linux.cgroupsPath: \"" + cgroups_path + "\" names the root cgroup", EINVAL);
    if (p.path.empty()) p.path = rel;
    p.leaves.push_back(h.mount + rel);
    // Ownership: every level from the hierarchy's root down to the leaf that is not there yet
    // is ours (made by create, removed by destroy), parents first.
    for (size_t i = 1; i <= rel.size(); ++i) {
      if (i == rel.size() || rel[i] == '/') {
        std::string cur = h.mount + rel.substr(0, i);
        if (!exists(cur)) p.to_create.push_back(std::move(cur));
      }
    }
  }
  return p;
}

Plan plan(const std::string& cgroups_path, const std::string& id) {
  return plan(System::get(), cgroups_path, id, [](const std::string& dir) { return exists(dir); });
}

std::vector<std::string> drop_unwritable(Plan& p) {
  p.rootless = true;
  std::vector<std::string> dropped;
  auto below = [](const std::string& dir, const std::string& leaf) {
    return dir == leaf || (leaf.size() > dir.size() && leaf.compare(0, dir.size(), dir) == 0 && leaf[dir.size()] == '/');
  };
  for (auto it = p.leaves.begin(); it != p.leaves.end();) {
    const std::string& leaf = *it;
    const std::string* top = nullptr;  // the first dir of this leaf's path we would make
    for (auto& d : p.to_create)
      if (below(d, leaf)) {
        top = &d;
        break;
      }
    const bool ok = top ? ::access(top->substr(0, top->rfind('/')).c_str(), W_OK | X_OK) == 0
                        : ::access((leaf + "/cgroup.procs").c_str(), W_OK) == 0;
    if (ok) {
      ++it;
      continue;
    }
    p.to_create.erase(std::remove_if(p.to_create.begin(), p.to_create.end(),
                                     [&](const std::string& d) { return below(d, leaf); }),
                      p.to_create.end());
    dropped.push_back(leaf);
    it = p.leaves.erase(it);
  }
  return dropped;
}

Manager::Manager(std::vector<std::string> leaves) {
  for (auto& l : leaves)
    if (const Hierarchy* h = hierarchy_of(l)) leaves_.push_back({l, h});
}

const Manager::Leaf* Manager::find(std::string_view c) const {
  for (auto& l : leaves_)
    if (!l.h->v2 && l.h->has(c)) return &l;
  for (auto& l : leaves_)
    if (l.h->v2 && l.h->has(c)) return &l;
  return nullptr;
}

const Manager::Leaf* Manager::v2_leaf() const {
  for (auto& l : leaves_)
    if (l.h->v2) return &l;
  return nullptr;
}

const std::string& Manager::v2_dir() const {
  static const std::string none;
  const Leaf* l = v2_leaf();
  return l ? l->dir : none;
}

const std::string& Manager::leaf_of(std::string_view c) const {
  static const std::string none;
  const Leaf* l = find(c);
  return l ? l->dir : none;
}

bool Manager::v2_for(std::string_view c) const {
  const Leaf* l = find(c);
  return l && l->h->v2;
}

void Manager::create(Plan& p, const std::function<void(const Plan&)>& record) {
  int adopted_rounds = 0;
  for (size_t i = 0; i < p.to_create.size(); ++i) {
    if (::mkdir(p.to_create[i].c_str(), 0755) == 0 || errno == EEXIST) continue;
    const int e = errno;
    const Hierarchy* h = e == ENOENT && adopted_rounds < 10 ? hierarchy_of(p.to_create[i]) : nullptr;
    if (!h) {
      // runc's words (Go's lower-case errno text), which callers and runc's tests match
      std::string why = strerror(e);
      if (!why.empty()) why[0] = static_cast<char>(tolower(why[0]));
      throw Error("unable to apply cgroup configuration: mkdir " + p.to_create[i] + ": " + why, e);
    }
    // A parent is gone: an empty one that another container made and removed as it went,
    // between our plan (it was there, so not ours) and this mkdir. Every missing level is made
    // again and is ours now: added to the plan (parents first) and recorded before it is made,
    // removed when we go if empty. Bounded: each round needs another delete at that moment.
    ++adopted_rounds;
    const std::string dir = p.to_create[i];
    std::vector<std::string> missing;  // top down, below the hierarchy's root
    for (std::string up = dir.substr(0, dir.rfind('/')); up.size() > h->mount.size() && !exists(up);
         up.resize(up.rfind('/')))
      missing.insert(missing.begin(), up);
    bool grown = false;
    size_t at = i;  // where dir is now: an adopted level goes just above it
    for (auto& m : missing)
      if (std::find(p.to_create.begin(), p.to_create.end(), m) == p.to_create.end()) {
        p.to_create.insert(p.to_create.begin() + static_cast<std::ptrdiff_t>(at++), m);
        grown = true;
      }
    if (grown && record) record(p);
    spdlog::debug("cgroup {}: {} parent level(s) removed meanwhile, made again", dir, missing.size());
    // again from the first missing level (or the same dir: someone made its parent again)
    size_t first = at;
    for (auto& m : missing)
      first = std::min(first, static_cast<size_t>(std::find(p.to_create.begin(), p.to_create.end(), m) - p.to_create.begin()));
    i = first - 1;  // (size_t wraps for 0; the loop's ++i brings it back)
  }
  // v1 cpuset: a cgroup with empty cpus or mems takes no process. Every level down to the leaf,
  // ours or one the caller made (a pod's), is filled from its parent where empty (runc).
  for (auto& leaf : p.leaves) {
    const Hierarchy* h = hierarchy_of(leaf);
    if (!h || h->v2 || !h->has("cpuset")) continue;
    for (size_t i = h->mount.size() + 1; i <= leaf.size(); ++i) {
      if (i != leaf.size() && leaf[i] != '/') continue;
      std::string dir = leaf.substr(0, i);
      copy_if_empty(dir, "cpuset.cpus");
      copy_if_empty(dir, "cpuset.mems");
    }
  }
  // v2: controllers are enabled top down once the dirs exist (none has processes yet)
  for (auto& leaf : p.leaves) {
    const Hierarchy* h = hierarchy_of(leaf);
    if (h && h->v2) enable_controllers(*h, leaf);
  }
}

std::vector<std::string> Manager::sub_leaves(const std::vector<std::string>& leaves,
                                             const std::vector<std::string>& specs) {
  std::vector<std::string> out = leaves;
  for (auto& spec : specs) {
    std::string path = spec, ctrls;
    if (auto colon = spec.find(':'); colon != std::string::npos) {
      ctrls = spec.substr(0, colon);
      path = spec.substr(colon + 1);
    }
    std::string rel;
    try {
      rel = normalize(path);
    } catch (const Error&) {
      throw Error(ErrorKind::Invalid, "cgroups", path + " is not a sub cgroup path", EINVAL);
    }
    auto wanted = words(ctrls, ',');
    for (auto& c : wanted) {
      bool known = false;
      for (auto& leaf : leaves)
        if (const Hierarchy* h = hierarchy_of(leaf); h && h->has(c)) known = true;
      if (!known) throw Error(ErrorKind::Invalid, "cgroups", "unknown controller \"" + c + "\"", EINVAL);
    }
    for (size_t i = 0; i < leaves.size(); ++i) {
      const Hierarchy* h = hierarchy_of(leaves[i]);
      bool pick = wanted.empty();
      for (auto& c : wanted) pick = pick || (h && h->has(c));
      if (!pick) continue;
      const std::string dir = leaves[i] + rel;
      struct stat st;
      if (::stat(dir.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
        throw Error(ErrorKind::Invalid, "cgroups", "adding pid to " + dir + "/cgroup.procs: no such file or directory (create the sub-cgroup first)",
                    ENOENT);
      if (!rel.empty() && h && !h->v2 && h->has("cpuset")) {  // an empty v1 cpuset takes no process: inherit
        copy_if_empty(dir, "cpuset.cpus");
        copy_if_empty(dir, "cpuset.mems");
      }
      out[i] = dir;
    }
  }
  return out;
}

void Manager::add_process(pid_t pid) const {
  std::string s = std::to_string(pid);
  for (auto& l : leaves_) put(l.dir, "cgroup.procs", s, "join cgroup");
}

bool Manager::can_freeze() const {
  return find("freezer") || v2_leaf();
}

bool Manager::frozen() const {
  if (const Leaf* f = find("freezer"); f && !f->h->v2) return get(f->dir, "freezer.state").rfind("FROZEN", 0) == 0;
  if (const Leaf* l = v2_leaf()) return get(l->dir, "cgroup.freeze").rfind("1", 0) == 0;
  return false;
}

std::string Manager::freeze_file() const {
  if (const Leaf* f = find("freezer"); f && !f->h->v2) return f->dir + "/freezer.state";
  if (const Leaf* l = v2_leaf()) return l->dir + "/cgroup.freeze";
  return "";
}

void Manager::freeze(bool on) const {
  struct timespec ts = {0, 1000000};
  if (const Leaf* f = find("freezer"); f && !f->h->v2) {
    const char* want = on ? "FROZEN" : "THAWED";
    // FREEZING may linger while tasks are in uninterruptible sleep: write again and wait.
    for (int i = 0; i < 5000; ++i) {
      if (i % 100 == 0) put(f->dir, "freezer.state", want, on ? "pause" : "resume");
      if (get(f->dir, "freezer.state").rfind(want, 0) == 0) return;
      nanosleep(&ts, nullptr);
    }
    if (on) {
      try { put(f->dir, "freezer.state", "THAWED", "pause"); } catch (const Error&) {}
    }
    throw Error(ErrorKind::Timeout, "", std::string(on ? "pause" : "resume") + ": the freezer of " + f->dir + " did not settle", EBUSY);
  }
  if (const Leaf* lp = v2_leaf()) {
    const Leaf& l = *lp;
    put(l.dir, "cgroup.freeze", on ? "1" : "0", on ? "pause" : "resume");
    std::string want = on ? "frozen 1" : "frozen 0";
    for (int i = 0; i < 5000; ++i) {
      if (get(l.dir, "cgroup.events").find(want) != std::string::npos) return;
      nanosleep(&ts, nullptr);
    }
    throw Error(ErrorKind::Timeout, "", std::string(on ? "pause" : "resume") + ": " + l.dir + " did not settle", EBUSY);
  }
  throw Error(std::string(on ? "pause" : "resume") + ": this host has no freezer for the container's cgroup", ENOTSUP);
}

static std::vector<pid_t> read_pids(const std::string& leaf, std::vector<pid_t>& out) {
  std::string s = get(leaf, "cgroup.procs");
  for (auto& line : lines(s)) {
    pid_t pid = static_cast<pid_t>(atoi(line.c_str()));
    if (pid > 0 && std::find(out.begin(), out.end(), pid) == out.end()) out.push_back(pid);
  }
  return out;
}

// The pids of a cgroup and of every cgroup below it.
static void read_pids_tree(const std::string& dir, std::vector<pid_t>& out) {
  read_pids(dir, out);
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (struct dirent* e = ::readdir(d))
    if (e->d_type == DT_DIR && e->d_name[0] != '.') read_pids_tree(dir + "/" + e->d_name, out);
  ::closedir(d);
}

static void rmdir_children(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> subs;
  while (struct dirent* e = ::readdir(d))
    if (e->d_type == DT_DIR && e->d_name[0] != '.') subs.push_back(dir + "/" + e->d_name);
  ::closedir(d);
  for (auto& s : subs) {
    rmdir_children(s);
    ::rmdir(s.c_str());
  }
}

std::vector<pid_t> Manager::pids() const {
  std::vector<pid_t> out;
  // One hierarchy is enough: every process of ours is in all of them, in the leaf or below it
  // (exec --cgroup, a manager inside the container): the whole subtree is read.
  if (!leaves_.empty()) read_pids_tree(leaves_[0].dir, out);
  return out;
}

void Manager::signal_all(int sig) const {
  // Freeze first so nothing forks while we walk the list (runc does the same on v1).
  bool freeze_it = sig != SIGKILL && sig != 0 && can_freeze() && !frozen();
  if (sig == SIGKILL) {
    if (const Leaf* l = v2_leaf(); l && exists(l->dir + "/cgroup.kill")) {
      put(l->dir, "cgroup.kill", "1", "kill all");
      return;
    }
  }
  if (freeze_it) freeze(true);
  for (pid_t p : pids()) ::kill(p, sig);
  if (freeze_it) freeze(false);
}

int Manager::oom_fd() {
  if (oom_fd_) return oom_fd_.get();
  const Leaf* m = find("memory");
  if (!m) return -1;
  if (!m->h->v2) {
    Fd efd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    Fd ctl(::open((m->dir + "/memory.oom_control").c_str(), O_RDONLY | O_CLOEXEC));
    if (!efd || !ctl) return -1;
    put(m->dir, "cgroup.event_control", std::to_string(efd.get()) + " " + std::to_string(ctl.get()), "events: OOM notification");
    oom_fd_ = std::move(efd);
    return oom_fd_.get();
  }
  Fd in(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!in) return -1;
  if (::inotify_add_watch(in.get(), (m->dir + "/memory.events").c_str(), IN_MODIFY) < 0) return -1;
  oom_kills_ = keyed(get(m->dir, "memory.events"), "oom_kill");
  oom_fd_ = std::move(in);
  return oom_fd_.get();
}

bool Manager::oom_happened() {
  const Leaf* m = find("memory");
  if (!oom_fd_ || !m) return false;
  char buf[4096];
  if (!m->h->v2) {
    uint64_t n = 0;
    return ::read(oom_fd_.get(), &n, sizeof n) == sizeof n && n > 0 && exists(m->dir);
  }
  while (::read(oom_fd_.get(), buf, sizeof buf) > 0) {
  }
  uint64_t k = keyed(get(m->dir, "memory.events"), "oom_kill");
  bool more = k > oom_kills_;
  oom_kills_ = k;
  return more;
}

void Manager::destroy(const std::vector<std::string>& leaves, const std::vector<std::string>& created,
                      bool kill_processes) {
  Manager m(leaves);
  // A frozen cgroup cannot die: thaw first.
  if (m.can_freeze() && m.frozen()) {
    try { m.freeze(false); } catch (const Error&) {}
  }
  struct timespec ts = {0, 1000000};
  // A container owns its leaves and what is below them, nothing above. What runs in them is
  // killed only when the container has no pid namespace of its own (runc's rule); with one,
  // the init's death has emptied them, and we only wait for the kernel to let go.
  if (kill_processes) {
    for (int round = 0; round < 2000; ++round) {  // up to ~2 s
      std::vector<pid_t> left;
      for (auto& l : leaves) read_pids_tree(l, left);
      if (left.empty()) break;
      for (pid_t p : left) ::kill(p, SIGKILL);
      nanosleep(&ts, nullptr);
    }
  }
  std::string failed;
  for (auto it = created.rbegin(); it != created.rend(); ++it) {
    const bool leaf = std::find(leaves.begin(), leaves.end(), *it) != leaves.end();
    if (!leaf) {
      // A parent we had to make: removed if empty, else left to whoever lives there now.
      if (::rmdir(it->c_str()) < 0 && errno != ENOENT && errno != EBUSY && errno != ENOTEMPTY)
        failed += (failed.empty() ? "" : ", ") + *it + " (" + strerror(errno) + ")";
      continue;
    }
    for (int tries = 0;; ++tries) {
      if (::rmdir(it->c_str()) == 0 || errno == ENOENT) break;
      const int e = errno;
      // sub-cgroups made inside ours (exec --cgroup, a manager in the container), deepest first;
      // looked for only when the plain rmdir failed (no directory read per hierarchy otherwise)
      if (e == EBUSY && tries == 0) {
        rmdir_children(*it);
        continue;
      }
      if (e != EBUSY || tries >= 2000) {
        failed += (failed.empty() ? "" : ", ") + *it + " (" + strerror(e) + ")";
        break;
      }
      nanosleep(&ts, nullptr);
    }
  }
  if (!failed.empty()) throw Error("remove cgroup: " + failed, EBUSY);
}

}  // namespace ocirt::cgroups
