// The cgroup plan and its ownership on synthetic v1, hybrid and v2 hosts, and the device-rule
// transitions (src/cgroups/manager.cpp, device_filter.cpp): pure, no root, no host cgroup read.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "ocirt/cgroups.hpp"
#include "ocirt/error.hpp"

using namespace ocirt::cgroups;

namespace {

System v2_host(std::string own = "/user.slice/session-1.scope") {
  System s;
  s.layout = Layout::V2;
  s.hierarchies = {{"", "/sys/fs/cgroup", std::move(own), true}};
  s.v2_controllers = {"cpu", "memory", "pids"};
  return s;
}

System v1_host() {
  System s;
  s.layout = Layout::V1;
  s.hierarchies = {{"cpu,cpuacct", "/sys/fs/cgroup/cpu,cpuacct", "/", false},
                   {"memory", "/sys/fs/cgroup/memory", "/job/abc", false},
                   {"name=systemd", "/sys/fs/cgroup/systemd", "/user.slice", false}};
  return s;
}

System hybrid_host() {
  System s = v1_host();
  s.layout = Layout::Hybrid;
  s.hierarchies.push_back({"", "/sys/fs/cgroup/unified", "/user.slice/s.scope", true});
  return s;
}

// `exists` over a fixed set of directories
struct Dirs {
  std::set<std::string> have;
  bool operator()(const std::string& d) const { return have.count(d) > 0; }
};

std::string refusal(const System& s, const std::string& path, Dirs d = {}) {
  try {
    plan(s, path, "ctr", d);
  } catch (const ocirt::Error& e) {
    return e.what();
  }
  return "";
}

std::vector<std::pair<bool, DeviceRule>> rules(std::initializer_list<std::pair<bool, DeviceRule>> l) { return l; }

}  // namespace

TEST_CASE("cgroup plan, v2: empty, absolute and relative cgroupsPath; what is ours") {
  System s = v2_host();
  Plan p = plan(s, "", "ctr", Dirs{{"/sys/fs/cgroup"}});
  CHECK(p.path == "/ctr");
  CHECK(p.leaves == std::vector<std::string>{"/sys/fs/cgroup/ctr"});
  CHECK(p.to_create == std::vector<std::string>{"/sys/fs/cgroup/ctr"});
  // absolute: below the hierarchy's root; every missing level is ours, parents first
  p = plan(s, "/pod1//./ctr/", "ctr", Dirs{{"/sys/fs/cgroup"}});
  CHECK(p.path == "/pod1/ctr");
  CHECK(p.leaves == std::vector<std::string>{"/sys/fs/cgroup/pod1/ctr"});
  CHECK(p.to_create == std::vector<std::string>{"/sys/fs/cgroup/pod1", "/sys/fs/cgroup/pod1/ctr"});
  // a parent the caller made (a pod's) is not ours; a leaf that exists is not ours either
  p = plan(s, "/pod1/ctr", "ctr", Dirs{{"/sys/fs/cgroup/pod1"}});
  CHECK(p.to_create == std::vector<std::string>{"/sys/fs/cgroup/pod1/ctr"});
  p = plan(s, "/pod1/ctr", "ctr", Dirs{{"/sys/fs/cgroup/pod1", "/sys/fs/cgroup/pod1/ctr"}});
  CHECK(p.to_create.empty());
  CHECK(p.leaves.size() == 1);
  // relative: below the parent of our own cgroup (ours has processes and cannot have children
  // with controllers)
  p = plan(s, "sub/ctr", "ctr", Dirs{});
  CHECK(p.path == "/user.slice/sub/ctr");
  CHECK(p.to_create == std::vector<std::string>{"/sys/fs/cgroup/user.slice", "/sys/fs/cgroup/user.slice/sub",
                                                "/sys/fs/cgroup/user.slice/sub/ctr"});
  p = plan(v2_host("/"), "ctr", "x", Dirs{});  // in the root cgroup: below the root
  CHECK(p.path == "/ctr");
}

