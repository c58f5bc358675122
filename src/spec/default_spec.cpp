// The config written by `oci-rt spec`: the same template as `runc spec`, so bundles and
// habits carry over. `--rootless` adapts it as runc does.
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "config.h"
#include "ocirt/spec.hpp"

namespace ocirt::spec {

static const char kTemplate[] = R"({
  "ociVersion": ")" OCIRT_SPEC_VERSION R"(",
  "process": {
    "terminal": true,
    "user": {"uid": 0, "gid": 0},
    "args": ["sh"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "oci-rt",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
  ],
  "linux": {
    "resources": {"devices": [{"allow": false, "access": "rwm"}]},
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
    "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                    "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }
})";

std::string default_spec(bool rootless) {
  rapidjson::Document d;
  d.Parse(kTemplate);
  auto& a = d.GetAllocator();
  auto& linux = d["linux"];
  struct statfs sfs;
  if (statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC) {
    rapidjson::Value ns(rapidjson::kObjectType);
    ns.AddMember("type", "cgroup", a);
    linux["namespaces"].PushBack(ns, a);
  }
  if (rootless) {
    linux.RemoveMember("resources");
    auto& nss = linux["namespaces"];
    for (auto it = nss.Begin(); it != nss.End();)
      it = std::string_view((*it)["type"].GetString()) == "network" ? nss.Erase(it) : it + 1;
    rapidjson::Value user(rapidjson::kObjectType);
    user.AddMember("type", "user", a);
    nss.PushBack(user, a);
    for (const char* key : {"uidMappings", "gidMappings"}) {
      rapidjson::Value m(rapidjson::kObjectType);
      m.AddMember("containerID", 0, a);
      m.AddMember("hostID", key[0] == 'u' ? getuid() : getgid(), a);
      m.AddMember("size", 1, a);
      rapidjson::Value arr(rapidjson::kArrayType);
      arr.PushBack(m, a);
      linux.AddMember(rapidjson::StringRef(key), arr, a);
    }
    auto& mounts = d["mounts"];
    for (auto it = mounts.Begin(); it != mounts.End();) {
      std::string_view dest = (*it)["destination"].GetString();
      if (dest == "/sys") {
        (*it)["type"].SetString("none");
        (*it)["source"].SetString("/sys");
        auto& opts = (*it)["options"];
        opts.Clear();
        for (const char* o : {"rbind", "nosuid", "noexec", "nodev", "ro"}) opts.PushBack(rapidjson::StringRef(o), a);
      }
      if (dest == "/dev/pts") {
        auto& opts = (*it)["options"];
        for (auto o = opts.Begin(); o != opts.End();)
          o = std::string_view(o->GetString()) == "gid=5" ? opts.Erase(o) : o + 1;
      }
      ++it;
    }
  }
  rapidjson::StringBuffer sb;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
  w.SetIndent('\t', 1);
  d.Accept(w);
  return std::string(sb.GetString()) + "\n";
}

}  // namespace ocirt::spec
