// exec: a new process in a created or running container: the process built from the
// container's (or given whole), set up by src/linux/exec.cpp, handed to the caller.
#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>

#include <spdlog/spdlog.h>

#include "ocirt/cgroups.hpp"
#include "ocirt/container.hpp"
#include "ocirt/error.hpp"
#include "src/container/internal.hpp"
#include "src/linux/console.hpp"
#include "src/linux/exec.hpp"
#include "src/linux/processes.hpp"
#include "src/linux/linux.hpp"
#include "src/linux/seccomp.hpp"
#include "src/linux/files.hpp"

namespace ocirt {
namespace {

// The exec'd process: the given one, or the container's process with the options' changes.
spec::Process exec_process(const ExecOptions& o, const spec::Config& cfg) {
  spec::Process p;
  if (o.process) {
    p = *o.process;
    if (p.args.empty()) throw Error(ErrorKind::Invalid, "process.args", "must contain the program to run", EINVAL);
    if (p.cwd.empty()) p.cwd = "/";
    if (p.cwd[0] != '/') throw Error(ErrorKind::Invalid, "process.cwd", "\"" + p.cwd + "\" is not an absolute path", EINVAL);
  } else {
    if (cfg.process) p = *cfg.process;
    else p.cwd = "/";
    p.args = o.args;
    if (p.args.empty()) throw Error(ErrorKind::Invalid, "args", "a command to run is required", EINVAL);
    p.terminal = false;
    for (auto& e : o.env) {
      if (e.find('=') == std::string::npos) throw Error(ErrorKind::Invalid, "env", "\"" + e + "\" is not of the form KEY=value", EINVAL);
      p.env.push_back(e);
    }
    if (!o.cwd.empty()) p.cwd = o.cwd;
    if (o.uid) p.user.uid = *o.uid;
    if (o.gid) p.user.gid = *o.gid;
    if (!o.additional_gids.empty()) p.user.additional_gids = o.additional_gids;
    if (!o.caps.empty()) {
      if (!p.capabilities) p.capabilities.emplace();
      auto add = [&](std::optional<std::vector<std::string>>& set) {
        if (!set) set.emplace();
        for (auto& c : o.caps) set->push_back(c);
      };
      add(p.capabilities->bounding);
      add(p.capabilities->effective);
      add(p.capabilities->permitted);
    }
    if (o.no_new_privs) p.no_new_privileges = true;
    if (!o.apparmor.empty()) p.apparmor_profile = o.apparmor;
    if (!o.process_label.empty()) p.selinux_label = o.process_label;
  }
  spec::validate_process(p);  // the same rules as config.json's process
  return p;
}

}  // namespace

Process exec(const ExecOptions& o) {
  if (o.tty && o.console_socket.empty() && o.detach)
    throw Error(ErrorKind::Invalid, "console_socket", "required for a detached exec with a terminal", EINVAL);
  if (!o.tty && !o.console_socket.empty() && !o.process)
    throw Error(ErrorKind::Invalid, "console_socket", "given without a terminal (tty)", EINVAL);
  state::Dir dir = state::Dir::open(o.root, o.id, false);
  state::Record r = dir.load();
  state::Status status = state::derive_status(r, dir.fd());
  Fd init = container::live_pidfd(r);
  if (status == state::Status::Stopped || !init)
    throw Error(ErrorKind::State, "", "cannot exec in a stopped container", EINVAL);
  if (status == state::Status::Paused && !o.ignore_paused)
    throw Error(ErrorKind::State, "ignore_paused", "cannot exec in a paused container", EINVAL);
  const spec::Config cfg = container::created_config(dir, r);
  linux_::ExecRequest req;
  req.process = exec_process(o, cfg);
  req.user = o.user_name;
  // With a whole process its "terminal" decides, as runc: true is a terminal exec (the
  // containerd shim passes no --tty, only --console-socket).
  const bool tty = o.tty || req.process.terminal;
  if (tty && o.console_socket.empty() && o.detach)
    throw Error(ErrorKind::Invalid, "console_socket", "required for a detached exec with a terminal", EINVAL);
  if (!tty && !o.console_socket.empty())
    throw Error(ErrorKind::Invalid, "console_socket", "given, but the process's terminal is false", EINVAL);
  req.lsm = linux_::host_lsm(req.process);
  req.preserve_fds = o.preserve_fds;
  std::optional<linux_::SeccompFilter> filter;
  if (cfg.linux) {
    if (cfg.linux->seccomp) {
      filter.emplace(*cfg.linux->seccomp, o.root + "/.seccomp-cache");
      req.seccomp = &*filter;
    }
    for (auto& n : cfg.linux->namespaces) {
      unsigned long f = linux_::ns_flag(n.type);
      if (f != CLONE_NEWPID) req.ns_flags |= f;
    }
    req.userns = cfg.has_namespace("user");
    if (sys::unprivileged())
      req.pidns = cfg.has_namespace("pid") ? linux_::ExecRequest::PidNs::InChild : linux_::ExecRequest::PidNs::Shared;
  }
  auto leaves = r.cgroup_leaves;
  if (!o.cgroups.empty()) {
    if (leaves.empty()) throw Error(ErrorKind::State, "cgroups", "the container has no cgroup on this host", ENOTSUP);
    leaves = cgroups::Manager::sub_leaves(leaves, o.cgroups);
  }
  Fd cgfd = container::cgroup_fd_for(leaves);
  req.cgroup_fd = cgfd.get();
  req.console = tty;
  req.process.terminal = tty;
  Fd held;  // a terminal without a socket: the caller holds the master
  linux_::SpawnHooks on;
  if (!cgfd) on.on_clone = [&](pid_t pid) { cgroups::Manager(leaves).add_process(pid); };
  on.console = [&](const std::string& name, int master) { container::take_console(o.console_socket, held, name, master); };
  on.seccomp_listener = [&](pid_t pid, int fd) {
    container::send_seccomp_listener(*cfg.linux->seccomp, state::state_json(r, status, false), pid, fd);
  };
  linux_::Child p = linux_::spawn_exec(req, init.get(), on);
  if (!o.pid_file.empty()) sys::write_atomic(o.pid_file, std::to_string(p.pid), 0644);
  if (!o.pidfd_socket.empty()) linux_::send_pidfd(o.pidfd_socket, "setns", p.pidfd.get());
  spdlog::debug("setns_init: about to exec {}", req.process.args.empty() ? "" : req.process.args[0]);
  sync::send(p.sync.get(), sync::Type::Start);
  std::string err = container::wait_exec(p.sync.get());
  p.sync.reset();
  if (!err.empty()) throw Error(ErrorKind::Failed, "", "exec failed: " + err, ENOEXEC);  // ~Child reaps it
  p.release();
  return Process(p.pid, std::move(p.pidfd), std::move(held));
}

}  // namespace ocirt
