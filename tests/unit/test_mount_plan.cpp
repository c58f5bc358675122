// The mount plan (src/linux/mount_plan.cpp) and the option table it parses with
// (src/spec/mount_options.cpp): pure functions of a config and host facts, no root, no host.
#include <doctest/doctest.h>

#include <sys/mount.h>

#include <string>

#include "ocirt/error.hpp"
#include "ocirt/spec.hpp"
#include "src/linux/mount_plan.hpp"
#include "src/spec/mount_options.hpp"

#ifndef MOUNT_ATTR_RDONLY
#include <linux/mount.h>
#endif

using namespace ocirt;
using linux_::MountKind;
using linux_::MountPlan;

namespace {

spec::Mount mnt(std::string dest, std::string type, std::string source, std::vector<std::string> options = {}) {
  spec::Mount m;
  m.destination = std::move(dest);
  m.type = std::move(type);
  m.source = std::move(source);
  m.options = std::move(options);
  return m;
}

// A config with a mount namespace (and the others named) and these mounts.
spec::Config config(std::vector<spec::Mount> mounts, std::vector<std::string> namespaces = {"mount"}) {
  spec::Config c;
  c.oci_version = "1.2.0";
  c.root = spec::Root{"rootfs", false};
  c.linux.emplace();
  for (auto& n : namespaces) c.linux->namespaces.push_back({n, ""});
  c.mounts = std::move(mounts);
  return c;
}

linux_::MountHost host(std::string bundle = "/b") {
  linux_::MountHost h;
  h.bundle = std::move(bundle);
  return h;
}

std::string refusal(const spec::Config& c) {
  try {
    linux_::plan_mounts(c, host());
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

spec::IdMapping idmap(uint32_t c, uint32_t h, uint32_t n) { return {c, h, n}; }

}  // namespace

TEST_CASE("mount options: flags set and cleared, the last word wins") {
  auto o = spec::parse_mount_options({"nosuid", "nodev", "ro", "noexec"});
  CHECK(o.flags == (MS_NOSUID | MS_NODEV | MS_RDONLY | MS_NOEXEC));
  CHECK(o.clear == 0);
  CHECK(o.data.empty());
  CHECK(o.unknown.empty());
  o = spec::parse_mount_options({"ro", "rw", "suid", "nosuid"});
  CHECK(o.flags == MS_NOSUID);  // rw after ro: not read-only, and said so explicitly
  CHECK(o.clear == MS_RDONLY);
  o = spec::parse_mount_options({"noatime", "atime", "strictatime"});
  CHECK(o.flags == MS_STRICTATIME);
  CHECK(o.clear == MS_NOATIME);
}

TEST_CASE("mount options: recursive attributes go to the whole tree") {
  auto o = spec::parse_mount_options({"rro", "rnosuid", "rnodev"});
  CHECK(o.rec_set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV));
  CHECK(o.rec_clr == 0);
  CHECK(o.flags == 0);  // not the top mount's mount(2) flags
  o = spec::parse_mount_options({"rro", "rrw", "rexec"});
  CHECK(o.rec_set == 0);
  CHECK(o.rec_clr == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC));
  // one atime mode: the field is cleared, the last mode set
  o = spec::parse_mount_options({"rnoatime", "rstrictatime"});
  CHECK(o.rec_set == MOUNT_ATTR_STRICTATIME);
  CHECK((o.rec_clr & MOUNT_ATTR__ATIME) == MOUNT_ATTR__ATIME);
  o = spec::parse_mount_options({"rnosymfollow"});
  CHECK(o.rec_set == MOUNT_ATTR_NOSYMFOLLOW);
}

