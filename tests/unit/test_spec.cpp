// config.json validation: every error names the JSON path of the field.
#include <doctest/doctest.h>

#include <string>

#include "ocirt/error.hpp"
#include "ocirt/spec.hpp"
#include "src/spec/json.hpp"

using ocirt::spec::load;

namespace {

std::string base(const std::string& process_extra = "", const std::string& linux_extra = "",
                 const std::string& namespaces = R"([{"type": "pid"}, {"type": "mount"}])") {
  return R"({"ociVersion": "1.2.0", "root": {"path": "rootfs"},
    "process": {"cwd": "/", "args": ["sh"])" + process_extra + R"(},
    "linux": {"namespaces": )" + namespaces + linux_extra + "}}";
}

std::string error_of(const std::string& json) {
  try {
    load(json);
  } catch (const ocirt::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the default spec parses and validates, rootless too") {
  auto cfg = load(ocirt::spec::default_spec(false));
  CHECK(cfg.process->args == std::vector<std::string>{"sh"});
  CHECK(cfg.root->readonly);
  CHECK(cfg.has_namespace("mount"));
  CHECK(cfg.mounts.size() == 7);
  CHECK(cfg.process->capabilities->bounding->size() == 3);
  auto rl = load(ocirt::spec::default_spec(true));
  CHECK(rl.has_namespace("user"));
  CHECK(!rl.has_namespace("network"));
  CHECK(rl.linux->uid_mappings.size() == 1);
  // runc's ToRootless: /sys bound from the host, no gid=/uid= options, the cgroup mount kept
  CHECK(rl.mounts.size() == 7);
  for (auto& m : rl.mounts) {
    if (m.destination == "/sys") CHECK((m.type == "none" && m.source == "/sys"));
    for (auto& o : m.options) CHECK((o.rfind("gid=", 0) != 0 && o.rfind("uid=", 0) != 0));
  }
  bool cgroup = false;
  for (auto& m : rl.mounts) cgroup |= m.destination == "/sys/fs/cgroup" && m.type == "cgroup";
  CHECK(cgroup);
  CHECK(!rl.linux->resources);
}

TEST_CASE("a minimal config parses into the model") {
  auto cfg = load(base(R"(, "env": ["A=1"], "user": {"uid": 7, "gid": 8, "additionalGids": [9]},
      "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 2}])",
                       R"(, "sysctl": {"kernel.shmmax": "1"},
      "resources": {"pids": {"limit": 10}, "memory": {"limit": 1048576}}, "maskedPaths": ["/proc/kcore"])",
                       R"([{"type": "ipc"}, {"type": "mount"}])"));
  CHECK(cfg.process->user.uid == 7);
  CHECK(cfg.process->user.additional_gids == std::vector<uint32_t>{9});
  CHECK(cfg.process->rlimits[0].hard == 2);
  CHECK(cfg.linux->resources->pids_limit == 10);
  CHECK(cfg.linux->resources->memory->limit == 1048576);
  CHECK(cfg.linux->sysctl.at("kernel.shmmax") == "1");
}

TEST_CASE("schema errors name the JSON path") {
  CHECK(error_of(R"({"ociVersion": 1})") == "ociVersion: must be of type string, not integer");
  CHECK(error_of(R"({})") == "ociVersion: required field is missing");
  CHECK(error_of(base(R"(, "terminal": "yes")")) == "process.terminal: must be of type boolean, not string");
  CHECK(error_of(base("", "", R"([{"type": "pid"}, {"type": "foo"}])"))
            .rfind(R"(linux.namespaces[1].type: "foo" is not one of)", 0) == 0);
  CHECK(error_of(base(R"(, "user": {"uid": -1})")) == "process.user.uid: -1 is out of range (minimum 0)");
  CHECK(error_of(base(R"(, "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1}])")) ==
        "process.rlimits[0].hard: required field is missing");
  CHECK(error_of("{").rfind("config.json: invalid JSON at offset", 0) == 0);
  // deeper than 1000 levels: refused before the schema validator (quadratic in the depth) sees it
  CHECK(error_of("{\"x\": " + std::string(1001, '[') + std::string(1001, ']') + "}") ==
        "config.json: nested deeper than 1000 levels (at offset 1005)");
  CHECK(error_of("{\"x\": \"" + std::string(2000, '[') + "\"}").find("nested") == std::string::npos);
}

// The schema is cut down to what the instance reaches before it is compiled (validate.cpp):
// a definition used at several places keeps the keys of all of them, an array's items the keys
// of every element, and what is absent everywhere is still required where the schema says so.
TEST_CASE("the schema cut for an instance still checks every field it has") {
  std::string hooks = R"({"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "hooks": {
      "prestart": [{"path": "/a", "args": ["a"]}],
      "poststart": [{"path": "/b"}, {"path": "/c", "timeout": "x"}]}})";
  CHECK(error_of(hooks) == "hooks.poststart[1].timeout: must be of type integer, not string");
  std::string mounts = R"({"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "mounts": [
      {"destination": "/a", "type": "tmpfs"}, {"destination": "/b", "options": "ro"}]})";
  CHECK(error_of(mounts) == "mounts[1].options: must be of type array, not string");
  CHECK(error_of(R"({"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "mounts": [{"type": "tmpfs"}]})") ==
        "mounts[0].destination: required field is missing");
  CHECK(error_of(base("", R"(, "resources": {"memory": {"limit": 1}, "cpu": {"shares": -1}})")) ==
        "linux.resources.cpu.shares: -1 is out of range (minimum 0)");
  CHECK(error_of(base("", R"(, "sysctl": {"a": 1})")) == "linux.sysctl.a: must be of type string, not integer");
  CHECK(error_of(base("", R"(, "resources": 5)")) == "linux.resources: must be of type object, not integer");
}

