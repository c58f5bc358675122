// checkpoint and restore through criu (src/linux/criu.cpp drives `criu swrk`): the request
// fields runc 1.1 sends (libcontainer/container_linux.go), runc 1.2's fixes where 1.1 has a bug
// (a failed checkpoint keeps the container; --manage-cgroups-mode honoured on restore; cg_root
// on cgroup v2 so a restore under a new id lands in its own cgroup). See docs/checkpoint.md.
#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "ocirt/cgroups.hpp"
#include "ocirt/container.hpp"
#include "ocirt/error.hpp"
#include "ocirt/hooks.hpp"
#include "rpc.pb-c.h"
#include "src/container/internal.hpp"
#include "src/linux/criu.hpp"
#include "src/linux/files.hpp"
#include "src/linux/in_root.hpp"
#include "src/linux/processes.hpp"
#include "src/common/strings.hpp"

namespace ocirt::container {
namespace {

constexpr int kCriuMin = 30000;      // runc: checkpoint/restore need criu 3.0
constexpr int kCriuLsm = 31600;      // --lsm-profile, --lsm-mount-context
constexpr uint32_t kNewNet = 0x40000000;  // CLONE_NEWNET: the only namespace criu leaves empty

// The strings and sub-messages a CriuOpts points to live here as long as the request.
struct Opts {
  CriuOpts o = CRIU_OPTS__INIT;
  std::vector<std::unique_ptr<std::string>> strs;
  std::vector<std::unique_ptr<ExtMountMap>> mnts;
  std::vector<ExtMountMap*> mnt_ptrs;
  std::vector<std::unique_ptr<InheritFd>> inh;
  std::vector<InheritFd*> inh_ptrs;
  std::vector<std::unique_ptr<JoinNamespace>> joins;
  std::vector<JoinNamespace*> join_ptrs;
  std::vector<std::unique_ptr<CgroupRoot>> cgs;
  std::vector<CgroupRoot*> cg_ptrs;
  std::vector<char*> externals;
  CriuPageServerInfo ps = CRIU_PAGE_SERVER_INFO__INIT;