TEST_CASE("mount options: propagation, one type, recursive or not") {
  CHECK(spec::parse_mount_options({"rslave"}).propagation == (MS_SLAVE | MS_REC));
  CHECK(spec::parse_mount_options({"shared"}).propagation == MS_SHARED);
  CHECK(spec::parse_mount_options({"private", "runbindable"}).propagation == (MS_UNBINDABLE | MS_REC));
  CHECK(spec::parse_mount_options({"nosuid"}).propagation == 0);
  // linux.rootfsPropagation reads the same table
  CHECK(spec::propagation_flags("rprivate") == (MS_PRIVATE | MS_REC));
  CHECK(spec::propagation_flags("unbindable") == MS_UNBINDABLE);
  CHECK(spec::propagation_flags("") == 0);
  CHECK(spec::propagation_flags("ro") == 0);  // an option, not a propagation
  CHECK(spec::propagation_flags("bogus") == 0);
}

TEST_CASE("mount options: unknown words and KEY=VALUE are filesystem data, in order") {
  auto o = spec::parse_mount_options({"nosuid", "mode=755", "bogus", "size=65536k"});
  CHECK(o.flags == MS_NOSUID);
  CHECK(o.data == "mode=755,bogus,size=65536k");
  CHECK(o.unknown == std::vector<size_t>{1, 2, 3});
  o = spec::parse_mount_options({"bind"});
  CHECK(o.bind);
  CHECK_FALSE(o.rbind);
  o = spec::parse_mount_options({"rbind"});
  CHECK(o.bind);
  CHECK(o.rbind);
  o = spec::parse_mount_options({"ridmap", "tmpcopyup"});
  CHECK(o.idmap);
  CHECK(o.ridmap);
  CHECK(o.tmpcopyup);
  CHECK_FALSE(spec::parse_mount_options({"idmap"}).ridmap);
  // the table is sorted (binary search) and complete for `features`
  auto names = spec::mount_option_names();
  CHECK(std::is_sorted(names.begin(), names.end()));
  CHECK(names.size() == 61);
}

TEST_CASE("mount plan: steps in the config's order, targets absolute, sources below the bundle") {
  auto c = config({mnt("/proc", "proc", "proc"), mnt("dev/shm", "tmpfs", "shm", {"nosuid", "mode=1777"}),
                   mnt("/data", "bind", "data", {"rbind", "ro"}), mnt("/etc/hosts", "none", "/etc/hosts", {"bind"}),
                   mnt("/sys/fs/cgroup", "cgroup", "cgroup", {"ro"})});
  MountPlan p = linux_::plan_mounts(c, host("/bundles/x"));
  REQUIRE(p.steps.size() == 5);
  for (size_t i = 0; i < p.steps.size(); ++i) {
    CHECK(p.steps[i].index == i);
    CHECK(p.steps[i].mount == &c.mounts[i]);
  }
  CHECK(p.steps[0].kind == MountKind::Filesystem);
  CHECK(p.steps[1].dest == "/dev/shm");  // relative destinations are below the container's /
  CHECK(p.steps[1].what == "mount shm on /dev/shm");
  CHECK(p.steps[1].source == "shm");     // a filesystem's source is the filesystem's business
  CHECK(p.steps[1].flags == MS_NOSUID);
  CHECK(p.steps[1].opts.data == "mode=1777");
  CHECK(p.steps[2].kind == MountKind::Bind);
  CHECK(p.steps[2].source == "/bundles/x/data");  // relative bind source: below the bundle
  CHECK(p.steps[2].opts.rbind);
  CHECK(p.steps[2].opts.flags == MS_RDONLY);
  CHECK(p.steps[3].kind == MountKind::Bind);  // "bind" in the options makes any type a bind
  CHECK(p.steps[3].source == "/etc/hosts");
  CHECK_FALSE(p.steps[3].opts.rbind);
  CHECK(p.steps[4].kind == MountKind::Cgroup);
  CHECK(p.warnings.empty());
  CHECK_FALSE(p.skipped);
}

