// config.json (schema-validated DOM) -> typed model.
#include <cctype>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>


#include "ocirt/error.hpp"
#include "ocirt/spec.hpp"
#include "config.h"
#include "src/spec/json.hpp"
#include "src/linux/files.hpp"

namespace ocirt::spec {

void validate_schema(const rapidjson::Document& doc);  // validate.cpp

namespace {

using json::boolean;
using json::each;
using json::member;
using json::num;
using json::str;
using json::strings;
using json::Value;

std::vector<IdMapping> id_mappings(const Value& o, const char* name) {
  std::vector<IdMapping> out;
  each(o, name, [&](const Value& m) {
    out.push_back({*num<uint32_t>(m, "containerID"), *num<uint32_t>(m, "hostID"), *num<uint32_t>(m, "size")});
  });
  return out;
}

Process parse_process(const Value& p) {
  Process pr;
  pr.terminal = boolean(p, "terminal");
  if (const Value* cs = member(p, "consoleSize"))
    pr.console_size = ConsoleSize{num<unsigned>(*cs, "height").value_or(0), num<unsigned>(*cs, "width").value_or(0)};
  if (const Value* u = member(p, "user")) {
    pr.user.uid = num<uint32_t>(*u, "uid").value_or(0);
    pr.user.gid = num<uint32_t>(*u, "gid").value_or(0);
    pr.user.umask = num<uint32_t>(*u, "umask");
    each(*u, "additionalGids", [&](const Value& g) { pr.user.additional_gids.push_back(g.GetUint()); });
    pr.user.username = str(*u, "username");
  }
  pr.args = strings(p, "args");
  pr.command_line = str(p, "commandLine");
  pr.env = strings(p, "env");
  pr.cwd = str(p, "cwd");
  if (const Value* c = member(p, "capabilities")) {
    Capabilities caps;
    caps.bounding = json::opt_strings(*c, "bounding");
    caps.effective = json::opt_strings(*c, "effective");
    caps.inheritable = json::opt_strings(*c, "inheritable");
    caps.permitted = json::opt_strings(*c, "permitted");
    caps.ambient = json::opt_strings(*c, "ambient");
    pr.capabilities = std::move(caps);
  }
  each(p, "rlimits", [&](const Value& r) {
    pr.rlimits.push_back({str(r, "type"), num<uint64_t>(r, "hard").value_or(0), num<uint64_t>(r, "soft").value_or(0)});
  });
  pr.no_new_privileges = boolean(p, "noNewPrivileges");
  pr.apparmor_profile = str(p, "apparmorProfile");
  pr.oom_score_adj = num<int>(p, "oomScoreAdj");
  if (const Value* s = member(p, "scheduler")) {
    Scheduler sc;
    sc.policy = str(*s, "policy");
    sc.nice = num<int32_t>(*s, "nice");
    sc.priority = num<int32_t>(*s, "priority");
    sc.flags = strings(*s, "flags");
    sc.runtime = num<uint64_t>(*s, "runtime");
    sc.deadline = num<uint64_t>(*s, "deadline");
    sc.period = num<uint64_t>(*s, "period");
    pr.scheduler = std::move(sc);
  }
  pr.selinux_label = str(p, "selinuxLabel");
  if (const Value* io = member(p, "ioPriority"))
    pr.io_priority = IoPriority{str(*io, "class"), num<int>(*io, "priority").value_or(0)};
  if (const Value* a = member(p, "execCPUAffinity"))
    pr.exec_cpu_affinity = ExecCpuAffinity{str(*a, "initial"), str(*a, "final")};
  return pr;
}

std::vector<Hook> hooks(const Value& h, const char* name) {
  std::vector<Hook> out;
  each(h, name, [&](const Value& v) {
    out.push_back({str(v, "path"), strings(v, "args"), strings(v, "env"), num<int>(v, "timeout")});
  });
  return out;
}

std::vector<ThrottleDevice> throttle(const Value& b, const char* name) {
  std::vector<ThrottleDevice> out;
  each(b, name, [&](const Value& d) {
    out.push_back({*num<int64_t>(d, "major"), *num<int64_t>(d, "minor"), *num<uint64_t>(d, "rate")});
  });
  return out;
}

Resources parse_resources(const Value& r) {
  Resources res;
  each(r, "devices", [&](const Value& d) {
    res.devices.push_back({boolean(d, "allow"), str(d, "type"), str(d, "access"), num<int64_t>(d, "major"),
                           num<int64_t>(d, "minor")});
  });
  if (const Value* m = member(r, "memory")) {
    MemoryResources mem;
    mem.limit = num<int64_t>(*m, "limit");
    mem.reservation = num<int64_t>(*m, "reservation");
    mem.swap = num<int64_t>(*m, "swap");
    mem.kernel = num<int64_t>(*m, "kernel");
    mem.kernel_tcp = num<int64_t>(*m, "kernelTCP");
    mem.swappiness = num<uint64_t>(*m, "swappiness");
    if (member(*m, "disableOOMKiller")) mem.disable_oom_killer = boolean(*m, "disableOOMKiller");
    if (member(*m, "useHierarchy")) mem.use_hierarchy = boolean(*m, "useHierarchy");
    if (member(*m, "checkBeforeUpdate")) mem.check_before_update = boolean(*m, "checkBeforeUpdate");
    res.memory = mem;
  }
  if (const Value* c = member(r, "cpu")) {
    CpuResources cpu;
    cpu.shares = num<uint64_t>(*c, "shares");
    cpu.quota = num<int64_t>(*c, "quota");
    cpu.burst = num<uint64_t>(*c, "burst");
    cpu.period = num<uint64_t>(*c, "period");
    cpu.realtime_runtime = num<int64_t>(*c, "realtimeRuntime");
    cpu.realtime_period = num<uint64_t>(*c, "realtimePeriod");
    cpu.cpus = str(*c, "cpus");
    cpu.mems = str(*c, "mems");
    cpu.idle = num<int64_t>(*c, "idle");
    res.cpu = cpu;
  }
  if (const Value* p = member(r, "pids")) res.pids_limit = num<int64_t>(*p, "limit");
  if (const Value* b = member(r, "blockIO")) {
    BlockIo io;
    io.weight = num<uint16_t>(*b, "weight");
    io.leaf_weight = num<uint16_t>(*b, "leafWeight");
    each(*b, "weightDevice", [&](const Value& d) {
      io.weight_device.push_back({*num<int64_t>(d, "major"), *num<int64_t>(d, "minor"), num<uint16_t>(d, "weight"),
                                  num<uint16_t>(d, "leafWeight")});
    });
    io.throttle_read_bps = throttle(*b, "throttleReadBpsDevice");
    io.throttle_write_bps = throttle(*b, "throttleWriteBpsDevice");
    io.throttle_read_iops = throttle(*b, "throttleReadIOPSDevice");
    io.throttle_write_iops = throttle(*b, "throttleWriteIOPSDevice");
    res.block_io = std::move(io);
  }
  each(r, "hugepageLimits", [&](const Value& h) {
    res.hugepage_limits.push_back({str(h, "pageSize"), num<uint64_t>(h, "limit").value_or(0)});
  });
  if (const Value* n = member(r, "network")) {
    NetworkResources net;
    net.class_id = num<uint32_t>(*n, "classID");
    each(*n, "priorities", [&](const Value& p) { net.priorities.emplace_back(str(p, "name"), *num<uint32_t>(p, "priority")); });
    res.network = std::move(net);
  }
  if (const Value* rd = member(r, "rdma"))
    for (auto& m : rd->GetObject())
      res.rdma[m.name.GetString()] = RdmaLimit{num<uint32_t>(m.value, "hcaHandles"), num<uint32_t>(m.value, "hcaObjects")};
  res.unified = json::string_map(r, "unified");
  return res;
}

Seccomp parse_seccomp(const Value& s) {
  Seccomp sc;
  sc.default_action = str(s, "defaultAction");
  sc.default_errno_ret = num<uint32_t>(s, "defaultErrnoRet");
  sc.architectures = strings(s, "architectures");
  sc.flags = strings(s, "flags");
  sc.listener_path = str(s, "listenerPath");
  sc.listener_metadata = str(s, "listenerMetadata");
  each(s, "syscalls", [&](const Value& c) {
    SeccompSyscall call;
    call.names = strings(c, "names");
    call.action = str(c, "action");
    call.errno_ret = num<uint32_t>(c, "errnoRet");
    each(c, "args", [&](const Value& a) {
      call.args.push_back({num<unsigned>(a, "index").value_or(0), num<uint64_t>(a, "value").value_or(0),
                           num<uint64_t>(a, "valueTwo").value_or(0), str(a, "op")});
    });
    sc.syscalls.push_back(std::move(call));
  });
  return sc;
}

Linux parse_linux(const Value& l) {
  Linux lx;
  each(l, "namespaces", [&](const Value& n) { lx.namespaces.push_back({str(n, "type"), str(n, "path")}); });
  lx.uid_mappings = id_mappings(l, "uidMappings");
  lx.gid_mappings = id_mappings(l, "gidMappings");
  if (const Value* t = member(l, "timeOffsets"))
    for (auto& m : t->GetObject())
      lx.time_offsets[m.name.GetString()] = {num<int64_t>(m.value, "secs").value_or(0),
                                             num<uint32_t>(m.value, "nanosecs").value_or(0)};
  each(l, "devices", [&](const Value& d) {
    lx.devices.push_back({str(d, "path"), str(d, "type"), num<int64_t>(d, "major").value_or(0),
                          num<int64_t>(d, "minor").value_or(0), num<uint32_t>(d, "fileMode"), num<uint32_t>(d, "uid"),
                          num<uint32_t>(d, "gid")});
  });
  if (const Value* nd = member(l, "netDevices"))
    for (auto& m : nd->GetObject()) lx.net_devices[m.name.GetString()] = NetDevice{str(m.value, "name")};
  lx.cgroups_path = str(l, "cgroupsPath");
  if (const Value* r = member(l, "resources")) lx.resources = parse_resources(*r);
  lx.rootfs_propagation = str(l, "rootfsPropagation");
  if (const Value* s = member(l, "seccomp")) lx.seccomp = parse_seccomp(*s);
  lx.sysctl = json::string_map(l, "sysctl");
  lx.masked_paths = strings(l, "maskedPaths");
  lx.readonly_paths = strings(l, "readonlyPaths");
  lx.mount_label = str(l, "mountLabel");
  if (const Value* r = member(l, "intelRdt")) {
    IntelRdt rdt;
    rdt.clos_id = str(*r, "closID");
    rdt.l3_cache_schema = str(*r, "l3CacheSchema");
    rdt.mem_bw_schema = str(*r, "memBwSchema");
    rdt.schemata = strings(*r, "schemata");
    rdt.enable_cmt = boolean(*r, "enableCMT");
    rdt.enable_mbm = boolean(*r, "enableMBM");
    lx.intel_rdt = std::move(rdt);
  }
  if (const Value* m = member(l, "memoryPolicy"))
    lx.memory_policy = MemoryPolicy{str(*m, "mode"), str(*m, "nodes"), strings(*m, "flags")};
  if (const Value* p = member(l, "personality")) lx.personality = PersonalitySpec{str(*p, "domain"), strings(*p, "flags")};
  return lx;
}

}  // namespace

// Deeper nesting than this is refused before anything else reads the document: no config
// comes near it (runc's template: 6 levels), and each level costs the schema validator more
// than the one before (100,000 levels took 37 s). Linear: one pass, strings skipped.
constexpr size_t kMaxDepth = 1000;

void check_depth(const std::string& text, const char* what) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth)
        throw Error(std::string(what) + ": nested deeper than " + std::to_string(kMaxDepth) + " levels (at offset " +
                        std::to_string(i) + ")",
                    EINVAL);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

