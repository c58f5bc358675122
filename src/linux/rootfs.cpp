// The container's filesystem, done: propagation, rootfs bind, the config's mounts as a
// MountPlan decided them (mount_plan.cpp; each target resolved inside the rootfs and mounted
// through its fd), pivot_root, masked and readonly paths.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <climits>
#include <dirent.h>

#include "ocirt/error.hpp"
#include "src/linux/attributes.hpp"
#include "src/linux/linux.hpp"
#include "src/linux/files.hpp"
#include "src/linux/in_root.hpp"
#include "src/linux/mount_plan.hpp"
#include "src/linux/mountinfo.hpp"
#include "src/spec/mount_options.hpp"

namespace ocirt::linux_ {

// A mountinfo field with its octal escapes (\040 for a space) undone.
std::string unescape_mountinfo(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 3 < v.size()) {
      out += static_cast<char>((v[i + 1] - '0') * 64 + (v[i + 2] - '0') * 8 + (v[i + 3] - '0'));
      i += 3;
    } else {
      out += v[i];
    }
  }
  return out;
}

std::optional<std::string> mountinfo_mount_point(const std::string& info, uint64_t mnt_id) {
  const std::string id = std::to_string(mnt_id) + " ";
  for (size_t at = 0; at < info.size();) {
    size_t nl = info.find('\n', at);
    if (nl == std::string::npos) nl = info.size();
    std::string_view line(info.data() + at, nl - at);
    at = nl + 1;
    if (line.rfind(id, 0) != 0) continue;
    // "ID PARENT MAJ:MIN ROOT MOUNTPOINT ...": the fifth field, octal escapes undone
    size_t f = 0;
    for (int i = 0; i < 4 && f != std::string_view::npos; ++i) f = line.find(' ', f + 1);
    if (f == std::string_view::npos) break;
    size_t end = line.find(' ', f + 1);
    std::string_view v = line.substr(f + 1, end == std::string_view::npos ? std::string_view::npos : end - f - 1);
    return unescape_mountinfo(v);
  }
  return std::nullopt;
}

std::vector<std::string> mountinfo_pseudo_fs(const std::string& info, const std::string& rootfs) {
  std::vector<std::string> targets;
  for (size_t at = 0; at < info.size();) {
    size_t nl = info.find('\n', at);
    if (nl == std::string::npos) nl = info.size();
    std::string_view line(info.data() + at, nl - at);
    at = nl + 1;
    std::vector<std::string_view> f;
    for (size_t i = 0; i < line.size();) {
      size_t sp = line.find(' ', i);
      if (sp == std::string_view::npos) sp = line.size();
      f.push_back(line.substr(i, sp - i));
      i = sp + 1;
    }
    size_t dash = 0;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (f.size() < 5 || dash + 1 >= f.size()) continue;
    std::string_view fstype = f[dash + 1];
    if (f[3] != "/" || (fstype != "proc" && fstype != "sysfs")) continue;
    std::string mp = unescape_mountinfo(f[4]);
    if (mp == rootfs || mp.rfind(rootfs + "/", 0) == 0) continue;
    targets.push_back(mp);
  }
  return targets;
}