TEST_CASE("mount plan: proc, sysfs and mqueue defaults") {
  auto c = config({mnt("/proc", "proc", "proc"), mnt("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
                   mnt("/dev/mqueue", "mqueue", "mqueue"), mnt("/tmp", "tmpfs", "tmpfs"),
                   mnt("/sys2", "sysfs", "/sys", {"rbind"})});
  MountPlan p = linux_::plan_mounts(c, host());
  REQUIRE(p.steps.size() == 5);
  CHECK(p.steps[0].ordinary_dir);  // never mounted through a symlink the image planted
  CHECK(p.steps[0].host_fallback == nullptr);
  CHECK(p.steps[1].ordinary_dir);
  REQUIRE(p.steps[1].host_fallback != nullptr);
  CHECK(std::string(p.steps[1].host_fallback) == "/sys");
  CHECK(p.steps[1].flags == (MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY));
  REQUIRE(p.steps[2].host_fallback != nullptr);
  CHECK(std::string(p.steps[2].host_fallback) == "/dev/mqueue");
  CHECK_FALSE(p.steps[2].ordinary_dir);
  CHECK_FALSE(p.steps[3].ordinary_dir);
  CHECK(p.steps[3].host_fallback == nullptr);
  CHECK(p.steps[4].kind == MountKind::Bind);  // a sysfs type with rbind is a bind, still on a directory
  CHECK(p.steps[4].ordinary_dir);
}

TEST_CASE("mount plan: /dev, fresh or bound, read-only after its devices") {
  MountPlan p = linux_::plan_mounts(config({mnt("/dev", "tmpfs", "tmpfs", {"nosuid", "mode=755", "ro"})}), host());
  CHECK(p.dev_tmpfs);
  CHECK(p.setup_dev);
  CHECK(p.dev_readonly);
  CHECK(p.steps[0].flags == MS_NOSUID);  // the nodes are made first
  CHECK(p.steps[0].opts.flags == (MS_NOSUID | MS_RDONLY));
  p = linux_::plan_mounts(config({mnt("/dev", "bind", "/dev", {"rbind"})}), host());
  CHECK_FALSE(p.dev_tmpfs);
  CHECK_FALSE(p.setup_dev);  // the caller's nodes
  CHECK_FALSE(p.dev_readonly);
  p = linux_::plan_mounts(config({mnt("/dev", "tmpfs", "tmpfs"), mnt("/dev", "bind", "/dev", {"rbind"})}), host());
  CHECK(p.setup_dev);  // a fresh /dev came first: it gets its nodes
  p = linux_::plan_mounts(config({mnt("/tmp", "tmpfs", "tmpfs")}), host());
  CHECK_FALSE(p.dev_tmpfs);
  CHECK(p.setup_dev);  // no /dev of the config's: the rootfs' own gets the nodes
}

TEST_CASE("mount plan: propagation of the host's / and of the container's") {
  MountPlan p = linux_::plan_mounts(config({}), host());
  CHECK(p.host_propagation == (MS_SLAVE | MS_REC));
  CHECK(p.root_propagation == 0);
  auto c = config({mnt("/m", "tmpfs", "tmpfs", {"rshared"})});
  c.linux->rootfs_propagation = "rprivate";
  p = linux_::plan_mounts(c, host());
  CHECK(p.host_propagation == (MS_PRIVATE | MS_REC));
  CHECK(p.root_propagation == (MS_PRIVATE | MS_REC));
  CHECK(p.steps[0].propagation == MS_SHARED);
  CHECK(p.steps[0].propagation_recursive);
  c.linux->rootfs_propagation = "shared";  // nothing may reach the host while we mount
  p = linux_::plan_mounts(c, host());
  CHECK(p.host_propagation == (MS_SLAVE | MS_REC));
  CHECK(p.root_propagation == MS_SHARED);
  c.linux->rootfs_propagation = "rshared";  // runc's order: the binds stay peers of the host's
  p = linux_::plan_mounts(c, host());
  CHECK(p.host_propagation == (MS_SHARED | MS_REC));
  CHECK(p.root_propagation == (MS_SHARED | MS_REC));
}

TEST_CASE("mount plan: what the parent makes (idmapped mounts, binds for a new user namespace)") {
  auto idm = mnt("/id", "bind", "/src", {"rbind", "idmap"});
  idm.uid_mappings = {idmap(0, 100000, 65536)};
  idm.gid_mappings = {idmap(0, 100000, 65536)};
  auto c = config({idm, mnt("/b", "bind", "/src"), mnt("/t", "tmpfs", "tmpfs")});
  MountPlan p = linux_::plan_mounts(c, host());
  CHECK(p.steps[0].kind == MountKind::ParentTree);
  CHECK(p.steps[0].idmap);
  CHECK(p.steps[1].kind == MountKind::Bind);
  auto h = host();
  h.new_userns = true;
  p = linux_::plan_mounts(c, h);
  CHECK(p.steps[1].kind == MountKind::ParentTree);  // the init could not reach the source
  CHECK_FALSE(p.steps[1].idmap);
  CHECK(p.steps[2].kind == MountKind::Filesystem);
}

TEST_CASE("mount plan: rootless: binds made by the init, idmapped mounts refused, cgroups without our leaf") {
  auto c = config({mnt("/b", "bind", "/src"), mnt("/t", "tmpfs", "tmpfs")}, {"mount", "user"});
  auto h = host();
  h.new_userns = true;
  h.rootless = true;  // the runtime cannot open_tree: the init, in its own namespaces, can
  MountPlan p = linux_::plan_mounts(c, h);
  CHECK(p.steps[0].kind == MountKind::Bind);
  CHECK(p.steps[1].kind == MountKind::Filesystem);
  auto idm = mnt("/id", "bind", "/src", {"rbind", "idmap"});
  c = config({mnt("/b", "bind", "/src"), idm}, {"mount", "user"});
  c.linux->uid_mappings = {idmap(0, 1000, 1)};
  c.linux->gid_mappings = {idmap(0, 1000, 1)};
  try {
    linux_::plan_mounts(c, h);
    FAIL("an idmapped mount was planned for a rootless runtime");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("mounts[1]: idmapped mounts need a runtime with CAP_SYS_ADMIN") == 0);
  }

  using namespace ocirt::cgroups;
  System hybrid;
  hybrid.layout = Layout::Hybrid;
  hybrid.hierarchies = {{"memory", "/sys/fs/cgroup/memory", "/user.slice", false},
                        {"", "/sys/fs/cgroup/unified", "/", true}};
  std::vector<std::string> leaves = {"/sys/fs/cgroup/unified/c"};  // memory was not ours to make
  h.cgroups = &hybrid;
  h.cgroup_leaves = &leaves;
  c = config({mnt("/sys/fs/cgroup", "cgroup", "cgroup")}, {"mount", "user"});
  p = linux_::plan_mounts(c, h);
  REQUIRE(p.steps[0].cgroup.subs.size() == 2);
  CHECK(p.steps[0].cgroup.subs[0].bind_source == "/sys/fs/cgroup/memory/user.slice");  // our own, as runc
  CHECK(p.steps[0].cgroup.subs[1].bind_source == "/sys/fs/cgroup/unified/c");  // found by hierarchy, not index
  h.rootless = false;
  CHECK_THROWS_AS(linux_::plan_mounts(c, h), Error);  // as root, a missing leaf is an error

  // v2 with a cgroup namespace: a fresh cgroup2, with our leaf to bind if the kernel refuses it
  System v2;
  v2.layout = Layout::V2;
  v2.hierarchies = {{"", "/sys/fs/cgroup", "/user/shell", true}};
  leaves = {"/sys/fs/cgroup/user/c"};
  h.cgroups = &v2;
  c = config({mnt("/sys/fs/cgroup", "cgroup", "cgroup")}, {"mount", "user", "cgroup"});
  p = linux_::plan_mounts(c, h);
  CHECK(p.steps[0].cgroup.subs[0].fstype == "cgroup2");
  CHECK(p.steps[0].cgroup.subs[0].bind_source.empty());
  CHECK(p.steps[0].cgroup.subs[0].fallback_source == "/sys/fs/cgroup/user/c");
}

