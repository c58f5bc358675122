// Mount planning (see mount_plan.hpp): the config's mounts checked, their options parsed once,
// each one's kind, target, flags and data decided, and what /dev and / will need. Pure.
#include "src/linux/mount_plan.hpp"

#include <cerrno>

#include "ocirt/error.hpp"
#include "src/common/path.hpp"

namespace ocirt::linux_ {
namespace {

// The /sys/fs/cgroup a "cgroup" mount shows, from the host's layout: cgroup2 on pure v2, else
// a tmpfs with one mount per host hierarchy; with a cgroup namespace each is mounted fresh,
// without one the container's leaf is bound.
CgroupMount plan_cgroup(const spec::Config& cfg, const MountHost& host, const std::string& what) {
  CgroupMount c;
  if (!host.cgroups) return c;
  const cgroups::System& sys = *host.cgroups;
  const bool cgns = cfg.has_namespace("cgroup");
  // The container's leaf in a hierarchy; without one (rootless: a hierarchy it could not use,
  // runc's rule) this process's own cgroup there, as runc binds it.
  auto leaf = [&](size_t i) -> std::string {
    const cgroups::Hierarchy& h = sys.hierarchies[i];
    if (host.cgroup_leaves)
      for (const std::string& l : *host.cgroup_leaves)
        if (l.size() > h.mount.size() && l.compare(0, h.mount.size(), h.mount) == 0 && l[h.mount.size()] == '/')
          return l;
    if (!host.rootless) throw Error(what + ": no cgroup of the container in " + h.mount, EINVAL);
    return h.own_path == "/" ? h.mount : h.mount + h.own_path;
  };
  if (sys.layout == cgroups::Layout::V2) {
    CgroupSub s;
    s.fstype = "cgroup2";
    if (!cgns && !sys.hierarchies.empty()) s.bind_source = leaf(0);
    if (cgns && !sys.hierarchies.empty() && (host.rootless || (host.cgroup_leaves && !host.cgroup_leaves->empty())))
      s.fallback_source = leaf(0);
    c.subs.push_back(std::move(s));
    return c;
  }
  c.tmpfs = true;
  c.subs.reserve(sys.hierarchies.size());
  for (size_t i = 0; i < sys.hierarchies.size(); ++i) {
    const auto& h = sys.hierarchies[i];
    CgroupSub s;
    s.name = h.v2 ? "unified" : h.mount.substr(h.mount.rfind('/') + 1);
    if (cgns) {
      s.fstype = h.v2 ? "cgroup2" : "cgroup";
      if (!h.v2) s.data = h.controllers;
    } else {
      s.bind_source = leaf(i);
    }
    // co-mounted controllers get their usual symlinks (cpu -> cpu,cpuacct)
    if (!h.v2 && h.controllers.find(',') != std::string::npos && h.controllers.rfind("name=", 0) != 0)
      for (std::string_view ctl : path::split(h.controllers, ','))
        if (ctl != s.name) s.links.emplace_back(ctl);
    c.subs.push_back(std::move(s));
  }
  return c;
}

}  // namespace

spec::MountOptions check_mount(const spec::Config& c, size_t i) {
  const spec::Mount& m = c.mounts[i];
  auto where = [i] { return "mounts[" + std::to_string(i) + "]"; };  // made only for an error
  if (path::has_dotdot(m.destination))
    throw Error(where() + ".destination: \"" + m.destination + "\" must not contain \"..\"", EINVAL);
  spec::MountOptions opts = spec::parse_mount_options(m.options);
  const bool idmap_opt = opts.idmap, bind = m.type == "bind" || opts.bind;
  // Fail closed: a bind mount takes no filesystem data, so a flag we do not know would be
  // dropped (a dropped "rro" is a writable host directory). KEY=VALUE options are filesystem
  // data ("mode=755"), never a mount flag: ignored on a bind, with a warning (plan_mounts).
  if (bind)
    for (size_t j : opts.unknown)
      if (m.options[j].find('=') == std::string::npos)
        throw Error(where() + ".options[" + std::to_string(j) + "]: unknown mount option \"" + m.options[j] + "\"", EINVAL);
  if (opts.tmpcopyup && m.type != "tmpfs") throw Error(where() + ".options: tmpcopyup is for tmpfs mounts only", EINVAL);
  bool mapped = !m.uid_mappings.empty() || !m.gid_mappings.empty();
  if (mapped && (m.uid_mappings.empty() || m.gid_mappings.empty()))
    throw Error(where() + ".uidMappings: an idmapped mount needs both uidMappings and gidMappings", EINVAL);
  if ((mapped || idmap_opt) && !bind) throw Error(where() + ": idmapped mounts are supported for bind mounts only", ENOTSUP);
  if (idmap_opt && !mapped && !c.find_namespace("user"))
    throw Error(where() + ".options: idmap without uidMappings needs a user namespace in linux.namespaces", EINVAL);
  return opts;
}

MountPlan plan_mounts(const spec::Config& cfg, const MountHost& host) {
  MountPlan plan;
  const std::string& prop = cfg.linux ? cfg.linux->rootfs_propagation : std::string();
  // Nothing we mount may reach the host: everything becomes a slave (private if that was
  // asked). The requested propagation is applied to the container's / after pivot_root.
  // rshared is applied first instead, as runc does: the binds the init clones must stay peers
  // of the host's mounts for propagation to go both ways (a CSI volume, Kubernetes'
  // Bidirectional); the mount holding the rootfs is then made private (prepare_rootfs), so the
  // rootfs bind and what is mounted on it stay in the container. (A non-recursive "shared"
  // would leave every other mount a peer of the host's: it is applied after pivot_root.)
  plan.root_propagation = spec::propagation_flags(prop);
  if (plan.root_propagation == (MS_SHARED | MS_REC))
    plan.host_propagation = plan.root_propagation;
  else
    plan.host_propagation = ((plan.root_propagation & MS_PRIVATE) ? MS_PRIVATE : MS_SLAVE) | MS_REC;
  if (!cfg.find_namespace("mount")) {
    // Without a mount namespace every mount would land on the host: make none (as runc).
    plan.skipped = true;
    if (!cfg.mounts.empty() || (cfg.linux && (!cfg.linux->masked_paths.empty() || !cfg.linux->readonly_paths.empty())))
      plan.warnings.push_back("no mount namespace: mounts, masked and readonly paths are not applied");
    return plan;
  }
  const bool label = cfg.linux && !cfg.linux->mount_label.empty() && host.selinux;
  bool dev_bound = false;
  plan.steps.reserve(cfg.mounts.size());
  for (size_t i = 0; i < cfg.mounts.size(); ++i) {
    const spec::Mount& m = cfg.mounts[i];
    MountStep s;
    s.index = i;
    s.mount = &m;
    s.opts = check_mount(cfg, i);
    const auto& f = s.opts;
    s.dest = !m.destination.empty() && m.destination[0] == '/' ? m.destination : "/" + m.destination;
    s.what = "mount " + (m.source.empty() ? m.type : m.source) + " on " + s.dest;
    const bool bind = f.bind || m.type == "bind";
    const bool idmap = f.idmap || !m.uid_mappings.empty();
    s.source = bind && !m.source.empty() && m.source[0] != '/' ? host.bundle + "/" + m.source : m.source;
    s.propagation = f.propagation & ~static_cast<unsigned long>(MS_REC);
    s.propagation_recursive = f.propagation & MS_REC;
    s.ordinary_dir = m.type == "proc" || m.type == "sysfs";
    if (idmap && host.rootless)
      throw Error("mounts[" + std::to_string(i) + "]: idmapped mounts need a runtime with CAP_SYS_ADMIN (this one is rootless)",
                  EPERM);
    if (idmap || (bind && host.new_userns && !host.rootless)) {
      s.kind = MountKind::ParentTree;
      s.idmap = idmap;
    } else if (bind) {
      s.kind = MountKind::Bind;
    } else if (m.type == "cgroup") {
      s.kind = MountKind::Cgroup;
      s.cgroup = plan_cgroup(cfg, host, s.what);
    } else {
      s.kind = MountKind::Filesystem;
      s.flags = f.flags;
      if (s.dest == "/dev") {
        plan.dev_tmpfs = true;
        s.flags &= ~static_cast<unsigned long>(MS_RDONLY);  // devices are created first; read-only afterwards
      }
      // linux.mountLabel: the SELinux context of the filesystems we mount (when SELinux is on)
      if (label && m.type != "proc" && m.type != "sysfs" && m.type != "cgroup2")
        s.opts.data += (s.opts.data.empty() ? "" : ",") + std::string("context=\"") + cfg.linux->mount_label + "\"";
      if (m.type == "sysfs") s.host_fallback = "/sys";
      else if (m.type == "mqueue") s.host_fallback = "/dev/mqueue";
    }
    if (bind)
      for (size_t j : f.unknown)
        plan.warnings.push_back("mounts[" + std::to_string(i) + "].options[" + std::to_string(j) + "]: \"" +
                                m.options[j] + "\" is filesystem data, which a bind mount ignores");
    // /dev from the config: a bind brings its own nodes (unless a fresh /dev came first)
    if (m.destination == "/dev") {
      if (!plan.dev_tmpfs) dev_bound = true;
      if (f.flags & MS_RDONLY) plan.dev_readonly = true;
    }
    plan.steps.push_back(std::move(s));
  }
  plan.setup_dev = !dev_bound;
  return plan;
}

}  // namespace ocirt::linux_