  char* s(const std::string& v) {
    strs.push_back(std::make_unique<std::string>(v));
    return strs.back()->data();
  }
  void ext_mnt(const std::string& key, const std::string& val) {
    for (auto* m : mnt_ptrs)
      if (key == m->key) return;  // one entry per mount point
    auto m = std::make_unique<ExtMountMap>();
    ext_mount_map__init(m.get());
    m->key = s(key);
    m->val = s(val);
    mnt_ptrs.push_back(m.get());
    mnts.push_back(std::move(m));
  }
  void inherit(const std::string& key, int fd) {
    auto i = std::make_unique<InheritFd>();
    inherit_fd__init(i.get());
    i->key = s(key);
    i->fd = fd;
    inh_ptrs.push_back(i.get());
    inh.push_back(std::move(i));
  }
  void join(const std::string& ns, const std::string& file) {
    auto j = std::make_unique<JoinNamespace>();
    join_namespace__init(j.get());
    j->ns = s(ns);
    j->ns_file = s(file);
    join_ptrs.push_back(j.get());
    joins.push_back(std::move(j));
  }
  void cg_root(const char* ctrl, const std::string& path) {
    auto c = std::make_unique<CgroupRoot>();
    cgroup_root__init(c.get());
    c->ctrl = ctrl ? s(ctrl) : nullptr;
    c->path = s(path);
    cg_ptrs.push_back(c.get());
    cgs.push_back(std::move(c));
  }
  CriuOpts* finish() {
    o.n_ext_mnt = mnt_ptrs.size();
    o.ext_mnt = mnt_ptrs.data();
    o.n_inherit_fd = inh_ptrs.size();
    o.inherit_fd = inh_ptrs.data();
    o.n_join_ns = join_ptrs.size();
    o.join_ns = join_ptrs.data();
    o.n_cg_root = cg_ptrs.size();
    o.cg_root = cg_ptrs.data();
    o.n_external = externals.size();
    o.external = externals.data();
    return &o;
  }
};

// runc's prepareImagePaths/MkdirAll (0700 here: runc's 0600 makes a dir root alone can enter)
void make_dir(const std::string& path, const char* flag) {
  try {
    sys::mkdir_p(path, 0700);
  } catch (Error& e) {
    e.prefix(flag);
    throw;
  }
}

Fd open_dir(const std::string& path, const char* flag) {
  Fd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) throw_errno(std::string(flag) + ": open " + path);
  return fd;
}

// The request's image dir and, when given, its work dir (made if missing): fds criu gets by
// number, held by the caller until the request is done.
void set_dirs(Opts& op, const std::string& image_path, const std::string& work_path, Fd& images, Fd& work) {
  images = open_dir(image_path, "--image-path");
  op.o.images_dir_fd = images.get();
  if (work_path.empty()) return;
  make_dir(work_path, "--work-path");
  work = open_dir(work_path, "--work-path");
  op.o.work_dir_fd = work.get();
  op.o.has_work_dir_fd = true;
}

int manage_mode(const std::string& m) {
  if (m == "soft") return CRIU_CG_MODE__SOFT;
  if (m == "full") return CRIU_CG_MODE__FULL;
  if (m == "strict") return CRIU_CG_MODE__STRICT;
  if (m == "ignore") return CRIU_CG_MODE__IGNORE;
  throw Error("Invalid manage cgroups mode", EINVAL);
}

uint32_t empty_ns_mask(const std::vector<std::string>& v) {
  for (auto& ns : v)
    if (ns != "network") throw Error("namespace \"" + ns + "\" is not supported", EINVAL);
  return kNewNet;  // always, as runc: criu does not manage network devices for us
}

// org.criu.config: present and non-empty → that file; present and empty → none; absent →
// /etc/criu/runc.conf (runc's name: a host's criu settings for runc apply to us too)
void config_file(Opts& op, const std::map<std::string, std::string>& annotations) {
  auto it = annotations.find("org.criu.config");
  if (it == annotations.end()) op.o.config_file = op.s("/etc/criu/runc.conf");
  else if (!it->second.empty()) op.o.config_file = op.s(it->second);
}

// A mount destination as the container sees it: symlinks resolved inside the rootfs (runc's
// securejoin), so the key is the same at dump and at restore.
std::string resolved_dest(int rootfd, const std::string& rootfs, const std::string& dest) {
  int fd = rootfd >= 0 ? sys::open_in_root(rootfd, dest, O_PATH | O_CLOEXEC) : -1;
  if (fd < 0) return dest;
  Fd f(fd);
  char buf[PATH_MAX];
  ssize_t n = ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), buf, sizeof buf);
  if (n <= 0) return dest;
  std::string p(buf, static_cast<size_t>(n));
  if (p.size() > rootfs.size() && p.compare(0, rootfs.size(), rootfs) == 0 && p[rootfs.size()] == '/')
    return p.substr(rootfs.size());
  return dest;
}

const std::vector<std::string> kDefaultDevices = {"/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/urandom", "/dev/random"};

void add_devices(Opts& op, const spec::Config& cfg) {
  for (auto& d : kDefaultDevices) op.ext_mnt(d, d);
  if (cfg.linux)
    for (auto& d : cfg.linux->devices) op.ext_mnt(d.path, d.path);
}

std::string descriptors_json(const std::vector<std::string>& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartArray();
  for (auto& s : v) w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
  w.EndArray();
  return sb.GetString();
}

std::vector<std::string> read_descriptors(const std::string& image_path) {
  std::string path = image_path + "/descriptors.json", text;
  text = sys::read_file(path);
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  if (d.HasParseError() || !d.IsArray()) throw Error(path + ": not a JSON array of strings", EINVAL);
  std::vector<std::string> out;
  for (auto& v : d.GetArray()) out.push_back(v.IsString() ? v.GetString() : "");
  return out;
}

int check_version(const std::string& criu, int need) {
  int v = criu::version(criu);
  if (v < need) throw Error(ErrorKind::System, "", "CRIU version " + std::to_string(v) + " must be " + std::to_string(need) + " or higher", ENOTSUP);
  return v;
}