TEST_CASE("mount plan: linux.mountLabel on the filesystems we mount, with SELinux only") {
  auto c = config({mnt("/t", "tmpfs", "tmpfs", {"mode=755"}), mnt("/proc", "proc", "proc"),
                   mnt("/b", "bind", "/src", {"bind"}), mnt("/c", "cgroup2", "cgroup2")});
  c.linux->mount_label = "system_u:object_r:container_file_t:s0";
  MountPlan p = linux_::plan_mounts(c, host());
  CHECK(p.steps[0].opts.data == "mode=755");
  auto h = host();
  h.selinux = true;
  p = linux_::plan_mounts(c, h);
  CHECK(p.steps[0].opts.data == "mode=755,context=\"system_u:object_r:container_file_t:s0\"");
  CHECK(p.steps[1].opts.data.empty());
  CHECK(p.steps[2].opts.data.empty());
  CHECK(p.steps[3].opts.data.empty());
}

TEST_CASE("mount plan: the cgroup mount follows the host's layout") {
  using namespace ocirt::cgroups;
  System v2;
  v2.layout = Layout::V2;
  v2.hierarchies = {{"", "/sys/fs/cgroup", "/", true}};
  std::vector<std::string> leaves = {"/sys/fs/cgroup/ctr"};
  auto h = host();
  h.cgroups = &v2;
  h.cgroup_leaves = &leaves;
  auto c = config({mnt("/sys/fs/cgroup", "cgroup", "cgroup", {"ro", "nosuid"})});
  MountPlan p = linux_::plan_mounts(c, h);
  REQUIRE(p.steps[0].cgroup.subs.size() == 1);
  CHECK_FALSE(p.steps[0].cgroup.tmpfs);
  CHECK(p.steps[0].cgroup.subs[0].bind_source == "/sys/fs/cgroup/ctr");  // no cgroup namespace: our leaf
  c = config({mnt("/sys/fs/cgroup", "cgroup", "cgroup")}, {"mount", "cgroup"});
  p = linux_::plan_mounts(c, h);
  CHECK(p.steps[0].cgroup.subs[0].bind_source.empty());  // with one: a fresh cgroup2
  CHECK(p.steps[0].cgroup.subs[0].fstype == "cgroup2");

  System hybrid;
  hybrid.layout = Layout::Hybrid;
  hybrid.hierarchies = {{"cpu,cpuacct", "/sys/fs/cgroup/cpu,cpuacct", "/", false},
                        {"memory", "/sys/fs/cgroup/memory", "/m", false},
                        {"name=systemd", "/sys/fs/cgroup/systemd", "/", false},
                        {"", "/sys/fs/cgroup/unified", "/u", true}};
  leaves = {"/sys/fs/cgroup/cpu,cpuacct/c", "/sys/fs/cgroup/memory/m/c", "/sys/fs/cgroup/systemd/c",
            "/sys/fs/cgroup/unified/c"};
  h.cgroups = &hybrid;
  p = linux_::plan_mounts(c, h);
  const auto& cg = p.steps[0].cgroup;
  CHECK(cg.tmpfs);
  REQUIRE(cg.subs.size() == 4);
  CHECK(cg.subs[0].name == "cpu,cpuacct");
  CHECK(cg.subs[0].fstype == "cgroup");
  CHECK(cg.subs[0].data == "cpu,cpuacct");
  CHECK(cg.subs[0].links == std::vector<std::string>{"cpu", "cpuacct"});
  CHECK(cg.subs[1].name == "memory");
  CHECK(cg.subs[1].links.empty());
  CHECK(cg.subs[2].name == "systemd");
  CHECK(cg.subs[2].data == "name=systemd");
  CHECK(cg.subs[2].links.empty());  // a named hierarchy has no controllers to link
  CHECK(cg.subs[3].name == "unified");
  CHECK(cg.subs[3].fstype == "cgroup2");
  CHECK(cg.subs[3].data.empty());
  c = config({mnt("/sys/fs/cgroup", "cgroup", "cgroup")});  // no cgroup namespace: the leaves, bound
  p = linux_::plan_mounts(c, h);
  REQUIRE(p.steps[0].cgroup.subs.size() == 4);
  for (size_t i = 0; i < 4; ++i) CHECK(p.steps[0].cgroup.subs[i].bind_source == leaves[i]);
  leaves.pop_back();  // a hierarchy without a leaf of ours is an error, not a guess
  CHECK_THROWS_AS(linux_::plan_mounts(c, h), Error);
}

