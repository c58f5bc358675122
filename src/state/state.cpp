// The state root (see include/ocirt/state.hpp): ids, state.json, status derivation, the locked dir.
#include "ocirt/state.hpp"
#include "ocirt/cgroups.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <algorithm>
#include <sys/stat.h>
#include <unistd.h>

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "ocirt/error.hpp"
#include "src/linux/files.hpp"
#include "src/linux/processes.hpp"
#include "src/spec/json.hpp"

namespace ocirt::state {

static const char kStateFile[] = "state.json";

const char* status_name(Status s) {
  switch (s) {
    case Status::Creating: return "creating";
    case Status::Created: return "created";
    case Status::Running: return "running";
    case Status::Paused: return "paused";
    case Status::Stopped: return "stopped";
  }
  return "unknown";
}

static Status status_from_name(const std::string& s) {
  for (Status st : {Status::Creating, Status::Created, Status::Running, Status::Paused, Status::Stopped})
    if (s == status_name(st)) return st;
  throw Error(ErrorKind::Invalid, "status", "unknown status \"" + s + "\" in state.json", EINVAL);
}

void check_id(const std::string& id) {
  auto ok_first = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  bool ok = !id.empty() && id.size() <= 1024 && ok_first(id[0]);
  for (size_t i = 1; ok && i < id.size(); ++i) {
    char c = id[i];
    ok = ok_first(c) || c == '_' || c == '.' || c == '+' || c == '-';
  }
  if (!ok) throw Error("invalid container id \"" + id + "\": must match [A-Za-z0-9][A-Za-z0-9_.+-]{0,1023}", EINVAL);
}

template <typename W>
static void write_kv(W& w, const char* key, const std::string& v) {
  w.Key(key);
  w.String(v.c_str(), v.size());
}

template <typename W>
static void write_strings(W& w, const char* key, const std::vector<std::string>& v) {
  w.Key(key);
  w.StartArray();
  for (auto& s : v) w.String(s.c_str(), s.size());
  w.EndArray();
}

template <typename W>
static void write_annotations(W& w, const std::map<std::string, std::string>& a) {
  w.Key("annotations");
  w.StartObject();
  for (auto& [k, v] : a) {
    w.Key(k.c_str(), k.size());
    w.String(v.c_str(), v.size());
  }
  w.EndObject();
}

template <typename W>
static void write_hooks(W& w, const char* key, const std::vector<spec::Hook>& hooks) {
  w.Key(key);
  w.StartArray();
  for (auto& h : hooks) {
    w.StartObject();
    w.Key("path");
    w.String(h.path.c_str(), h.path.size());
    write_strings(w, "args", h.args);
    write_strings(w, "env", h.env);
    if (h.timeout) {
      w.Key("timeout");
      w.Int(*h.timeout);
    }
    w.EndObject();
  }
  w.EndArray();
}

std::string to_json(const Record& r) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  auto kv = [&](const char* k, const std::string& v) { write_kv(w, k, v); };
  kv("ociVersion", r.oci_version);
  kv("id", r.id);
  kv("status", status_name(r.status));
  w.Key("pid");
  w.Int(r.pid);
  w.Key("pidStartTime");
  w.Uint64(r.start_time);
  w.Key("hasProcess");
  w.Bool(r.has_process);
  w.Key("privatePidns");
  w.Bool(r.private_pidns);
  kv("bundle", r.bundle);
  kv("rootfs", r.rootfs);
  kv("created", r.created);
  kv("owner", r.owner);
  kv("bootId", r.boot_id);
  write_annotations(w, r.annotations);
  write_strings(w, "cgroupLeaves", r.cgroup_leaves);
  write_strings(w, "cgroupCreated", r.cgroup_created);
  if (!r.cgroup_driver.empty()) write_kv(w, "cgroupDriver", r.cgroup_driver);
  if (!r.cgroup_unit.empty()) write_kv(w, "cgroupUnit", r.cgroup_unit);
  if (!r.cgroup_freeze_file.empty()) {
    w.Key("cgroupFreezeFile");
    w.String(r.cgroup_freeze_file.c_str(), static_cast<rapidjson::SizeType>(r.cgroup_freeze_file.size()));
  }
  write_hooks(w, "poststart", r.poststart);
  write_hooks(w, "poststop", r.poststop);
  if (!r.external_descriptors.empty()) write_strings(w, "externalDescriptors", r.external_descriptors);
  w.EndObject();
  return sb.GetString();
}

