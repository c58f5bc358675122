// The systemd driver's cgroupsPath (slice:prefix:name) and slice expansion, as runc reads them.
#include <doctest/doctest.h>

#include <string>

#include "ocirt/error.hpp"
#include "src/cgroups/systemd_path.hpp"

using ocirt::cgroups::expand_slice;
using ocirt::cgroups::systemd_path;

TEST_CASE("systemd slices expand as systemd nests them") {
  CHECK(expand_slice("-.slice") == "");
  CHECK(expand_slice("system.slice") == "/system.slice");
  CHECK(expand_slice("a-b-c.slice") == "/a.slice/a-b.slice/a-b-c.slice");
  for (const char* bad : {"", ".slice", "system", "a--b.slice", "-a.slice", "a-.slice", "a/b.slice", "a b.slice"}) {
    INFO(bad);
    CHECK_THROWS_AS(expand_slice(bad), ocirt::Error);
  }
}

TEST_CASE("systemd cgroupsPath: slice:prefix:name, runc's defaults, errors naming the field") {
  auto p = systemd_path("system.slice:oci-rt:abc", "abc");
  CHECK(p.slice == "system.slice");
  CHECK(p.unit == "oci-rt-abc.scope");
  CHECK(p.dir == "/system.slice/oci-rt-abc.scope");
  CHECK(!p.is_slice());
  p = systemd_path("", "myid");  // runc: ":runc:<id>"; ours says oci-rt
  CHECK(p.unit == "oci-rt-myid.scope");
  CHECK(p.dir == "/system.slice/oci-rt-myid.scope");
  p = systemd_path(":docker:x", "x");  // empty slice: system.slice
  CHECK(p.dir == "/system.slice/docker-x.scope");
  p = systemd_path("kubepods-besteffort.slice:cri-containerd:x", "x");
  CHECK(p.dir == "/kubepods.slice/kubepods-besteffort.slice/cri-containerd-x.scope");
  p = systemd_path("-.slice::x", "x");  // the root slice, no prefix
  CHECK(p.unit == "x.scope");
  CHECK(p.dir == "/x.scope");
  p = systemd_path("machine.slice:oci-rt:machine-box.slice", "x");  // a slice of its own
  CHECK(p.is_slice());
  CHECK(p.unit == "machine-box.slice");
  CHECK(p.dir == "/machine.slice/machine-box.slice");
  for (const char* bad : {"/a/b", "a:b", "a:b:c:d", "system.slice:p:", "nosuffix:p:x", "system.slice:p:a/b",
                          "system.slice:p:other.slice"}) {
    INFO(bad);
    try {
      systemd_path(bad, "x");
      FAIL("accepted");
    } catch (const ocirt::Error& e) {
      CHECK(e.field() == "linux.cgroupsPath");
      CHECK(e.kind() == ocirt::ErrorKind::Invalid);
    }
  }
}

#include "src/cgroups/systemd_props.hpp"

namespace {
const ocirt::cgroups::PropertyValue* find(const std::vector<ocirt::cgroups::Property>& props, const char* name) {
  for (auto& p : props)
    if (p.name == name) return &p.value;
  return nullptr;
}
}  // namespace