TEST_CASE("mount plan: nothing without a mount namespace, and it says so") {
  MountPlan p = linux_::plan_mounts(config({mnt("/t", "tmpfs", "tmpfs")}, {"pid"}), host());
  CHECK(p.skipped);
  CHECK(p.steps.empty());
  REQUIRE(p.warnings.size() == 1);
  CHECK(p.warnings[0].find("no mount namespace") != std::string::npos);
  p = linux_::plan_mounts(config({}, {"pid"}), host());
  CHECK(p.skipped);
  CHECK(p.warnings.empty());
}

TEST_CASE("mount plan: what is refused, by JSON path; what a bind ignores, with a warning") {
  CHECK(refusal(config({mnt("/a/../etc", "tmpfs", "tmpfs")})) ==
        R"(mounts[0].destination: "/a/../etc" must not contain "..")");
  CHECK(refusal(config({mnt("/ok", "tmpfs", "tmpfs"), mnt("/m", "bind", "/src", {"rbind", "rro", "bogus"})})) ==
        R"(mounts[1].options[2]: unknown mount option "bogus")");
  CHECK(refusal(config({mnt("/m", "none", "/src", {"bind", "nosuid", "rro2"})})) ==
        R"(mounts[0].options[2]: unknown mount option "rro2")");
  CHECK(refusal(config({mnt("/m", "tmpfs", "tmpfs", {"bogus"})})).empty());  // data for the filesystem
  CHECK(refusal(config({mnt("/m", "proc", "proc", {"tmpcopyup"})})) == "mounts[0].options: tmpcopyup is for tmpfs mounts only");
  CHECK(refusal(config({mnt("/m", "tmpfs", "tmpfs", {"idmap"})}, {"mount", "user"})) ==
        "mounts[0]: idmapped mounts are supported for bind mounts only");
  CHECK(refusal(config({mnt("/m", "bind", "/src", {"idmap"})})) ==
        "mounts[0].options: idmap without uidMappings needs a user namespace in linux.namespaces");
  CHECK(refusal(config({mnt("/m", "bind", "/src", {"idmap"})}, {"mount", "user"})).empty());
  auto half = mnt("/m", "bind", "/src");
  half.uid_mappings = {idmap(0, 1000, 1)};
  CHECK(refusal(config({half})) == "mounts[0].uidMappings: an idmapped mount needs both uidMappings and gidMappings");
  // KEY=VALUE on a bind: filesystem data the kernel would ignore; a warning, not a refusal
  auto c = config({mnt("/m", "bind", "/src", {"rbind", "mode=755", "ro"})});
  MountPlan p = linux_::plan_mounts(c, host());
  REQUIRE(p.warnings.size() == 1);
  CHECK(p.warnings[0] == R"(mounts[0].options[1]: "mode=755" is filesystem data, which a bind mount ignores)");
  // validation applies the same rules, with the same words
  try {
    spec::validate_semantics(config({mnt("/m", "bind", "/src", {"bogus"})}));
    FAIL("not refused");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == R"(mounts[0].options[0]: unknown mount option "bogus")");
  }
}

TEST_CASE("mount plan: the default spec") {
  auto c = spec::load(spec::default_spec(false));
  MountPlan p = linux_::plan_mounts(c, host());
  REQUIRE(p.steps.size() == 7);
  std::vector<std::string> dests;
  for (auto& s : p.steps) dests.push_back(s.dest);
  CHECK(dests == std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"});
  CHECK(p.dev_tmpfs);
  CHECK(p.setup_dev);
  CHECK(p.steps[1].opts.data == "mode=755,size=65536k");
  CHECK(p.steps[6].kind == MountKind::Cgroup);
  for (auto& s : p.steps) CHECK(s.kind != MountKind::Bind);
  CHECK(p.warnings.empty());
}