void common_opts(Opts& op, const std::vector<std::string>& empty_ns, bool shell_job, bool ext_unix_sk, bool tcp,
                 bool file_locks, bool auto_dedup, bool lazy) {
  op.o.log_level = 4;
  op.o.has_log_level = true;
  op.o.manage_cgroups = true;
  op.o.has_manage_cgroups = true;
  op.o.notify_scripts = true;
  op.o.has_notify_scripts = true;
  op.o.shell_job = shell_job;
  op.o.has_shell_job = true;
  op.o.ext_unix_sk = ext_unix_sk;
  op.o.has_ext_unix_sk = true;
  op.o.tcp_established = tcp;
  op.o.has_tcp_established = true;
  op.o.file_locks = file_locks;
  op.o.has_file_locks = true;
  op.o.empty_ns = empty_ns_mask(empty_ns);
  op.o.has_empty_ns = true;
  op.o.orphan_pts_master = true;
  op.o.has_orphan_pts_master = true;
  op.o.auto_dedup = auto_dedup;
  op.o.has_auto_dedup = true;
  op.o.lazy_pages = lazy;
  op.o.has_lazy_pages = true;
}

}  // namespace
}  // namespace ocirt::container

namespace ocirt {

using namespace container;

void checkpoint(const CheckpointOptions& o) {
  Live l = open_live(o.root, o.id, true);
  if (l.status == state::Status::Created || l.status == state::Status::Stopped || l.status == state::Status::Creating)
    throw Error(ErrorKind::State, "", std::string("Container cannot be checkpointed in ") + state::status_name(l.status) + " state", EINVAL);
  // everything checked before criu runs: a refusal changes nothing but the image dir (runc)
  make_dir(o.image_path, "--image-path");
  if (!o.parent_path.empty()) {
    if (o.parent_path[0] == '/') throw Error("--parent-path must be relative", EINVAL);
    struct stat st;
    std::string p = o.image_path + "/" + o.parent_path;
    if (::stat(p.c_str(), &st) < 0) throw Error("invalid --parent-path: stat " + p + ": " + strerror(errno), EINVAL);
    if (!S_ISDIR(st.st_mode)) throw Error("invalid --parent-path: stat " + p + ": " + strerror(ENOTDIR), EINVAL);
  }
  Opts op;
  if (!o.page_server.empty()) {
    size_t c = o.page_server.rfind(':');
    if (c == std::string::npos || c == 0 || c + 1 == o.page_server.size())
      throw Error("Use --page-server ADDRESS:PORT to specify page server", EINVAL);
    char* end = nullptr;
    long port = strtol(o.page_server.c_str() + c + 1, &end, 10);
    if (*end || port < 0 || port > 65535) throw Error("Invalid port number", EINVAL);
    if (port != 0) {
      op.ps.address = op.s(o.page_server.substr(0, c));
      op.ps.port = static_cast<int32_t>(port);
      op.ps.has_port = true;
      op.o.ps = &op.ps;
    }
  }
  if (!o.manage_cgroups_mode.empty()) {
    op.o.manage_cgroups_mode = static_cast<CriuCgMode>(manage_mode(o.manage_cgroups_mode));
    op.o.has_manage_cgroups_mode = true;
  }
  if (o.lazy_pages && o.status_fd != -1) {
    int fl = ::fcntl(o.status_fd, F_GETFL);
    if (fl < 0) throw Error("invalid --status-fd argument " + std::to_string(o.status_fd) + ": " + strerror(errno), EINVAL);
    if ((fl & O_ACCMODE) == O_RDONLY) throw Error("invalid --status-fd argument " + std::to_string(o.status_fd) + ": not writable", EINVAL);
  }
  common_opts(op, o.empty_ns, o.shell_job, o.ext_unix_sk, o.tcp_established, o.file_locks, o.auto_dedup, o.lazy_pages);
  spec::Config cfg = created_config(l.dir, l.rec);
  check_version(o.criu, kCriuMin);

  Fd images, work;
  set_dirs(op, o.image_path, o.work_path, images, work);
  const bool dump = !o.pre_dump;
  op.o.log_file = op.s("dump.log");  // pre-dump too, as runc
  op.o.root = op.s(l.rec.rootfs);
  op.o.pid = l.rec.pid;
  op.o.has_pid = true;
  op.o.leave_running = o.leave_running;
  op.o.has_leave_running = true;
  config_file(op, cfg.annotations);
  if (cfg.linux)
    for (auto& ns : cfg.linux->namespaces) {
      if (ns.path.empty() || (ns.type != "network" && ns.type != "pid")) continue;
      struct stat st;
      if (::stat(ns.path.c_str(), &st) < 0) throw_errno("linux.namespaces: stat " + ns.path);
      std::string name = ns.type == "network" ? "net" : "pid";
      op.externals.push_back(op.s(name + "[" + std::to_string(st.st_ino) + "]:extRoot" + (name == "net" ? "Net" : "Pid") + "NS"));
    }
  if (!l.rec.cgroup_freeze_file.empty()) {
    std::string d = l.rec.cgroup_freeze_file.substr(0, l.rec.cgroup_freeze_file.rfind('/'));
    op.o.freeze_cgroup = op.s(d);
  }
  if (!o.parent_path.empty()) {
    op.o.parent_img = op.s(o.parent_path);
    op.o.track_mem = true;
    op.o.has_track_mem = true;
  }
  if (dump) {
    Fd rootfd(::open(l.rec.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    for (auto& m : cfg.mounts)
      if (m.type == "bind" || std::find(m.options.begin(), m.options.end(), "bind") != m.options.end() ||
          std::find(m.options.begin(), m.options.end(), "rbind") != m.options.end()) {
        std::string d = resolved_dest(rootfd.get(), l.rec.rootfs, m.destination);
        op.ext_mnt(d, d);
      }
    if (cfg.linux)
      for (auto& p : cfg.linux->masked_paths) {
        struct stat st;
        std::string in = "/proc/" + std::to_string(l.rec.pid) + "/root" + p;
        if (::stat(in.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) op.ext_mnt(p, "/dev/null");
      }
    add_devices(op, cfg);
    std::vector<std::string> fds = l.rec.external_descriptors;
    fds.resize(3);
    sys::write_atomic(images.get(), "descriptors.json", descriptors_json(fds), 0600);
  }
  criu::Call call;
  call.criu = o.criu;
  call.type = dump ? CRIU_REQ_TYPE__DUMP : CRIU_REQ_TYPE__PRE_DUMP;
  call.log_path = (o.work_path.empty() ? o.image_path : o.work_path) + "/dump.log";
  int status_fd = o.lazy_pages ? o.status_fd : -1;
  call.notify = [&](const std::string& script, pid_t, int) {
    if (script == "status-ready" && status_fd != -1) {
      if (::write(status_fd, "", 1) != 1) spdlog::warn("--status-fd: write: {}", strerror(errno));
      ::close(status_fd);
      status_fd = -1;
    }
  };
  spdlog::debug("checkpoint {}: {} of pid {} to {}", o.id, dump ? "dump" : "pre-dump", l.rec.pid, o.image_path);
  criu::run(call, op.finish());
  // runc 1.2: the container goes only after a successful dump (criu resumes it on failure)
  if (dump && !o.leave_running) teardown(l.dir, l.rec, true);
}

Process restore(const RestoreOptions& o) {
  const CreateOptions& co = o.create;
  Opts op;
  common_opts(op, o.empty_ns, o.shell_job, o.ext_unix_sk, o.tcp_established, o.file_locks, o.auto_dedup, o.lazy_pages);
  if (!o.manage_cgroups_mode.empty()) {
    op.o.manage_cgroups_mode = static_cast<CriuCgMode>(manage_mode(o.manage_cgroups_mode));
    op.o.has_manage_cgroups_mode = true;
  }
  make_dir(o.image_path, "--image-path");
  int v = check_version(o.criu, kCriuMin);
  if (!o.lsm_profile.empty() && v < kCriuLsm) throw Error("--lsm-profile requires at least CRIU 3.16", ENOTSUP);
  if (!o.lsm_mount_context.empty() && v < kCriuLsm) throw Error("--lsm-mount-context requires at least CRIU 3.16", ENOTSUP);

  Recorded made = record_new(co, !o.detach);
  state::Dir& dir = made.dir;
  state::Record& rec = made.rec;
  const spec::Config& cfg = made.cfg;
  const cgroups::Driver& cgroup = *made.cgroup;
  cgroups::Plan& plan = made.plan;
  const bool terminal = cfg.process && cfg.process->terminal;
  if (o.detach && terminal && co.console_socket.empty())
    throw Error("cannot allocate tty if runc will detach without setting console socket", EINVAL);
  if (!co.console_socket.empty() && (!o.detach || !terminal))
    throw Error("cannot use console socket if runc will not detach or allocate tty", EINVAL);
  static const spec::Resources no_resources;
  const spec::Resources& res = cfg.linux && cfg.linux->resources ? *cfg.linux->resources : no_resources;
  std::string criu_root = dir.path() + "/criu-root";
  bool bound = false;
  pid_t restored = 0;
  try {
    const bool early = prepare_cgroup(cgroup, plan, dir, rec);
    if (early)
      for (auto& w : cgroup.apply(plan, res, true, false)) spdlog::warn("{}", w);
    rec.cgroup_freeze_file = cgroups::Manager(plan.leaves).freeze_file();
    dir.save(rec);
    // criu's root must be a mount point whose parent is not over-mounted (runc's criu-root)
    if (::mkdirat(dir.fd(), "criu-root", 0755) < 0) throw_errno("restore: mkdir " + criu_root);
    if (::mount(rec.rootfs.c_str(), criu_root.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
      throw_errno("restore: bind " + rec.rootfs + " on " + criu_root);
    bound = true;
    // the mount points criu will mount on (a new bundle's rootfs may lack them); none inside a
    // tmpfs, whose content criu restores
    Fd rootfd(::open(rec.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!rootfd) throw_errno("restore: open " + rec.rootfs);
    std::vector<std::string> tmpfs;
    for (auto& m : cfg.mounts)
      if (m.type == "tmpfs") tmpfs.push_back(m.destination);
    for (auto& m : cfg.mounts) {
      if (m.type == "cgroup" || m.type == "cgroup2") continue;
      const bool bind = m.type == "bind" || std::find(m.options.begin(), m.options.end(), "bind") != m.options.end() ||
                        std::find(m.options.begin(), m.options.end(), "rbind") != m.options.end();
      bool under = false;
      for (auto& t : tmpfs) under = under || m.destination.rfind(t + "/", 0) == 0;
      if (!under) {
        struct stat st;
        bool file = bind && ::stat(m.source.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
        try {
          sys::mkdir_in_root(rootfd.get(), m.destination, file);
        } catch (Error& e) {
          e.prefix("create criu restore mount for " + m.destination + " mount");
          throw;
        }
      }
      // a bind inside a tmpfs (podman's /dev/shm) is external all the same
      if (bind) op.ext_mnt(resolved_dest(rootfd.get(), rec.rootfs, m.destination), m.source);
    }
    if (cfg.linux && !cfg.linux->masked_paths.empty()) op.ext_mnt("/dev/null", "/dev/null");
    add_devices(op, cfg);

    Fd images, work;
    set_dirs(op, o.image_path, o.work_path, images, work);
    op.o.log_file = op.s("restore.log");
    op.o.root = op.s(criu_root);
    op.o.evasive_devices = true;
    op.o.has_evasive_devices = true;
    op.o.rst_sibling = true;
    op.o.has_rst_sibling = true;
    if (!o.lsm_profile.empty()) op.o.lsm_profile = op.s(o.lsm_profile);
    if (!o.lsm_mount_context.empty()) op.o.lsm_mount_context = op.s(o.lsm_mount_context);
    config_file(op, cfg.annotations);
    std::vector<Fd> nsfds;
    std::vector<int> extra;
    if (cfg.linux)
      for (auto& ns : cfg.linux->namespaces) {
        if (ns.path.empty()) continue;
        if (ns.type == "network" || ns.type == "pid") {
          Fd f(::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC));
          if (!f) throw Error(ErrorKind::Invalid, "linux.namespaces", "Requested " + ns.type + " namespace " + ns.path + " does not exist", errno);
          op.inherit(ns.type == "network" ? "extRootNetNS" : "extRootPidNS", 4 + static_cast<int>(extra.size()));
          extra.push_back(f.get());
          nsfds.push_back(std::move(f));
        } else if (ns.type == "cgroup") {
          throw Error(ErrorKind::Invalid, "linux.namespaces", "Do not know how to handle namespace NEWCGROUP", EINVAL);
        } else {
          op.join(ns.type == "mount" ? "mnt" : ns.type, ns.path);
        }
      }
    std::vector<std::string> fds = read_descriptors(o.image_path);
    for (size_t i = 0; i < fds.size() && i < 3; ++i)
      if (fds[i].find("pipe:") != std::string::npos) op.inherit(fds[i], static_cast<int>(i));

    criu::Call call;
    call.criu = o.criu;
    call.type = CRIU_REQ_TYPE__RESTORE;
    call.log_path = (o.work_path.empty() ? o.image_path : o.work_path) + "/restore.log";
    // criu's stdio is the container's: ours, or /dev/null under a terminal (criu makes a pty)
    if (!terminal)
      for (int i = 0; i < 3; ++i) call.stdio[i] = i;
    call.extra = extra;
    std::vector<std::string> criu_stdio;
    call.started = [&](pid_t criu_pid, CriuOpts* opts) {
      criu_stdio = stdio_links(criu_pid);
      cgroup.place(plan, criu_pid, false, cfg.annotations, res);
      if (!early)
        for (auto& w : cgroup.apply(plan, res, true, false)) spdlog::warn("{}", w);
      // the restored tasks go to our cgroup (criu maps the dumped root cgroup onto it)
      std::string text;
      sys::try_read_file("/proc/" + std::to_string(criu_pid) + "/cgroup", text);
      const bool v2 = cgroups::System::get().layout == cgroups::Layout::V2;
      for (size_t at = 0; at < text.size();) {
        size_t nl = text.find('\n', at);
        if (nl == std::string::npos) nl = text.size();
        std::string line = text.substr(at, nl - at);
        at = nl + 1;
        size_t c1 = line.find(':'), c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1);
        if (c2 == std::string::npos) continue;
        std::string ctrl = line.substr(c1 + 1, c2 - c1 - 1), path = line.substr(c2 + 1);
        if (ctrl.empty()) {
          if (v2) op.cg_root(nullptr, path);
        } else {
          op.cg_root(ctrl.c_str(), path);
        }
      }
      opts->n_cg_root = op.cg_ptrs.size();
      opts->cg_root = op.cg_ptrs.data();
    };
    Fd held;
    call.notify = [&](const std::string& script, pid_t pid, int fd) {
      if (script == "setup-namespaces" && cfg.hooks) {
        state::Record r = rec;
        r.pid = pid;
        std::string st = state::state_json(r, state::Status::Creating, false);
        hooks::run(cfg.hooks->prestart, st, "prestart", rec.bundle);
        hooks::run(cfg.hooks->create_runtime, st, "createRuntime", rec.bundle);
      } else if (script == "post-restore") {
        restored = pid;
      } else if (script == "orphan-pts-master" && fd >= 0) {
        take_console(co.console_socket, held, "orphan-pts-master", fd);
      }
    };
    spdlog::debug("restore {}: from {} into {}", co.id, o.image_path, plan.path);
    pid_t got = criu::run(call, op.finish());
    if (!restored) restored = got;
    ::umount2(criu_root.c_str(), MNT_DETACH);
    ::unlinkat(dir.fd(), "criu-root", AT_REMOVEDIR);
    bound = false;
    Fd pidfd(sys::pidfd_open(restored));
    char c;
    if (restored <= 0 || !pidfd || !sys::proc_stat(restored, rec.start_time, c) || c == 'Z')
      throw Error(ErrorKind::Failed, "", "the restored process exited before it was recorded", ECHILD);
    rec.pid = restored;
    rec.status = state::Status::Running;
    rec.created = sys::now_rfc3339();  // runc: a restored container was created when restored
    rec.external_descriptors = terminal ? std::vector<std::string>{"/dev/null", "/dev/null", "/dev/null"} : criu_stdio;
    if (!terminal && rec.external_descriptors.size() != 3) rec.external_descriptors = stdio_links(0);
    dir.save(rec);
    if (!co.pid_file.empty()) sys::write_atomic(co.pid_file, std::to_string(restored), 0644);
    dir.commit();
    return Process(restored, std::move(pidfd), std::move(held));
  } catch (...) {
    if (bound) {
      ::umount2(criu_root.c_str(), MNT_DETACH);
      ::unlinkat(dir.fd(), "criu-root", AT_REMOVEDIR);
    }
    if (restored > 0) {
      Fd pidfd(sys::pidfd_open(restored));
      if (pidfd) sys::kill_and_reap(pidfd.get(), restored);
    }
    remove_cgroup(rec, "cleanup after failed restore");
    throw;  // ~Dir removes the state dir
  }
}

}  // namespace ocirt