namespace {

using MountFlags = spec::MountOptions;

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

uint64_t to_attr(unsigned long f) {
  uint64_t a = 0;
  if (f & MS_RDONLY) a |= MOUNT_ATTR_RDONLY;
  if (f & MS_NOSUID) a |= MOUNT_ATTR_NOSUID;
  if (f & MS_NODEV) a |= MOUNT_ATTR_NODEV;
  if (f & MS_NOEXEC) a |= MOUNT_ATTR_NOEXEC;
  if (f & MS_NODIRATIME) a |= MOUNT_ATTR_NODIRATIME;
  if (f & MS_NOSYMFOLLOW) a |= MOUNT_ATTR_NOSYMFOLLOW;
  if (f & MS_NOATIME) a |= MOUNT_ATTR_NOATIME;
  else if (f & MS_STRICTATIME) a |= MOUNT_ATTR_STRICTATIME;
  else if (f & MS_RELATIME) a |= MOUNT_ATTR_RELATIME;
  return a;
}

void set_attr(int fd, uint64_t set, uint64_t clr, uint64_t propagation, bool recursive, const std::string& what) {
  struct mount_attr attr {};
  attr.attr_set = set;
  attr.attr_clr = clr;
  if (set & (MOUNT_ATTR_NOATIME | MOUNT_ATTR_STRICTATIME | MOUNT_ATTR_RELATIME)) attr.attr_clr |= MOUNT_ATTR__ATIME;
  attr.propagation = propagation;
  if (::mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
    throw_errno(what);
}

// Bind `src_fd` (or path) onto target fd: a detached copy gets its attributes first, then is
// attached. Nothing is ever mounted on a path string a symlink could redirect.
void bind_onto(int src_dirfd, const char* src_path, int target_fd, bool recursive, const MountFlags& f,
               const std::string& what) {
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0) |
                   (src_path[0] ? 0 : AT_EMPTY_PATH);
  Fd tree(::open_tree(src_dirfd, src_path, flags));
  if (!tree) throw_errno(what + ": open_tree");
  uint64_t set = to_attr(f.flags), clr = to_attr(f.clear) & ~uint64_t{MOUNT_ATTR__ATIME};  // rw, suid, exec, ...
  const uint64_t propagation = f.propagation & ~static_cast<unsigned long>(MS_REC);
  if (set || clr || f.propagation)
    set_attr(tree.get(), set, clr, propagation, false, what + ": set mount attributes");
  if (f.propagation & MS_REC) set_attr(tree.get(), 0, 0, propagation, true, what + ": set propagation");
  // rro, rnosuid, ...: the whole tree, submounts included, before anyone can see it
  if (f.rec_set || f.rec_clr) set_attr(tree.get(), f.rec_set, f.rec_clr, 0, true, what + ": set recursive mount attributes");

  if (::move_mount(tree.get(), "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    throw_errno(what + ": move_mount");
}

// tmpcopyup (podman's --tmpfs): what the directory held is copied into the new tmpfs, owners,
// modes and symlinks kept. Never follows a symlink; depth-bounded.
void copy_entries(int from, int to, const std::string& what, int depth) {
  if (depth > 64) throw Error(what + ": directory tree deeper than 64 levels", ELOOP);
  int dup = ::fcntl(from, F_DUPFD_CLOEXEC, 3);
  DIR* d = dup < 0 ? nullptr : ::fdopendir(dup);
  if (!d) {
    if (dup >= 0) ::close(dup);
    throw_errno(what + ": read directory");
  }
  std::unique_ptr<DIR, int (*)(DIR*)> guard(d, ::closedir);
  while (struct dirent* e = ::readdir(d)) {
    const char* n = e->d_name;
    if (!strcmp(n, ".") || !strcmp(n, "..")) continue;
    struct stat st;
    if (::fstatat(from, n, &st, AT_SYMLINK_NOFOLLOW) < 0) throw_errno(what + ": stat " + n);
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(to, n, st.st_mode & 07777) < 0 && errno != EEXIST) throw_errno(what + ": mkdir " + n);
      Fd a(::openat(from, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)),
          b(::openat(to, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!a || !b) throw_errno(what + ": open " + n);
      copy_entries(a.get(), b.get(), what, depth + 1);
      ::fchmod(b.get(), st.st_mode & 07777);
    } else if (S_ISREG(st.st_mode)) {
      Fd a(::openat(from, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)),
          b(::openat(to, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777));
      if (!a || !b) throw_errno(what + ": copy " + n);
      for (off_t left = st.st_size; left > 0;) {
        ssize_t c = ::copy_file_range(a.get(), nullptr, b.get(), nullptr, static_cast<size_t>(left), 0);
        if (c < 0 && errno == EINTR) continue;
        if (c <= 0) {
          if (c < 0) throw_errno(what + ": copy " + n);
          break;
        }
        left -= c;
      }
      ::fchmod(b.get(), st.st_mode & 07777);
    } else if (S_ISLNK(st.st_mode)) {
      char buf[PATH_MAX];
      ssize_t l = ::readlinkat(from, n, buf, sizeof buf - 1);
      if (l < 0) throw_errno(what + ": readlink " + n);
      buf[l] = 0;
      if (::symlinkat(buf, to, n) < 0) throw_errno(what + ": symlink " + n);
    } else if (::mknodat(to, n, st.st_mode, st.st_rdev) < 0) {
      throw_errno(what + ": mknod " + n);
    }
    if (::fchownat(to, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) throw_errno(what + ": chown " + n);
  }
}

void copy_up(int from, int to, const std::string& what) {
  copy_entries(from, to, what, 0);
  struct stat st;  // the tmpfs root takes the directory's owner and mode
  if (::fstat(from, &st) == 0) {
    if (::fchown(to, st.st_uid, st.st_gid) < 0) throw_errno(what + ": chown");
    ::fchmod(to, st.st_mode & 07777);
  }
}

// In the parent: a detached clone of `source` with the options' attributes, idmapped with
// userns_fd when that is not -1.
Fd prepare_tree(const std::string& source, const std::string& destination, const MountFlags& f, int userns_fd,
                const std::string& where) {
  std::string what = where + ": mount " + source + " on " + destination;
  Fd tree(::open_tree(AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (f.rbind ? AT_RECURSIVE : 0)));
  if (!tree) throw_errno(what + ": open_tree");
  uint64_t set = to_attr(f.flags);
  if (set || f.propagation)
    set_attr(tree.get(), set, 0, f.propagation & ~static_cast<unsigned long>(MS_REC), false, what + ": set mount attributes");
  if (f.rec_set || f.rec_clr) set_attr(tree.get(), f.rec_set, f.rec_clr, 0, true, what + ": set recursive mount attributes");
  if (userns_fd < 0) return tree;
  struct mount_attr attr {};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns_fd);
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | (f.ridmap ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
    throw_errno(what + ": idmap the mount");
  return tree;
}

// /sys/fs/cgroup inside the container, as plan_cgroup decided it.
void mount_cgroup(int rootfd, const MountStep& s, int target) {
  const MountFlags& f = s.opts;
  const std::string& dest = s.dest;
  if (!s.cgroup.tmpfs) {  // v2
    if (s.cgroup.subs.empty()) throw Error("mount " + dest + ": no cgroup hierarchy planned", EINVAL);
    const CgroupSub& sub = s.cgroup.subs[0];
    if (sub.bind_source.empty()) {
      if (::mount("cgroup2", fd_path(target).c_str(), "cgroup2", f.flags, nullptr) < 0) {
        if ((errno != EPERM && errno != EBUSY) || sub.fallback_source.empty()) throw_errno("mount " + dest);
        bind_onto(AT_FDCWD, sub.fallback_source.c_str(), target, false, f, "mount " + dest);
      }
    } else {
      bind_onto(AT_FDCWD, sub.bind_source.c_str(), target, false, f, "mount " + dest);
    }
    return;
  }
  unsigned long fl = f.flags & ~MS_RDONLY;
  if (::mount("tmpfs", fd_path(target).c_str(), "tmpfs", fl, "mode=755") < 0) throw_errno("mount tmpfs on " + dest);
  // The tmpfs is new and empty: its directories are made and opened relative to its root, with
  // no resolution in the rootfs per hierarchy.
  Fd top(sys::open_in_root(rootfd, dest, O_PATH | O_DIRECTORY));
  if (top.get() < 0) throw_errno("reopen " + dest, -top.release());
  for (const CgroupSub& sub : s.cgroup.subs) {
    const std::string& name = sub.name;
    if (::mkdirat(top.get(), name.c_str(), 0755) < 0) throw_errno("create " + dest + "/" + name);
    Fd fd(::openat(top.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw_errno("open " + dest + "/" + name);
    if (sub.bind_source.empty()) {
      if (::mount("cgroup", fd_path(fd.get()).c_str(), sub.fstype.c_str(), f.flags, sub.data.c_str()) < 0)
        throw_errno("mount cgroup " + name + " on " + dest);
    } else {
      bind_onto(AT_FDCWD, sub.bind_source.c_str(), fd.get(), false, f, "mount cgroup " + name);
    }
    for (const std::string& link : sub.links) ::symlinkat(name.c_str(), top.get(), link.c_str());
  }
  if (f.flags & MS_RDONLY) set_attr(top.get(), MOUNT_ATTR_RDONLY, 0, 0, false, "make " + dest + " read-only");
}

// One step of the plan. tree: the detached tree the parent made for a ParentTree step.
void mount_step(int rootfd, const MountStep& s, int tree) {
  const MountFlags& f = s.opts;
  const std::string &dest = s.dest, &what = s.what;
  if (s.kind == MountKind::ParentTree) {  // made complete by the parent: attach it
    if (tree < 0) throw Error(what + ": the parent made no mount tree", EINVAL);
    struct stat st;
    if (::fstat(tree, &st) < 0) throw_errno(what + ": source");
    Fd target = sys::mkdir_in_root(rootfd, dest, !S_ISDIR(st.st_mode));
    if (::move_mount(tree, "", target.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      throw_errno(what + ": attach the mount");
    return;
  }
  const bool bind = s.kind == MountKind::Bind;
  bool want_file = false;
  if (bind) {
    struct stat st;
    if (::stat(s.source.c_str(), &st) < 0) throw_errno(what + ": source");
    want_file = !S_ISDIR(st.st_mode);
  }
  // proc and sysfs only on a real directory, never through a symlink the image planted (runc)
  if (s.ordinary_dir) {
    int fd = sys::open_in_root(rootfd, dest, O_PATH | O_NOFOLLOW);
    struct stat st;
    if (fd >= 0) {
      Fd f(fd);
      if (::fstat(f.get(), &st) == 0 && !S_ISDIR(st.st_mode))
        throw Error(what + ": " + dest + " must be mounted on ordinary directory", ENOTDIR);
    }
  }
  Fd target = sys::mkdir_in_root(rootfd, dest, want_file);
  if (bind) {
    bind_onto(AT_FDCWD, s.source.c_str(), target.get(), f.rbind, f, what);
    return;
  }
  if (s.kind == MountKind::Cgroup) return mount_cgroup(rootfd, s, target.get());
  const char* data = f.data.empty() ? nullptr : f.data.c_str();
  Fd below;  // tmpcopyup: what the tmpfs will cover, to copy into it
  if (f.tmpcopyup) {
    below.reset(::openat(target.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!below) throw_errno(what + ": tmpcopyup: open " + dest);
  }
  const spec::Mount& m = *s.mount;
  if (::mount(m.source.c_str(), fd_path(target.get()).c_str(), m.type.c_str(), s.flags, data) < 0) {
    int e = errno;
    // Without a new net (ipc) namespace the kernel refuses a fresh sysfs (mqueue): bind the host's.
    if ((e == EPERM || e == EBUSY) && s.host_fallback) {
      MountFlags bf = f;
      bf.flags &= ~MS_RDONLY;
      bind_onto(AT_FDCWD, s.host_fallback, target.get(), true, bf, what);
      Fd top(sys::open_in_root(rootfd, dest, O_PATH | O_DIRECTORY));
      if (top.get() >= 0 && (f.flags & MS_RDONLY)) set_attr(top.get(), MOUNT_ATTR_RDONLY, 0, 0, true, what);
      return;
    }
    throw_errno(what, e);
  }
  if (s.propagation || f.rec_set || f.rec_clr || below) {
    Fd top(sys::open_in_root(rootfd, dest, below ? O_RDONLY | O_DIRECTORY : O_PATH));
    if (top.get() < 0) throw_errno(what + ": reopen", -top.release());
    if (below) copy_up(below.get(), top.get(), what + ": tmpcopyup");
    if (s.propagation) set_attr(top.get(), 0, 0, s.propagation, s.propagation_recursive, what + ": propagation");
    if (f.rec_set || f.rec_clr) set_attr(top.get(), f.rec_set, f.rec_clr, 0, true, what + ": recursive attributes");
  }
}

// The mount holding `path` (the one its directory is on, or mounted at it) made private in
// our mount namespace: its mount id by statx, its mount point from mountinfo.
void make_holder_private(const std::string& path) {
  struct statx sx {};
  if (::statx(AT_FDCWD, path.c_str(), AT_NO_AUTOMOUNT, STATX_MNT_ID, &sx) < 0 || !(sx.stx_mask & STATX_MNT_ID))
    throw_errno("linux.rootfsPropagation: find the mount of " + path);
  std::string info;
  if (!sys::try_read_file("/proc/self/mountinfo", info)) throw_errno("linux.rootfsPropagation: read mountinfo");
  std::optional<std::string> mp = mountinfo_mount_point(info, sx.stx_mnt_id);
  if (mp) {
    if (::mount(nullptr, mp->c_str(), nullptr, MS_PRIVATE, nullptr) < 0)
      throw_errno("linux.rootfsPropagation: make " + *mp + " (holding the rootfs) private");
    return;
  }
  throw Error("linux.rootfsPropagation: the mount of " + path + " is not in mountinfo", ENOENT);
}

}  // namespace

Fd prepare_bind_tree(const MountStep& s, int userns_fd) {
  return prepare_tree(s.source, s.mount->destination, s.opts, userns_fd, "mounts[" + std::to_string(s.index) + "]");
}

MountHost mount_host(const InitContext& ctx) {
  MountHost h;
  h.bundle = ctx.bundle;
  h.new_userns = ctx.new_userns;
  h.rootless = ctx.rootless || (ctx.cgroup && ctx.cgroup->rootless);
  h.selinux = ctx.lsm.selinux;
  h.cgroups = &cgroups::System::get();
  if (ctx.cgroup) h.cgroup_leaves = &ctx.cgroup->leaves;
  return h;
}

void prepare_rootfs(InitContext& ctx) {
  const auto& cfg = *ctx.cfg;
  if (!ctx.mounts) throw Error("prepare the rootfs: no mount plan (the runtime makes it before clone)", EINVAL);
  const MountPlan& plan = *ctx.mounts;
  if (::mount(nullptr, "/", nullptr, plan.host_propagation, nullptr) < 0) throw_errno("set propagation of /");
  // A shared / (rootfsPropagation rshared): the mount holding the rootfs is made private, or
  // the rootfs bind below would appear on the host and pivot_root refuse a shared parent.
  if (plan.host_propagation & MS_SHARED) make_holder_private(ctx.rootfs);
  // pivot_root needs the rootfs' parent mount not to be shared.
  if (::mount(ctx.rootfs.c_str(), ctx.rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
    throw_errno("bind rootfs " + ctx.rootfs);
  if (::mount(nullptr, ctx.rootfs.c_str(), nullptr, MS_PRIVATE, nullptr) < 0 && !ctx.no_pivot)
    throw_errno("make rootfs private");
  Fd rootfd(::open(ctx.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!rootfd) throw_errno("open rootfs " + ctx.rootfs);
  for (const MountStep& s : plan.steps) {
    try {
      mount_step(rootfd.get(), s, s.index < ctx.mount_trees.size() ? ctx.mount_trees[s.index] : -1);
    } catch (Error& e) {
      e.prefix("mounts[" + std::to_string(s.index) + "]");
      throw;
    }
  }
  if (plan.setup_dev) setup_dev(ctx, rootfd.get(), plan.dev_tmpfs);
  // The cwd exists inside the rootfs (runc creates it), resolved securely.
  if (cfg.process) {
    try {
      sys::mkdir_in_root(rootfd.get(), cfg.process->cwd);
    } catch (Error& e) {
      e.prefix("process.cwd");
      throw;
    }
  }
}

namespace {

// --no-pivot's steps, named by the option (the CLI shows it as the flag)
[[noreturn]] void no_pivot_failed(const std::string& step, int err = errno) {
  throw Error(ErrorKind::System, "no_pivot", step + ": " + strerror(err), err);
}

// --no-pivot: the host's procfs and sysfs stay in our mount namespace behind the chroot, and the
// kernel lets a process in a new user namespace mount a procfs when a full one is visible in
// its mount namespace. Every full proc/sysfs mount outside the rootfs is detached (or covered
// with a tmpfs when it cannot be), as runc does.
void mask_host_pseudo_fs(const std::string& rootfs) {
  std::string info;
  if (!sys::try_read_file("/proc/self/mountinfo", info)) no_pivot_failed("read mountinfo");
  std::vector<std::string> targets = mountinfo_pseudo_fs(info, rootfs);
  // deepest first, so a covered parent does not hide a child still to detach
  std::sort(targets.begin(), targets.end(), [](auto& a, auto& b) { return a.size() > b.size(); });
  for (auto& p : targets) {
    if (::mount(nullptr, p.c_str(), nullptr, MS_SLAVE | MS_REC, nullptr) < 0) {
      if (errno == ENOENT) continue;
      no_pivot_failed("make " + p + " a slave");
    }
    if (::umount2(p.c_str(), MNT_DETACH) == 0) continue;
    if (errno != EINVAL && errno != EPERM) no_pivot_failed("detach " + p);
    if (::mount("tmpfs", p.c_str(), "tmpfs", MS_RDONLY, nullptr) < 0) no_pivot_failed("cover " + p);
  }
}

}  // namespace

void enter_rootfs(const InitContext& ctx) {
  if (ctx.no_pivot) {
    mask_host_pseudo_fs(ctx.rootfs);
    if (::chdir(ctx.rootfs.c_str()) < 0) throw_errno("chdir rootfs");
    if (::mount(ctx.rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) < 0) throw_errno("move rootfs to /");
    if (::chroot(".") < 0) throw_errno("chroot");
    if (::chdir("/") < 0) throw_errno("chdir /");
    return;
  }
  Fd oldroot(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  Fd newroot(::open(ctx.rootfs.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!oldroot || !newroot) throw_errno("open root for pivot_root");
  if (::fchdir(newroot.get()) < 0) throw_errno("chdir rootfs");
  if (::syscall(SYS_pivot_root, ".", ".") < 0) throw_errno("pivot_root");
  if (::fchdir(oldroot.get()) < 0) throw_errno("chdir old root");
  // The old root is stacked under the new one: detach it without propagating to the host.
  if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) throw_errno("make old root slave");
  if (::umount2(".", MNT_DETACH) < 0) throw_errno("detach old root");
  if (::chdir("/") < 0) throw_errno("chdir /");
}

void finish_rootfs(const InitContext& ctx) {
  const auto& cfg = *ctx.cfg;
  if (!ctx.mounts) throw Error("finish the rootfs: no mount plan (prepare_rootfs comes first)", EINVAL);
  Fd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (cfg.linux) {
    for (auto& path : cfg.linux->readonly_paths) {
      // A symlink is followed (inside the root): its target is made read-only, as runc's bind
      // of the path does, not the link.
      int fd = sys::open_in_root(root.get(), path, O_PATH);
      if (fd == -ENOENT) continue;
      if (fd < 0) throw_errno("linux.readonlyPaths: " + path, -fd);
      Fd f(fd);
      // A recursive clone of the path, made read-only all through and nosuid/nodev/noexec at
      // its top while still detached, then put over the path.
      const std::string what = "linux.readonlyPaths: " + path;
      Fd tree(::open_tree(f.get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH));
      if (!tree) throw_errno(what + ": open_tree");
      set_attr(tree.get(), MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0, 0, false, what);
      set_attr(tree.get(), MOUNT_ATTR_RDONLY, 0, 0, true, what);
      if (::move_mount(tree.get(), "", f.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        throw_errno(what + ": move_mount");
    }
    Fd null_dev;  // the container's /dev/null, checked once, for every masked file
    for (auto& path : cfg.linux->masked_paths) {
      int fd = sys::open_in_root(root.get(), path, O_PATH | O_NOFOLLOW);
      if (fd == -ENOENT) continue;  // absent paths are skipped (e.g. /proc/kcore on some kernels)
      if (fd < 0) throw_errno("linux.maskedPaths: " + path, -fd);
      Fd f(fd);
      struct stat st;
      if (::fstat(f.get(), &st) < 0) throw_errno("linux.maskedPaths: stat " + path);
      if (S_ISDIR(st.st_mode)) {
        Fd fs(::fsopen("tmpfs", FSOPEN_CLOEXEC));
        if (!fs || ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
          throw_errno("linux.maskedPaths: tmpfs for " + path);
        Fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
        if (!mnt) throw_errno("linux.maskedPaths: fsmount for " + path);
        if (::move_mount(mnt.get(), "", f.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
          throw_errno("linux.maskedPaths: mount over " + path);
      } else {
        if (!null_dev) {
          // /dev/null of the container, resolved inside it (never a host node through a symlink)
          int nul = sys::open_in_root(root.get(), "/dev/null", O_PATH | O_NOFOLLOW);
          if (nul < 0) throw_errno("linux.maskedPaths: /dev/null", -nul);
          null_dev.reset(nul);
          // CVE-2025-31133: the container may have replaced /dev/null (a symlink to a procfs
          // file, a regular file): only the real null device may cover a masked path.
          struct stat ns;
          if (::fstat(null_dev.get(), &ns) < 0 || !S_ISCHR(ns.st_mode) || ns.st_rdev != makedev(1, 3))
            throw Error("linux.maskedPaths: /dev/null in the container is not the null device; refusing to mask " + path,
                        EPERM);
        }
        MountFlags none;
        bind_onto(null_dev.get(), "", f.get(), false, none, "linux.maskedPaths: " + path);
      }
    }
    if (!cfg.linux->rootfs_propagation.empty()) {
      if (::mount(nullptr, "/", nullptr, ctx.mounts->root_propagation, nullptr) < 0) throw_errno("linux.rootfsPropagation");
    }
  }
  if (ctx.mounts->dev_readonly) {  // /dev mounted with "ro": read-only now that devices exist
    Fd dev(sys::open_in_root(root.get(), "/dev", O_PATH | O_DIRECTORY));
    if (dev.get() >= 0) set_attr(dev.get(), MOUNT_ATTR_RDONLY, 0, 0, false, "make /dev read-only");
  }
  if (cfg.root && cfg.root->readonly) set_attr(root.get(), MOUNT_ATTR_RDONLY, 0, 0, false, "root.readonly");
}

}  // namespace ocirt::linux_
