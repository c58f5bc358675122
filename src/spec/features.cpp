// `oci-rt features` (runtime-spec features.md): what this build supports, derived from the
// same tables the runtime uses where possible.
#include <cap-ng.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <seccomp.h>

#include <cerrno>

#include "config.h"
#include "ocirt/spec.hpp"
#include "src/spec/mount_options.hpp"

namespace ocirt::spec {

std::string features_json() {
  rapidjson::StringBuffer sb;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
  w.SetIndent(' ', 4);
  auto list = [&](const char* key, std::initializer_list<const char*> items) {
    w.Key(key);
    w.StartArray();
    for (const char* i : items) w.String(i);
    w.EndArray();
  };
  auto enabled = [&](const char* key, bool on) {
    w.Key(key);
    w.StartObject();
    w.Key("enabled");
    w.Bool(on);
    w.EndObject();
  };
  w.StartObject();
  w.Key("ociVersionMin");
  w.String("1.0.0");
  w.Key("ociVersionMax");
  w.String(OCIRT_SPEC_VERSION);
  list("hooks", {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"});
  w.Key("mountOptions");
  w.StartArray();
  for (auto& o : mount_option_names()) w.String(o.c_str());
  w.EndArray();
  w.Key("linux");
  w.StartObject();
  list("namespaces", {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"});
  w.Key("capabilities");
  w.StartArray();
  for (int c = 0; c <= CAP_LAST_CAP; ++c)
    if (const char* n = capng_capability_to_name(static_cast<unsigned>(c))) {
      std::string name = "CAP_" + std::string(n);
      for (auto& ch : name) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
      w.String(name.c_str());
    }
  w.EndArray();
  w.Key("cgroup");
  w.StartObject();
  w.Key("v1");
  w.Bool(true);
  w.Key("v2");
  w.Bool(true);
  w.Key("systemd");
  w.Bool(true);
  w.Key("systemdUser");
  w.Bool(false);
  w.Key("rdma");
  w.Bool(true);
  w.EndObject();
  w.Key("seccomp");
  w.StartObject();
  w.Key("enabled");
  w.Bool(true);
  list("actions", {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                   "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"});
  list("operators", {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
                     "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"});
  w.Key("archs");
  w.StartArray();
  static const std::pair<const char*, const char*> archs[] = {
      {"SCMP_ARCH_X86", "x86"},         {"SCMP_ARCH_X86_64", "x86_64"},     {"SCMP_ARCH_X32", "x32"},
      {"SCMP_ARCH_ARM", "arm"},         {"SCMP_ARCH_AARCH64", "aarch64"},   {"SCMP_ARCH_MIPS", "mips"},
      {"SCMP_ARCH_MIPS64", "mips64"},   {"SCMP_ARCH_MIPS64N32", "mips64n32"}, {"SCMP_ARCH_MIPSEL", "mipsel"},
      {"SCMP_ARCH_MIPSEL64", "mipsel64"}, {"SCMP_ARCH_MIPSEL64N32", "mipsel64n32"}, {"SCMP_ARCH_PPC", "ppc"},
      {"SCMP_ARCH_PPC64", "ppc64"},     {"SCMP_ARCH_PPC64LE", "ppc64le"},   {"SCMP_ARCH_RISCV64", "riscv64"},
      {"SCMP_ARCH_S390", "s390"},       {"SCMP_ARCH_S390X", "s390x"},       {"SCMP_ARCH_PARISC", "parisc"},
      {"SCMP_ARCH_PARISC64", "parisc64"},
  };
  // only what a filter built on this host accepts next to the native architecture
  scmp_filter_ctx probe = seccomp_init(SCMP_ACT_ALLOW);
  for (auto& [name, lib] : archs) {
    uint32_t a = seccomp_arch_resolve_name(lib);
    if (!a || !probe) continue;
    int r = seccomp_arch_add(probe, a);
    if (r == 0 || r == -EEXIST) w.String(name);
  }
  if (probe) seccomp_release(probe);
  w.EndArray();
  list("knownFlags", {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_LOG"});
  list("supportedFlags", {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_LOG"});
  w.EndObject();
  enabled("apparmor", true);  // applied when the host has AppArmor enabled
  enabled("selinux", true);   // likewise
  enabled("intelRdt", false);
  w.Key("mountExtensions");
  w.StartObject();
  enabled("idmap", true);
  w.EndObject();
  w.EndObject();
  w.Key("annotations");
  w.StartObject();
  const scmp_version* v = seccomp_version();
  std::string sv = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro);
  w.Key("io.github.seccomp.libseccomp.version");
  w.String(sv.c_str());
  w.Key("org.opencontainers.runc.checkpoint.enabled");
  w.String("true");  // checkpoint and restore through criu's RPC (criu itself is found at run time)
  w.Key("io.github.oci-rt.version");
  w.String(OCIRT_VERSION);
  w.Key("io.github.oci-rt.commit");
  w.String(OCIRT_COMMIT);
  w.EndObject();
  w.EndObject();
  return std::string(sb.GetString()) + "\n";
}

}  // namespace ocirt::spec
