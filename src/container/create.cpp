// create (and the creating half of run): the bundle read and checked, the state slot taken and
// recorded before anything is made, the cgroup made and configured, the init spawned and
// recorded. Any failure removes what was made.
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>

#include <spdlog/spdlog.h>

#include "ocirt/cgroups.hpp"
#include "ocirt/container.hpp"
#include "ocirt/error.hpp"
#include "ocirt/hooks.hpp"
#include "src/container/internal.hpp"
#include "src/linux/attributes.hpp"
#include "src/linux/console.hpp"
#include "src/linux/process.hpp"
#include "src/linux/seccomp.hpp"
#include "src/common/strings.hpp"
#include "src/linux/files.hpp"
#include "src/linux/processes.hpp"

namespace ocirt::container {
namespace {

// field: the config's root.path, or nullptr for the bundle (an option)
std::string absolute_path(const std::string& p, const char* field) {
  char buf[PATH_MAX];
  if (!::realpath(p.c_str(), buf)) {
    int e = errno;
    if (field) throw Error(ErrorKind::Invalid, field, p + ": " + strerror(e), e);
    throw Error(ErrorKind::Invalid, "", "bundle " + p + ": " + strerror(e), e);
  }
  return buf;
}

// An unprivileged runtime can only make what a user namespace of its own allows: runc's
// rootless rules (libcontainer/configs/validate/rootless.go), in its words.
void check_rootless(const spec::Config& cfg) {
  const spec::Namespace* user = cfg.find_namespace("user");
  if (!cfg.linux || !user) throw Error(ErrorKind::Invalid, "linux.namespaces", "rootless container requires user namespaces", EPERM);
  if (user->path.empty()) {
    if (cfg.linux->uid_mappings.empty())
      throw Error(ErrorKind::Invalid, "linux.uidMappings", "rootless containers requires at least one UID mapping", EINVAL);
    if (cfg.linux->gid_mappings.empty())
      throw Error(ErrorKind::Invalid, "linux.gidMappings", "rootless containers requires at least one GID mapping", EINVAL);
  }
  auto mapped = [](const std::vector<spec::IdMapping>& m, unsigned long id) {
    for (auto& e : m)
      if (id >= e.container_id && id - e.container_id < e.size) return true;
    return false;
  };
  for (size_t i = 0; i < cfg.mounts.size(); ++i) {
    const auto& opts = cfg.mounts[i].options;
    for (size_t j = 0; j < opts.size(); ++j) {
      const bool uid = opts[j].rfind("uid=", 0) == 0, gid = opts[j].rfind("gid=", 0) == 0;
      if (!uid && !gid) continue;
      char* end = nullptr;
      errno = 0;
      unsigned long id = strtoul(opts[j].c_str() + 4, &end, 10);
      if (errno || end == opts[j].c_str() + 4 || *end) continue;  // not a number: the filesystem's to refuse
      if (user->path.empty() && !mapped(uid ? cfg.linux->uid_mappings : cfg.linux->gid_mappings, id))
        throw Error(ErrorKind::Invalid, "mounts[" + std::to_string(i) + "].options[" + std::to_string(j) + "]",
                    "cannot specify " + opts[j] + " mount option for rootless container: no mapping found for " +
                        (uid ? "uid " : "gid ") + std::to_string(id),
                    EINVAL);
    }
  }
  if (cfg.process && !cfg.process->user.additional_gids.empty())
    throw Error(ErrorKind::Invalid, "process.user.additionalGids", "cannot set any additional groups in a rootless container",
                EPERM);
}

struct Prepared {
  spec::Config cfg;
  std::string text;  // config.json as read: kept in the state dir for exec and update
  std::string bundle, rootfs;
  bool has_process = true;
};

Prepared prepare(const CreateOptions& o, bool hold_console) {
  Prepared p;
  p.bundle = absolute_path(o.bundle, nullptr);
  try {
    p.text = sys::read_file(p.bundle + "/config.json");
    p.cfg = spec::load(p.text);
  } catch (Error& e) {
    if (e.field() != "config.json") e.prefix("config.json");  // a JSON error names it already
    throw;
  }
  const std::string& root = p.cfg.root->path;
  p.rootfs = absolute_path(root[0] == '/' ? root : p.bundle + "/" + root, "root.path");
  struct stat st;
  if (::stat(p.rootfs.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
    throw Error(ErrorKind::Invalid, "root.path", p.rootfs + " is not a directory", ENOTDIR);
  if (!p.cfg.process) {
    // Allowed by the spec at create; the init sets everything up and start refuses.
    p.has_process = false;
    p.cfg.process.emplace();
    p.cfg.process->cwd = "/";
  }
  if (sys::euid() != 0) check_rootless(p.cfg);
  if (p.cfg.process->terminal && o.console_socket.empty() && !hold_console)
    throw Error(ErrorKind::Invalid, "console_socket", "required for process.terminal (or set terminal to false)", EINVAL);
  if (!o.console_socket.empty() && !p.cfg.process->terminal)
    throw Error(ErrorKind::Invalid, "console_socket", "given, but process.terminal is false", EINVAL);
  return p;
}

// The state's "owner": the host's /etc/passwd name of our euid, else the number. Read directly
// (as runc's user.LookupUid does): the binary is static, and glibc's NSS would dlopen modules.
std::string owner_name() {
  const std::string uid = std::to_string(sys::euid());
  std::string passwd;
  try {
    if (!sys::try_read_file("/etc/passwd", passwd)) return uid;
  } catch (const Error&) {
    return uid;
  }
  for (size_t at = 0; at < passwd.size();) {
    size_t end = passwd.find('\n', at);
    if (end == std::string::npos) end = passwd.size();
    std::string_view line(passwd.data() + at, end - at);  // name:x:uid:gid:...
    size_t c1 = line.find(':'), c2 = c1 == line.npos ? line.npos : line.find(':', c1 + 1);
    size_t c3 = c2 == line.npos ? line.npos : line.find(':', c2 + 1);
    if (c3 != line.npos && c1 > 0 && line.substr(c2 + 1, c3 - c2 - 1) == uid) return std::string(line.substr(0, c1));
    at = end + 1;
  }
  return uid;
}

// A leaf that is there already (the caller made it): a frozen one would stop our init before it
// could answer (create must never wait on a child that cannot run), and processes in it are
// worth a warning (runc's words, both). Fresh leaves cost nothing here.
void check_existing_leaves(const cgroups::Plan& plan) {
  std::vector<std::string> existing;
  for (auto& leaf : plan.leaves)
    if (std::find(plan.to_create.begin(), plan.to_create.end(), leaf) == plan.to_create.end()) existing.push_back(leaf);
  if (existing.empty()) return;
  cgroups::Manager m(existing);
  if (m.can_freeze() && m.frozen()) throw Error(ErrorKind::State, "", "container's cgroup unexpectedly frozen", EBUSY);
  size_t n = 0;
  for (auto& leaf : existing) n = std::max(n, cgroups::Manager({leaf}).pids().size());
  if (n) spdlog::warn("container's cgroup is not empty: {} process(es) found", n);
}

}  // namespace

std::vector<std::string> stdio_links(pid_t pid) {
  std::vector<std::string> out;
  char path[64], buf[PATH_MAX];
  for (int fd = 0; fd < 3; ++fd) {
    if (pid > 0) snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
    else snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = ::readlink(path, buf, sizeof buf);
    out.emplace_back(n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string());  // EACCES: "" (runc)
  }
  return out;
}

bool prepare_cgroup(const cgroups::Driver& cgroup, cgroups::Plan& plan, const state::Dir& dir, state::Record& rec) {
  return cgroup.prepare(plan, [&](const cgroups::Plan& grown) {
    rec.cgroup_created = grown.to_create;  // a parent made again is ours: recorded before it is made
    dir.save(rec);
  });
}

Recorded record_new(const CreateOptions& o, bool hold_console) {
  Prepared p = prepare(o, hold_console);
  const spec::Config& cfg = p.cfg;
  const cgroups::Driver& cgroup = cgroups::driver(o.systemd_cgroup ? cgroups::DriverKind::Systemd : cgroups::DriverKind::Cgroupfs);
  state::Dir dir = state::Dir::claim(o.root, o.id);
  state::Record rec;
  rec.oci_version = cfg.oci_version;
  rec.id = o.id;
  rec.status = state::Status::Creating;
  rec.bundle = p.bundle;
  rec.rootfs = p.rootfs;
  rec.created = sys::now_rfc3339();
  rec.owner = owner_name();
  rec.boot_id = sys::boot_id();
  rec.annotations = cfg.annotations;
  rec.has_process = p.has_process;
  {
    const spec::Namespace* pidns = cfg.find_namespace("pid");
    rec.private_pidns = pidns && pidns->path.empty();
  }
  if (cfg.hooks) {
    rec.poststart = cfg.hooks->poststart;
    rec.poststop = cfg.hooks->poststop;
  }
  const std::string& cgroups_path = cfg.linux ? cfg.linux->cgroups_path : std::string();
  const bool rootless_cgroups = o.rootless_cgroups && cgroup.kind() == cgroups::DriverKind::Cgroupfs;
  // rootless without a cgroupsPath: runc's default, the id below our own cgroup (v2: its parent)
  cgroups::Plan plan = cgroup.plan(rootless_cgroups && cgroups_path.empty() ? o.id : cgroups_path, o.id);
  if (rootless_cgroups && cgroups_path.empty()) {
    std::vector<std::string> dropped = cgroups::drop_unwritable(plan);
    // runc 1.1 says nothing of a skipped cgroup; 1.2 warns when no pid namespace of the
    // container's own lets the kernel kill everything with its init (its words)
    if (!dropped.empty() && !rec.private_pidns)
      spdlog::warn("Creating a rootless container with no cgroup and no private pid namespace. Such configuration "
                   "is strongly discouraged (as it is impossible to properly kill all container's processes)");
    for (auto& d : dropped) spdlog::debug("rootless: no cgroup in {} (not writable by us: not delegated)", d);
  } else if (rootless_cgroups) {
    plan.rootless = true;  // device rules' refusal ignored; a given cgroupsPath must be usable (runc)
  }
  rec.cgroup_leaves = plan.leaves;
  rec.cgroup_created = plan.to_create;
  if (cgroup.kind() == cgroups::DriverKind::Systemd) rec.cgroup_driver = cgroups::driver_name(cgroup.kind());
  rec.cgroup_unit = plan.unit;
  dir.save_config(p.text);
  dir.save(rec);  // recorded before anything is made: `delete --force` can always clean up
  return Recorded{std::move(dir), std::move(rec), std::move(p.cfg), std::move(p.text), std::move(p.bundle),
                  std::move(p.rootfs), std::move(plan), &cgroup};
}

Created create_init(const CreateOptions& o, bool with_fifo, bool hold_console) {
  Recorded made = record_new(o, hold_console);
  state::Dir& dir = made.dir;
  state::Record& rec = made.rec;
  Prepared p{std::move(made.cfg), std::move(made.text), std::move(made.bundle), std::move(made.rootfs), rec.has_process};
  const spec::Config& cfg = p.cfg;  // (NOTIFY_SOCKET adds a mount and an env entry to p.cfg)
  const cgroups::Driver& cgroup = *made.cgroup;
  cgroups::Plan& plan = made.plan;
  if (!o.notify_socket.empty()) {
    // sd_notify through the container (runc's way): <state>/notify, where start binds the socket,
    // is bound read-only at /run/notify, and the process is told where it is
    if (::mkdirat(dir.fd(), "notify", 0755) < 0) throw_errno("NOTIFY_SOCKET: create " + dir.path() + "/notify");
    p.cfg.mounts.push_back({"/run/notify", "bind", dir.path() + "/notify", {"bind", "nosuid", "noexec", "nodev", "ro"}, {}, {}});
    p.cfg.process->env.push_back("NOTIFY_SOCKET=/run/notify/notify.sock");
  }
  spdlog::debug("create {}: bundle {}, rootfs {}, cgroup {} ({})", o.id, p.bundle, p.rootfs, plan.path,
                cgroups::layout_name(cgroups::System::get().layout));
  check_existing_leaves(plan);
  static const spec::Resources no_resources;
  const spec::Resources& res = cfg.linux && cfg.linux->resources ? *cfg.linux->resources : no_resources;
  try {
    // cgroupfs: made and configured before the init exists; systemd: once it does (a unit
    // needs a process)
    const bool early = prepare_cgroup(cgroup, plan, dir, rec);
    if (early)
      for (auto& w : cgroup.apply(plan, res, true, false)) spdlog::warn("{}", w);
    rec.cgroup_freeze_file = cgroups::Manager(plan.leaves).freeze_file();
    Fd fifo;
    if (with_fifo) {
      // 0622 whatever the umask: the container process may write it after dropping root
      if (::mkfifoat(dir.fd(), state::kExecFifo, 0622) < 0 || ::fchmodat(dir.fd(), state::kExecFifo, 0622, 0) < 0)
        throw_errno("create exec fifo");
      fifo.reset(::openat(dir.fd(), state::kExecFifo, O_PATH | O_CLOEXEC));
      if (!fifo) throw_errno("open exec fifo");
    }
    Fd cgfd = early ? cgroup_fd_for(plan.leaves) : Fd();
    linux_::InitContext ctx;
    ctx.cfg = &cfg;
    ctx.id = o.id;
    ctx.bundle = p.bundle;
    ctx.rootfs = p.rootfs;
    ctx.fifo_fd = fifo.get();
    ctx.no_pivot = o.no_pivot;
    ctx.rootless = sys::euid() != 0;
    ctx.no_new_keyring = o.no_new_keyring;
    ctx.preserve_fds = o.preserve_fds;
    ctx.cgroup = &plan;
    std::optional<linux_::SeccompFilter> filter;
    if (cfg.linux && cfg.linux->seccomp) {
      filter.emplace(*cfg.linux->seccomp, o.root + "/.seccomp-cache");
      spdlog::debug("create {}: seccomp filter of {} instructions{}", o.id, filter->size(),
                    filter->from_cache() ? " from the cache" : " compiled");
      ctx.seccomp = &*filter;
    }
    ctx.console = cfg.process->terminal;
    ctx.lsm = linux_::host_lsm(*cfg.process, cfg.linux ? cfg.linux->mount_label : std::string());
    Fd held;
    linux_::SpawnHooks sh;
    sh.on_clone = [&](pid_t pid) {
      cgroup.place(plan, pid, bool(cgfd), cfg.annotations, res);
      if (!early)
        for (auto& w : cgroup.apply(plan, res, true, false)) spdlog::warn("{}", w);
    };
    sh.run_hooks = [&](pid_t pid) {
      state::Record r = rec;
      r.pid = pid;
      std::string st = state::state_json(r, state::Status::Creating, false);
      if (cfg.hooks) {
        hooks::run(cfg.hooks->prestart, st, "prestart", p.bundle);
        hooks::run(cfg.hooks->create_runtime, st, "createRuntime", p.bundle);
      }
    };
    sh.console = [&](const std::string& name, int master) { take_console(o.console_socket, held, name, master); };
    sh.seccomp_listener = [&](pid_t pid, int fd) {
      state::Record r = rec;
      r.pid = pid;
      send_seccomp_listener(*cfg.linux->seccomp, state::state_json(r, state::Status::Creating, false), pid, fd);
    };
    linux_::Child init = linux_::spawn(ctx, cgfd.get(), sh);
    spdlog::debug("create {}: init pid {} is set up, waiting for start", o.id, init.pid);
    char c;
    rec.pid = init.pid;
    rec.status = state::Status::Created;
    if (!sys::proc_stat(init.pid, rec.start_time, c) || c == 'Z')
      throw Error(ErrorKind::Failed, "", "container init exited before it was recorded", ECHILD);
    // the init's stdio for a later checkpoint: ours, which it inherited, or its terminal's
    rec.external_descriptors = stdio_links(cfg.process->terminal ? init.pid : 0);
    dir.save(rec);
    if (!o.pid_file.empty()) sys::write_atomic(o.pid_file, std::to_string(init.pid), 0644);
    if (!o.pidfd_socket.empty()) linux_::send_pidfd(o.pidfd_socket, "standard", init.pidfd.get());
    return Created{std::move(dir), std::move(rec), std::move(init), std::move(held)};
  } catch (const Error& e) {  // ~Child has killed the init
    // a systemd unit of that name that is not ours: never stopped
    if (e.kind() == ErrorKind::Exists && e.field() == "linux.cgroupsPath") rec.cgroup_unit.clear();
    remove_cgroup(rec, "cleanup after failed create");
    throw;  // ~Dir removes the state dir
  } catch (...) {
    remove_cgroup(rec, "cleanup after failed create");
    throw;
  }
}

void abandon(Created& c) {
  { linux_::Child gone = std::move(c.init); }  // killed and reaped
  remove_cgroup(c.rec, "cleanup after failed create");
}

void ack(Created& c) {
  try {
    linux_::sync_ack(c.init);
  } catch (...) {
    abandon(c);
    throw;
  }
  c.dir.commit();
}

}  // namespace ocirt::container

namespace ocirt {

void create(const CreateOptions& o) {
  container::Created c = container::create_init(o, true, false);
  container::ack(c);
  c.init.release();  // the caller's subreaper (or init) parents it from here
}

}  // namespace ocirt