TEST_CASE("semantic errors name the JSON path") {
  CHECK(error_of(base("", "", R"([{"type": "pid"}, {"type": "pid"}])")) ==
        R"(linux.namespaces[1].type: duplicate namespace "pid")");
  CHECK(error_of(R"({"ociVersion": "1.2.0", "root": {"path": "r"}, "process": {"cwd": "x", "args": ["a"]}})") ==
        R"(process.cwd: "x" is not an absolute path)");
  CHECK(error_of(base(R"(, "env": ["NOEQUALS"])")) == R"(process.env[0]: "NOEQUALS" is not of the form KEY=value)");
  // an unknown capability is not a config error: it is left out with a warning at set-up (runc)
  CHECK(error_of(base(R"(, "capabilities": {"bounding": ["CAP_CHOWN", "CAP_BOGUS"]})")).empty());
  CHECK(error_of(base(R"(, "capabilities": {"bounding": ["CAP_CHOWN", ""]})")) ==
        R"(process.capabilities.bounding[1]: must not be empty)");
  // fail closed: an option we do not know on a bind mount is an error naming it
  CHECK(error_of(R"({"ociVersion": "1.2.0", "root": {"path": "r"}, "mounts": [{"destination": "/m", "type": "bind",
        "source": "/tmp", "options": ["rbind", "rro", "bogus"]}]})") == R"(mounts[0].options[2]: unknown mount option "bogus")");
  // KEY=VALUE is filesystem data, never a flag: a bind ignores it (create warns)
  CHECK(error_of(R"({"ociVersion": "1.2.0", "root": {"path": "r"}, "mounts": [{"destination": "/m", "type": "bind",
        "source": "/tmp", "options": ["bind", "mode=755", "size=1k"]}]})").empty());
  CHECK(error_of(R"({"ociVersion": "1.2.0", "root": {"path": "r"}, "mounts": [{"destination": "/m", "type": "tmpfs",
        "source": "tmpfs", "options": ["rro", "size=1m", "tmpcopyup"]}]})").empty());
  CHECK(error_of(base(R"(, "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 5, "hard": 2}])")) ==
        "process.rlimits[0]: soft limit is greater than the hard limit");
  CHECK(error_of(base("", R"(, "sysctl": {"vm.swappiness": "1"})")) ==
        "linux.sysctl.vm.swappiness: sysctl is not in a separate kernel namespace");
  CHECK(error_of(base("", R"(, "sysctl": {"net.ipv4.ip_forward": "1"})")) ==
        "linux.sysctl.net.ipv4.ip_forward: sysctl needs a new network namespace in linux.namespaces");
  CHECK(error_of(base("", R"(, "cgroupsPath": "/a/../b")")) == R"(linux.cgroupsPath: "/a/../b" must not contain "..")");
  CHECK(error_of(base("", "", R"([{"type": "user"}])")) ==
        "linux.uidMappings: a new user namespace needs uidMappings and gidMappings");
  CHECK(error_of(base("", R"(, "seccomp": {"defaultAction": "SCMP_ACT_BOGUS"})")) ==
        R"(linux.seccomp.defaultAction: unknown action "SCMP_ACT_BOGUS")");
  CHECK(error_of(base("", R"(, "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_BOGUS"}]}]})")) ==
        R"(linux.seccomp.syscalls[0].args[0].op: unknown operator "SCMP_CMP_BOGUS")");
  CHECK(error_of(base("", R"(, "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_BOGUS"]})")) ==
        R"(linux.seccomp.architectures[0]: unknown architecture "SCMP_ARCH_BOGUS")");
  CHECK(error_of(R"({"ociVersion": "1.2.0", "root": {"path": "r"}, "process": {"cwd": "/", "args": ["a"]}, "hostname": "h"})") ==
        "hostname: setting the hostname needs a uts namespace (linux.namespaces)");
}

TEST_CASE("process is optional at create") {
  auto cfg = load(R"({"ociVersion": "1.2.0", "root": {"path": "rootfs"}})");
  CHECK(!cfg.process);
}

TEST_CASE("json::num: a number its type cannot hold is absent, for every type (uint64 too)") {
  rapidjson::Document d;
  d.Parse(R"({"neg": -1, "frac": 1.5, "big": 1e30, "max": 18446744073709551615, "i": -7, "s": "1"})");
  for (const char* k : {"neg", "frac", "big", "s", "none"}) {
    CAPTURE(k);
    CHECK(!ocirt::json::num<uint64_t>(d, k));
  }
  CHECK(ocirt::json::num<uint64_t>(d, "max") == UINT64_MAX);
  CHECK(ocirt::json::num<int64_t>(d, "i") == -7);
  CHECK(!ocirt::json::num<int64_t>(d, "max"));
  CHECK(!ocirt::json::num<unsigned>(d, "neg"));
}
