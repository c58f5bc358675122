// `exec`'s process (see exec.hpp).
#include "src/linux/exec.hpp"

#include <linux/sched.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "ocirt/error.hpp"
#include "src/linux/finalize.hpp"
#include "src/linux/linux.hpp"
#include "src/linux/inherited.hpp"
#include "src/linux/sync.hpp"

namespace ocirt::linux_ {
namespace {

[[noreturn]] void exec_child(ExecRequest& r, int sync_fd, int init_pidfd) {
  Finish fin(r.process, r.seccomp, r.lsm, r.userns, r.preserve_fds, sync_fd);
  Ready ready;
  try {
    sys::unblock_signals();  // the runtime's caller may block what it forwards
    std::vector<int> keep = {sync_fd, init_pidfd};
    for (int i = 0; i < r.preserve_fds; ++i) keep.push_back(3 + i);
    sys::close_fds_except(keep);
    sync::send(sync_fd, sync::Type::Ready);
    sync::Message go;
    if (!sync::recv(sync_fd, go)) ::_exit(1);
    if (go.type != sync::Type::Go) throw Error("sync: expected go", EPROTO);
    // all of the init's namespaces at once (the pid namespace came with the clone)
    if (r.pidns == ExecRequest::PidNs::InChild) {
      // rootless: the user namespace first gives us the right to the pid namespace, which only
      // our children enter; the one that goes on is the runtime's child, not ours
      if (::setns(init_pidfd, static_cast<int>(r.ns_flags | CLONE_NEWPID)) < 0)
        throw_errno("join the container's namespaces");
      reborn_in_pidns(sync_fd);
    } else if (r.ns_flags && ::setns(init_pidfd, static_cast<int>(r.ns_flags)) < 0) {
      throw_errno("join the container's namespaces");
    }
    ::close(init_pidfd);
    if (!r.user.empty()) resolve_user(r.user, r.process.user);
    if (r.console) {
      if (::setsid() < 0) throw_errno("setsid");
      hand_over_console(r.process, sync_fd, false);
    }
    std::vector<std::string> notes;
    LazyProcfs procfs("procfs for the LSM label");
    ready = finalize(fin, procfs, notes);
    sync::expect(sync_fd, sync::Type::Start, "wait for start");
  } catch (const std::exception& e) {
    setup_failed(sync_fd, e);
  }
  // the sync socket stays open (close-on-exec): the parent sees EOF when we exec
  exec_started(fin, ready, sync_fd, false);
}

}  // namespace

Child spawn_exec(ExecRequest& r, int init_pidfd, const SpawnHooks& on) {
  ForClone for_clone;  // the pid namespace applies to children: entered for the clone only
  if (r.pidns == ExecRequest::PidNs::ForClone) for_clone.enter(init_pidfd, CLONE_NEWPID, "join the container's pid namespace");
  Child c = clone_child(0, r.cgroup_fd, for_clone, [&](int sync_fd) { exec_child(r, sync_fd, init_pidfd); },
                        "exec process");
  spdlog::debug("nsexec container setup: exec process {} cloned into the container's pid namespace", c.pid);
  drive(c, on, "exec process");
  spdlog::debug("child process in init(): joined the container, set up");
  return c;
}

}  // namespace ocirt::linux_
