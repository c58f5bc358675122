// /dev: the default device nodes, linux.devices, and the usual symlinks. Nodes are made with
// mknodat on a parent fd resolved inside the rootfs, so a planted symlink is never followed.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <string_view>

#include "ocirt/error.hpp"
#include "src/linux/linux.hpp"
#include "src/linux/in_root.hpp"
#include "src/linux/processes.hpp"

namespace ocirt::linux_ {
namespace {

struct Node {
  std::string path;
  mode_t type;
  unsigned major, minor;
  mode_t mode;
  uid_t uid;
  gid_t gid;
};

// Makes n.path's last component in `dir` (an O_PATH fd, usable by the *at calls). The umask is 0
// here (setup_dev), so mknod gives the permissions asked for. In our own new /dev tmpfs (mode
// 755, no set-gid) a node made by root is 0:0 already, so a 0:0 node needs no chown there.
void make_node_in(const InitContext& ctx, int dir, const std::string& name, const Node& n, const std::string& where,
                  bool in_new_dev) {
  // In a user namespace (the container's own, or the runtime's: rootless podman runs us as root
  // in one) the kernel refuses mknod: the host's node is bound instead, as runc does.
  static bool bind_nodes = false;
  if (ctx.new_userns || bind_nodes) {
    // mknod is refused in a user namespace: bind the host's node onto an empty file.
    ::unlinkat(dir, name.c_str(), 0);  // a node of the same name in the image is replaced
    Fd f(::openat(dir, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!f) throw_errno(where + ": create " + n.path);
    Fd tree(::open_tree(AT_FDCWD, n.path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    if (!tree) throw_errno(where + ": bind host " + n.path);
    if (::move_mount(tree.get(), "", f.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      throw_errno(where + ": bind " + n.path);
    return;
  }
  const dev_t dev = makedev(n.major, n.minor);
  if (::mknodat(dir, name.c_str(), n.type | (n.mode & 07777), dev) < 0) {
    if (errno == EPERM && sys::in_user_namespace()) {
      bind_nodes = true;
      make_node_in(ctx, dir, name, n, where, in_new_dev);
      return;
    }
    // a node of the same name in the image is replaced
    if (errno != EEXIST || ::unlinkat(dir, name.c_str(), 0) < 0 ||
        ::mknodat(dir, name.c_str(), n.type | (n.mode & 07777), dev) < 0)
      throw_errno(where + ": mknod " + n.path);
  }
  if (!(in_new_dev && n.uid == 0 && n.gid == 0) && ::fchownat(dir, name.c_str(), n.uid, n.gid, AT_SYMLINK_NOFOLLOW) < 0)
    throw_errno(where + ": chown " + n.path);
  // the kernel may drop set-id bits at creation (and chown drops them): set those explicitly
  if ((n.mode & 07000) && ::fchmodat(dir, name.c_str(), n.mode & 07777, 0) < 0) throw_errno(where + ": chmod " + n.path);
}

void make_node(const InitContext& ctx, int rootfd, const Node& n, const std::string& where) {
  auto slash = n.path.rfind('/');
  std::string dir = n.path.substr(0, slash), name = n.path.substr(slash + 1);
  Fd parent = sys::mkdir_in_root(rootfd, dir.empty() ? "/" : dir);
  make_node_in(ctx, parent.get(), name, n, where, false);
}

struct UmaskZero {
  mode_t old = ::umask(0);
  ~UmaskZero() { ::umask(old); }
};

}  // namespace

void setup_dev(const InitContext& ctx, int rootfd, bool dev_is_tmpfs) {
  const auto& cfg = *ctx.cfg;
  UmaskZero umask0;
  std::vector<std::string> configured;
  if (cfg.linux) {
    for (size_t i = 0; i < cfg.linux->devices.size(); ++i) {
      const auto& d = cfg.linux->devices[i];
      if (d.path == "/dev/ptmx") continue;  // the symlink to pts/ptmx below, as runc (setupPtmx)
      mode_t type = d.type == "b" ? S_IFBLK : d.type == "p" ? S_IFIFO : S_IFCHR;
      Node n{d.path, type, static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor),
             d.file_mode.value_or(0666), d.uid.value_or(0), d.gid.value_or(0)};
      make_node(ctx, rootfd, n, "linux.devices[" + std::to_string(i) + "]");
      configured.push_back(d.path);
    }
  }
  if (!dev_is_tmpfs) return;  // the image's own /dev is left as it is, like runc
  static const Node defaults[] = {
      {"/dev/null", S_IFCHR, 1, 3, 0666, 0, 0},    {"/dev/zero", S_IFCHR, 1, 5, 0666, 0, 0},
      {"/dev/full", S_IFCHR, 1, 7, 0666, 0, 0},    {"/dev/random", S_IFCHR, 1, 8, 0666, 0, 0},
      {"/dev/urandom", S_IFCHR, 1, 9, 0666, 0, 0}, {"/dev/tty", S_IFCHR, 5, 0, 0666, 0, 0},
  };
  Fd ddir = sys::mkdir_in_root(rootfd, "/dev");
  for (auto& n : defaults) {
    bool overridden = false;
    for (auto& c : configured) overridden |= c == n.path;
    if (!overridden) make_node_in(ctx, ddir.get(), n.path.substr(5), n, "default device", true);
  }
  static const std::pair<const char*, const char*> links[] = {
      {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
      {"/proc/self/fd/2", "stderr"}, {"/proc/kcore", "core"},
  };
  // /dev/core only where the kernel has /proc/kcore (CONFIG_PROC_KCORE), as runc: not a dangling link
  const bool kcore = ::access("/proc/kcore", F_OK) == 0;
  for (auto& [target, name] : links) {
    if (!kcore && std::string_view(name) == "core") continue;
    if (::symlinkat(target, ddir.get(), name) < 0 && errno != EEXIST) throw_errno(std::string("symlink /dev/") + name);
  }
  // /dev/ptmx -> pts/ptmx, so a devpts instance of the container's own is used
  struct stat st;
  if (::fstatat(ddir.get(), "pts", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
    ::unlinkat(ddir.get(), "ptmx", 0);
    if (::symlinkat("pts/ptmx", ddir.get(), "ptmx") < 0) throw_errno("symlink /dev/ptmx");
  }
}

}  // namespace ocirt::linux_