Record from_json(const std::string& text) {
  try {
    spec::check_depth(text, "state.json");
  } catch (const Error&) {
    throw Error("state.json is corrupt (nested too deep)", EINVAL);
  }
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  if (d.HasParseError() || !d.IsObject()) throw Error("state.json is corrupt", EINVAL);
  Record r;
  r.oci_version = json::str(d, "ociVersion");
  r.id = json::str(d, "id");
  r.status = status_from_name(json::str(d, "status"));
  r.pid = json::num<int>(d, "pid").value_or(0);
  r.start_time = json::num<uint64_t>(d, "pidStartTime").value_or(0);
  r.has_process = json::boolean(d, "hasProcess", true);
  r.private_pidns = json::boolean(d, "privatePidns", true);
  r.bundle = json::str(d, "bundle");
  r.rootfs = json::str(d, "rootfs");
  r.created = json::str(d, "created");
  r.owner = json::str(d, "owner");
  r.boot_id = json::str(d, "bootId");
  r.annotations = json::string_map(d, "annotations");
  r.cgroup_leaves = json::strings(d, "cgroupLeaves");
  r.cgroup_created = json::strings(d, "cgroupCreated");
  r.cgroup_freeze_file = json::str(d, "cgroupFreezeFile");
  r.cgroup_driver = json::str(d, "cgroupDriver");
  r.cgroup_unit = json::str(d, "cgroupUnit");
  auto hooks = [&](const char* key) {
    std::vector<spec::Hook> out;
    json::each(d, key, [&](const json::Value& h) {
      out.push_back({json::str(h, "path"), json::strings(h, "args"), json::strings(h, "env"), json::num<int>(h, "timeout")});
    });
    return out;
  };
  r.poststart = hooks("poststart");
  r.poststop = hooks("poststop");
  r.external_descriptors = json::strings(d, "externalDescriptors");
  return r;
}

bool frozen(const Record& r) {
  // the file recorded at create: one read, no layout detection (callers poll `state`)
  if (!r.cgroup_freeze_file.empty()) {
    std::string v;
    bool v1 = r.cgroup_freeze_file.size() >= 13 &&
              r.cgroup_freeze_file.compare(r.cgroup_freeze_file.size() - 13, 13, "freezer.state") == 0;
    return sys::try_read_file(r.cgroup_freeze_file, v) && (v1 ? v.rfind("FROZEN", 0) == 0 : v.rfind("1", 0) == 0);
  }
  return !r.cgroup_leaves.empty() && cgroups::Manager(r.cgroup_leaves).frozen();
}

Status derive_status(const Record& r, int dirfd) {
  if (r.pid <= 0) return r.status == Status::Creating ? Status::Creating : Status::Stopped;
  if (!r.boot_id.empty() && r.boot_id != sys::boot_id()) return Status::Stopped;  // state from before a reboot
  uint64_t st;
  char pstate;
  if (!sys::proc_stat(r.pid, st, pstate) || st != r.start_time || pstate == 'Z' || pstate == 'X') return Status::Stopped;
  if (r.status == Status::Creating) return Status::Creating;
  // frozen first (runc's order): a created container can be paused too, and then it is paused
  // (resume thaws it, start refuses it: its init could not take the fifo)
  if (frozen(r)) return Status::Paused;
  if (::faccessat(dirfd, kExecFifo, F_OK, AT_SYMLINK_NOFOLLOW) == 0) return Status::Created;
  return Status::Running;
}

std::string state_json(const Record& r, Status status, bool pretty) {
  rapidjson::StringBuffer sb;
  auto emit = [&](auto& w) {
    w.StartObject();
    auto kv = [&](const char* k, const std::string& v) { write_kv(w, k, v); };
    kv("ociVersion", r.oci_version);
    kv("id", r.id);
    w.Key("pid");
    w.Int(status == Status::Stopped ? 0 : r.pid);
    kv("status", status_name(status));
    kv("bundle", r.bundle);
    kv("rootfs", r.rootfs);
    kv("created", r.created);
    if (!r.annotations.empty()) write_annotations(w, r.annotations);
    kv("owner", r.owner);
    w.EndObject();
  };
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
    w.SetIndent(' ', 2);
    emit(w);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    emit(w);
  }
  return sb.GetString();
}

static void lock_dir(int fd, const std::string& id) {
  while (::flock(fd, LOCK_EX) < 0)
    if (errno != EINTR) throw_errno("lock state of " + id);
}