TEST_CASE("cgroup plan, v1: one leaf per hierarchy; relative below our own cgroup in each") {
  System s = v1_host();
  Plan p = plan(s, "/a/b", "ctr", Dirs{{"/sys/fs/cgroup/memory/a"}});
  CHECK(p.path == "/a/b");
  CHECK(p.leaves == std::vector<std::string>{"/sys/fs/cgroup/cpu,cpuacct/a/b", "/sys/fs/cgroup/memory/a/b",
                                             "/sys/fs/cgroup/systemd/a/b"});
  CHECK(p.to_create == std::vector<std::string>{"/sys/fs/cgroup/cpu,cpuacct/a", "/sys/fs/cgroup/cpu,cpuacct/a/b",
                                                "/sys/fs/cgroup/memory/a/b", "/sys/fs/cgroup/systemd/a",
                                                "/sys/fs/cgroup/systemd/a/b"});
  p = plan(s, "x", "ctr", Dirs{});
  CHECK(p.path == "/x");  // the first hierarchy's
  CHECK(p.leaves == std::vector<std::string>{"/sys/fs/cgroup/cpu,cpuacct/x", "/sys/fs/cgroup/memory/job/abc/x",
                                             "/sys/fs/cgroup/systemd/user.slice/x"});
  p = plan(s, "", "ctr", Dirs{});
  CHECK(p.leaves[1] == "/sys/fs/cgroup/memory/ctr");  // empty: /<id> at the root of each
}

TEST_CASE("cgroup plan, hybrid: v1 hierarchies and the unified one, each by its own rule") {
  Plan p = plan(hybrid_host(), "x", "ctr", Dirs{});
  REQUIRE(p.leaves.size() == 4);
  CHECK(p.leaves[1] == "/sys/fs/cgroup/memory/job/abc/x");              // v1: below our cgroup
  CHECK(p.leaves[3] == "/sys/fs/cgroup/unified/user.slice/x");          // v2: below its parent
  p = plan(hybrid_host(), "/x", "ctr", Dirs{});
  CHECK(p.leaves[3] == "/sys/fs/cgroup/unified/x");
  // no cgroup hierarchy at all: nothing to make, nothing to join
  System none;
  p = plan(none, "/x", "ctr", Dirs{});
  CHECK(p.leaves.empty());
  CHECK(p.to_create.empty());
  CHECK(p.path.empty());
}