TEST_CASE("systemd unit properties from linux.resources, with runc's conversions") {
  using namespace ocirt::cgroups;
  ocirt::spec::Resources r;
  r.memory.emplace();
  r.memory->limit = 64 << 20;
  r.memory->reservation = 32 << 20;
  r.memory->swap = 128 << 20;
  r.cpu.emplace();
  r.cpu->shares = 512;
  r.cpu->quota = 25000;  // 25 ms per 100 ms: 250 ms per second
  r.cpu->period = 100000;
  r.cpu->cpus = "0-2,7";
  r.cpu->mems = "0";
  r.pids_limit = 33;
  r.block_io.emplace();
  r.block_io->weight = 500;
  auto v2 = resource_properties(r, true);
  CHECK(std::get<uint64_t>(*find(v2, "MemoryMax")) == uint64_t(64) << 20);
  CHECK(std::get<uint64_t>(*find(v2, "MemoryLow")) == uint64_t(32) << 20);
  CHECK(std::get<uint64_t>(*find(v2, "MemorySwapMax")) == uint64_t(64) << 20);  // swap alone on v2
  CHECK(std::get<uint64_t>(*find(v2, "CPUWeight")) == 1 + (510 * 9999) / 262142);
  CHECK(std::get<uint64_t>(*find(v2, "CPUQuotaPerSecUSec")) == 250000);
  CHECK(std::get<uint64_t>(*find(v2, "CPUQuotaPeriodUSec")) == 100000);
  CHECK(std::get<std::vector<uint8_t>>(*find(v2, "AllowedCPUs")) == std::vector<uint8_t>{0x87});
  CHECK(std::get<std::vector<uint8_t>>(*find(v2, "AllowedMemoryNodes")) == std::vector<uint8_t>{0x01});
  CHECK(std::get<uint64_t>(*find(v2, "TasksMax")) == 33);
  CHECK(std::get<uint64_t>(*find(v2, "IOWeight")) == 1 + (490 * 9999) / 990);
  CHECK(!find(v2, "MemoryLimit"));
  auto v1 = resource_properties(r, false);
  CHECK(std::get<uint64_t>(*find(v1, "MemoryLimit")) == uint64_t(64) << 20);
  CHECK(std::get<uint64_t>(*find(v1, "CPUShares")) == 512);
  CHECK(std::get<uint64_t>(*find(v1, "BlockIOWeight")) == 500);
  CHECK(!find(v1, "MemoryMax"));
  // a quota that is not whole 10 ms per second is rounded up (systemd's resolution, runc)
  r.cpu->quota = 12345;
  CHECK(std::get<uint64_t>(*find(resource_properties(r, true), "CPUQuotaPerSecUSec")) == 130000);
  // no limit: infinity
  r.memory->limit = -1;
  r.memory->swap.reset();
  r.pids_limit = -1;
  auto inf = resource_properties(r, true);
  CHECK(std::get<uint64_t>(*find(inf, "MemoryMax")) == kInfinity);
  CHECK(std::get<uint64_t>(*find(inf, "TasksMax")) == kInfinity);
  // unified keys systemd has properties for (v2): they come last, so they win
  ocirt::spec::Resources u;
  u.unified = {{"memory.high", "50331648"}, {"memory.max", "max"}, {"pids.max", "12"}, {"cpuset.cpus", "1"}, {"memory.stat", "x"}};
  auto up = resource_properties(u, true);
  CHECK(std::get<uint64_t>(*find(up, "MemoryHigh")) == 50331648);
  CHECK(std::get<uint64_t>(*find(up, "MemoryMax")) == kInfinity);
  CHECK(std::get<uint64_t>(*find(up, "TasksMax")) == 12);
  CHECK(std::get<std::vector<uint8_t>>(*find(up, "AllowedCPUs")) == std::vector<uint8_t>{0x02});
  CHECK(up.size() == 4);
  CHECK(resource_properties(u, false).empty());  // v1: no unified
  u.unified = {{"memory.high", "lots"}};
  CHECK_THROWS_AS(resource_properties(u, true), ocirt::Error);
  CHECK_THROWS_AS(cpu_mask("3-1", "f"), ocirt::Error);
  CHECK_THROWS_AS(cpu_mask("a", "f"), ocirt::Error);
}

TEST_CASE("org.systemd.property.* annotations as GVariant text, as runc reads them") {
  using namespace ocirt::cgroups;
  auto props = annotation_properties({{"org.systemd.property.TimeoutStopUSec", "uint64 5000000"},
                                      {"org.systemd.property.CollectMode", "'inactive-or-failed'"},
                                      {"org.systemd.property.SendSIGKILL", "false"},
                                      {"org.systemd.property.Nice", "-5"},
                                      {"other.key", "ignored"}});
  REQUIRE(props.size() == 4);
  CHECK(std::get<std::string>(*find(props, "CollectMode")) == "inactive-or-failed");
  CHECK(std::get<int32_t>(*find(props, "Nice")) == -5);
  CHECK(std::get<bool>(*find(props, "SendSIGKILL")) == false);
  CHECK(std::get<uint64_t>(*find(props, "TimeoutStopUSec")) == 5000000);
  try {
    annotation_properties({{"org.systemd.property.X", "[1, 2]"}});
    FAIL("accepted");
  } catch (const ocirt::Error& e) {
    CHECK(e.field() == "annotations.org.systemd.property.X");
  }
}

TEST_CASE("device rules as DevicePolicy and DeviceAllow, as runc makes them") {
  using namespace ocirt::cgroups;
  const std::string proc_devices = "Character devices:\n  1 mem\n  5 /dev/tty\n136 pts\n\nBlock devices:\n  8 sd\n";
  // runc's defaults only: strict, every default allow named
  auto props = device_properties({}, proc_devices);
  REQUIRE(props.size() == 2);
  CHECK(std::get<std::string>(props[0].value) == "strict");
  auto allow = std::get<std::vector<std::pair<std::string, std::string>>>(props[1].value);
  auto has = [&](const char* path, const char* access) {
    for (auto& [p, a] : allow)
      if (p == path && a == access) return true;
    return false;
  };
  CHECK(has("char-*", "m"));
  CHECK(has("block-*", "m"));
  CHECK(has("/dev/char/1:3", "rwm"));   // /dev/null
  CHECK(has("/dev/char/5:2", "rwm"));   // /dev/ptmx
  CHECK(has("char-pts", "rwm"));        // 136:*, by its /proc/devices name
  CHECK(has("/dev/char/10:200", "rwm"));
  // a config allow of a whole block major, and one for a major no driver has (skipped)
  ocirt::spec::DeviceCgroup sd{true, "b", "r", 8, std::nullopt}, none{true, "c", "rw", 250, std::nullopt};
  allow = std::get<std::vector<std::pair<std::string, std::string>>>(device_properties({sd, none}, proc_devices)[1].value);
  CHECK(has("block-sd", "r"));
  for (auto& [p, a] : allow) CHECK(p.find("250") == std::string::npos);
  // allow everything: auto, no list
  ocirt::spec::DeviceCgroup all{true, "a", "rwm", std::nullopt, std::nullopt};
  props = device_properties({all}, proc_devices);
  CHECK(std::get<std::string>(props[0].value) == "auto");
  CHECK(std::get<std::vector<std::pair<std::string, std::string>>>(props[1].value).empty());
}