Dir Dir::claim(const std::string& root, const std::string& id) {
  check_id(id);
  if (::mkdir(root.c_str(), 0711) < 0 && errno != EEXIST) sys::mkdir_p(root, 0711);
  Dir d;
  d.root_ = root;
  d.id_ = id;
  d.path_ = root + "/" + id;
  // Between our mkdir and our lock, a `delete` of the id may lock the new dir first, find no
  // state.json (as after a create that died) and remove it: the dir we then lock is gone (no
  // link left). The id is free again: taken again, a bounded number of times.
  for (int tries = 0;; ++tries) {
    if (::mkdir(d.path_.c_str(), 0711) < 0) {
      if (errno == EEXIST) throw Error(ErrorKind::Exists, "", "container with id " + id + " already exists", EEXIST);
      throw_errno("create state dir " + d.path_);
    }
    d.owned_ = true;
    d.fd_.reset(::open(d.path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!d.fd_) {
      int e = errno;
      d.owned_ = false;
      if (e == ENOENT && tries < 5) continue;  // removed already
      ::rmdir(d.path_.c_str());
      throw_errno("open state dir " + d.path_, e);
    }
    lock_dir(d.fd_.get(), id);
    struct stat st;
    if (::fstat(d.fd_.get(), &st) == 0 && st.st_nlink == 0 && tries < 5) {
      d.fd_.reset();
      d.owned_ = false;
      continue;
    }
    return d;
  }
}

Dir Dir::open(const std::string& root, const std::string& id, bool lock) {
  check_id(id);
  Dir d;
  d.root_ = root;
  d.id_ = id;
  d.path_ = root + "/" + id;
  d.fd_.reset(::open(d.path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (!d.fd_) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) throw Error(ErrorKind::NotFound, "", "container " + id + " does not exist", ENOENT);
    throw_errno("open state dir " + d.path_);
  }
  if (lock) lock_dir(d.fd_.get(), id);
  return d;
}

Dir::~Dir() {
  if (owned_ && fd_) {
    try {
      remove();
    } catch (...) {
    }
  }
}

bool Dir::has_record() const { return ::faccessat(fd_.get(), kStateFile, F_OK, AT_SYMLINK_NOFOLLOW) == 0; }

Record Dir::load() const {
  Fd f(::openat(fd_.get(), kStateFile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!f) {
    if (errno == ENOENT) throw Error(ErrorKind::NotFound, "", "container " + id_ + " does not exist", ENOENT);
    throw_errno("open " + path_ + "/state.json");
  }
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(f.get(), buf, sizeof buf)) > 0) s.append(buf, n);
  return from_json(s);
}

void Dir::save(const Record& r) const { sys::write_atomic(fd_.get(), kStateFile, to_json(r), 0600); }

void Dir::save_config(const std::string& text) const {
  Fd f(::openat(fd_.get(), "config.json", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!f) throw_errno("keep the container's config in " + path_);
  for (size_t off = 0; off < text.size();) {
    ssize_t n = ::write(f.get(), text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw_errno("keep the container's config in " + path_);
    off += static_cast<size_t>(n);
  }
}

std::string Dir::load_config() const {
  Fd f(::openat(fd_.get(), "config.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  std::string text;
  if (!f || !sys::read_all(f.get(), text)) throw_errno("read the container's config in " + path_);
  return text;
}

void Dir::remove() {
  if (!fd_) return;
  // Only entries we made live here: files, and the notify/ dir with its socket (NOTIFY_SOCKET).
  // Unlinked without following anything; a dir one level deep is emptied first.
  auto empty = [](int dirfd, bool descend, auto& self) -> void {
    int dfd = ::dup(dirfd);
    DIR* dir = dfd < 0 ? nullptr : ::fdopendir(dfd);
    if (!dir) {
      if (dfd >= 0) ::close(dfd);
      return;
    }
    while (struct dirent* e = ::readdir(dir)) {
      std::string_view n = e->d_name;
      if (n == "." || n == "..") continue;
      if (::unlinkat(dirfd, e->d_name, 0) == 0 || errno != EISDIR || !descend) continue;
      Fd sub(::openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (sub) self(sub.get(), false, self);
      ::unlinkat(dirfd, e->d_name, AT_REMOVEDIR);
    }
    ::closedir(dir);
  };
  empty(fd_.get(), true, empty);
  // The path was built from a checked id: it is always a direct child of the root.
  if (::unlinkat(AT_FDCWD, path_.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT)
    throw_errno("remove state dir " + path_);
  fd_.reset();
  owned_ = false;
}

std::vector<std::string> list_ids(const std::string& root) {
  std::vector<std::string> ids;
  DIR* dir = ::opendir(root.c_str());
  if (!dir) {
    if (errno == ENOENT) return ids;
    throw_errno("open state root " + root);
  }
  while (struct dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.' || e->d_type != DT_DIR) continue;
    ids.emplace_back(e->d_name);
  }
  ::closedir(dir);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace ocirt::state