TEST_CASE("cgroup plan: \"..\" and the root cgroup are refused, naming linux.cgroupsPath") {
  CHECK(refusal(v2_host(), "/a/../b") == R"(linux.cgroupsPath: "/a/../b" must not contain "..")");
  CHECK(refusal(v2_host(), "x/../../y") == R"(linux.cgroupsPath: "x/../../y" must not contain "..")");
  CHECK(refusal(v1_host(), "..") == R"(linux.cgroupsPath: ".." must not contain "..")");
  CHECK(refusal(v2_host(), "/") == R"(linux.cgroupsPath: "/" names the root cgroup)");
  CHECK(refusal(v2_host(), "//.") == R"(linux.cgroupsPath: "//." names the root cgroup)");
  CHECK(refusal(v2_host("/"), ".") == R"(linux.cgroupsPath: "." names the root cgroup)");
  CHECK(refusal(v2_host(), "/a..b/c").empty());  // only a whole ".." component
}

TEST_CASE("device rules: the config's rules come first, runc's defaults after") {
  ocirt::spec::DeviceCgroup deny_all;  // {"allow": false, "access": "rwm"}
  deny_all.access = "rwm";
  ocirt::spec::DeviceCgroup allow_fuse;
  allow_fuse.allow = true;
  allow_fuse.type = "c";
  allow_fuse.major = 10;
  allow_fuse.minor = 229;
  allow_fuse.access = "rw";
  auto r = device_rules({deny_all, allow_fuse});
  REQUIRE(r.size() == 13);
  CHECK_FALSE(r[0].first);
  CHECK(r[0].second.type == 'a');  // no type: all devices
  CHECK(r[0].second.access == 7);
  CHECK(r[1].first);
  CHECK(r[1].second.major == 10);
  CHECK(r[1].second.minor == 229);
  CHECK(r[1].second.access == 6);  // r 2 | w 4
  auto s = emulate(r);
  CHECK_FALSE(s.allow_by_default);
  bool fuse = false;
  for (auto& e : s.exceptions) fuse |= e.type == 'c' && e.major == 10 && e.minor == 229 && e.access == 6;
  CHECK(fuse);
  // a later "allow all" of the config's is undone by nothing: the defaults only add
  ocirt::spec::DeviceCgroup allow_all;
  allow_all.allow = true;
  s = emulate(device_rules({allow_all}));
  CHECK(s.allow_by_default);
}

TEST_CASE("device rules: emulation merges access and takes it back") {
  auto s = emulate(rules({{false, {'a', -1, -1, 7}}, {true, {'c', 1, 3, 2}}, {true, {'c', 1, 3, 4}}}));
  REQUIRE(s.exceptions.size() == 1);
  CHECK(s.exceptions[0].access == 6);  // one exception, access merged
  s = emulate(rules({{true, {'a', -1, -1, 7}}, {false, {'b', 8, -1, 7}}, {true, {'b', 8, -1, 2}}}));
  CHECK(s.allow_by_default);
  REQUIRE(s.exceptions.size() == 1);
  CHECK(s.exceptions[0].access == 5);  // the deny of block 8:* keeps m and w
  // a rule with the default's own sense and nothing to take back changes nothing
  s = emulate(rules({{false, {'a', -1, -1, 7}}, {false, {'c', 4, 1, 7}}}));
  CHECK(s.exceptions.empty());
}

TEST_CASE("device rules: devices.list parsing") {
  auto s = parse_device_list("a *:* rwm\n");
  CHECK(s.allow_by_default);
  CHECK(s.exceptions.empty());
  s = parse_device_list("c 1:3 rwm\nb 8:* r\nc *:* m\ngarbage\n");
  CHECK_FALSE(s.allow_by_default);
  REQUIRE(s.exceptions.size() == 3);
  CHECK(s.exceptions[1].type == 'b');
  CHECK(s.exceptions[1].major == 8);
  CHECK(s.exceptions[1].minor == -1);
  CHECK(s.exceptions[1].access == 2);
  CHECK(s.exceptions[2].major == -1);
  CHECK(s.exceptions[2].access == 1);
  CHECK(parse_device_list("").exceptions.empty());
  CHECK_FALSE(parse_device_list("").allow_by_default);  // an empty list denies everything
}

TEST_CASE("device rules: transitions write only what differs, allows before denies") {
  DeviceState cur = parse_device_list("c 1:3 rwm\nc 1:5 rw\n");
  // the same state: nothing to write
  CHECK(device_transition(cur, cur).empty());
  // more access on a kept device: only the missing bits
  DeviceState target = cur;
  target.exceptions[1].access = 7;
  auto w = device_transition(cur, target);
  REQUIRE(w.size() == 1);
  CHECK(w[0] == std::pair<std::string, std::string>{"devices.allow", "c 1:5 m"});
  // less access: a deny of just the bits dropped
  target.exceptions[1].access = 2;
  w = device_transition(cur, target);
  REQUIRE(w.size() == 1);
  CHECK(w[0] == std::pair<std::string, std::string>{"devices.deny", "c 1:5 w"});
  // a new device and a dropped one: the allow comes first
  target.exceptions = {{'c', 1, 3, 7}, {'b', 7, -1, 2}};
  w = device_transition(cur, target);
  REQUIRE(w.size() == 2);
  CHECK(w[0] == std::pair<std::string, std::string>{"devices.allow", "b 7:* r"});
  CHECK(w[1] == std::pair<std::string, std::string>{"devices.deny", "c 1:5 rw"});
  // to allow-all: reset with "a", then the target's denies
  DeviceState open;
  open.allow_by_default = true;
  open.exceptions = {{'c', 10, 229, 7}};
  w = device_transition(cur, open);
  REQUIRE(w.size() == 2);
  CHECK(w[0] == std::pair<std::string, std::string>{"devices.allow", "a"});
  CHECK(w[1] == std::pair<std::string, std::string>{"devices.deny", "c 10:229 rwm"});
  // allow-all to allow-all: its list shows no exceptions, so nothing can be diffed: reset too
  w = device_transition(parse_device_list("a *:* rwm\n"), open);
  REQUIRE(w.size() == 2);
  CHECK(w[0] == std::pair<std::string, std::string>{"devices.allow", "a"});
  CHECK(w[1] == std::pair<std::string, std::string>{"devices.deny", "c 10:229 rwm"});
  // from allow-all to deny-all with exceptions: "a" denied first, every exception allowed
  w = device_transition(open, cur);
  REQUIRE(w.size() == 3);
  CHECK(w[0] == std::pair<std::string, std::string>{"devices.deny", "a"});
  CHECK(w[1].first == "devices.allow");
  CHECK(w[2] == std::pair<std::string, std::string>{"devices.allow", "c 1:5 rw"});
}