namespace {

rapidjson::Document parse_dom(const std::string& text, const char* what) {
  check_depth(text, what);
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  if (doc.HasParseError())
    throw Error(std::string(what) + ": invalid JSON at offset " + std::to_string(doc.GetErrorOffset()) + ": " +
                rapidjson::GetParseError_En(doc.GetParseError()));
  return doc;
}

// Every message of the schema and semantic checks begins with the JSON path of the field it is
// about ("linux.namespaces[2].type: unknown namespace \"foo\""): what leaves load() carries
// that path as its field and the kind Invalid, whatever errno the check chose (a field this
// build cannot honour, ENOTSUP, is still the config's to change).
[[noreturn]] void invalid_config(const Error& e) {
  const std::string m = e.what();
  const size_t colon = m.find(": ");
  bool path = colon != std::string::npos && colon > 0;
  for (size_t i = 0; path && i < colon; ++i) {
    const char c = m[i];
    path = isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '[' || c == ']' || c == '-';
  }
  if (path) throw Error(ErrorKind::Invalid, m.substr(0, colon), m.substr(colon + 2), e.err());
  throw Error(ErrorKind::Invalid, "", m, e.err());
}

Config parse_config(const std::string& text) {
  rapidjson::Document doc = parse_dom(text, "config.json");
  validate_schema(doc);  // the same DOM: one parse per config
  Config cfg;
  cfg.oci_version = str(doc, "ociVersion");
  if (const Value* r = member(doc, "root")) cfg.root = Root{str(*r, "path"), boolean(*r, "readonly")};
  each(doc, "mounts", [&](const Value& m) {
    cfg.mounts.push_back({str(m, "destination"), str(m, "type"), str(m, "source"), strings(m, "options"),
                          id_mappings(m, "uidMappings"), id_mappings(m, "gidMappings")});
  });
  if (const Value* p = member(doc, "process")) cfg.process = parse_process(*p);
  cfg.hostname = str(doc, "hostname");
  cfg.domainname = str(doc, "domainname");
  if (const Value* h = member(doc, "hooks")) {
    Hooks hk;
    hk.prestart = hooks(*h, "prestart");
    hk.create_runtime = hooks(*h, "createRuntime");
    hk.create_container = hooks(*h, "createContainer");
    hk.start_container = hooks(*h, "startContainer");
    hk.poststart = hooks(*h, "poststart");
    hk.poststop = hooks(*h, "poststop");
    cfg.hooks = std::move(hk);
  }
  cfg.annotations = json::string_map(doc, "annotations");
  if (const Value* l = member(doc, "linux")) cfg.linux = parse_linux(*l);
  validate_semantics(cfg);
  return cfg;
}

}  // namespace

Config load(const std::string& text) {
  try {
    return parse_config(text);
  } catch (const Error& e) {
    invalid_config(e);
  }
}

Config load_file(const std::string& path) {
  // plain read(2): no iostreams (and their locale set-up) on the create path
  return load(sys::read_file(path));
}

Process load_process(const std::string& text) {
  rapidjson::Document doc = parse_dom(text, "process.json");
  if (!doc.IsObject()) throw Error("process.json: not a JSON object");
  return parse_process(doc);
}

Resources load_resources(const std::string& text) try {
  rapidjson::Document doc = parse_dom(text, "resources");
  if (!doc.IsObject()) throw Error("resources: not a JSON object", EINVAL);
  // validated as the linux.resources of a config: errors carry that path
  rapidjson::Document wrap(rapidjson::kObjectType);
  auto& a = wrap.GetAllocator();
  rapidjson::Value linux_(rapidjson::kObjectType), res(doc, a);
  linux_.AddMember("resources", res, a);
  wrap.AddMember("ociVersion", OCIRT_SPEC_VERSION, a);
  wrap.AddMember("linux", linux_, a);
  validate_schema(wrap);
  return parse_resources(doc);
} catch (const Error& e) {
  invalid_config(e);
}

}  // namespace ocirt::spec
