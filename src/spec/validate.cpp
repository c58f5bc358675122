// Validation of config.json: first our JSON schema (schema/config-schema.json, embedded at
// build time), then the semantic rules a schema cannot express. Every message starts with
// the JSON path of the field, e.g. `linux.namespaces[2].type: must be one of ...`.
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <cap-ng.h>

#include <set>
#include <string_view>

#include "ocirt/error.hpp"
#include "src/spec/json.hpp"
#include "ocirt/spec.hpp"
#include "src/common/path.hpp"
#include "src/linux/attributes.hpp"
#include "src/linux/mount_plan.hpp"
#include "src/linux/seccomp.hpp"
#include "src/spec/schema_prune.hpp"
#include "src/spec/rlimits.hpp"

namespace ocirt::schemas {
extern const std::string_view config_schema;
}

namespace ocirt::spec {
namespace {

// "/linux/namespaces/2/type" -> "linux.namespaces[2].type"
template <class Pointer>
std::string json_path(const Pointer& p) {
  std::string out;
  for (size_t i = 0; i < p.GetTokenCount(); ++i) {
    const auto& t = p.GetTokens()[i];
    if (t.index != rapidjson::kPointerInvalidIndex) {
      out += "[" + std::to_string(t.index) + "]";
    } else {
      if (!out.empty()) out += ".";
      out.append(t.name, t.length);
    }
  }
  return out.empty() ? "(root)" : out;
}

std::string dump(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return sb.GetString();
}

const char* type_name(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return "boolean";
    case rapidjson::kObjectType: return "object";
    case rapidjson::kArrayType: return "array";
    case rapidjson::kStringType: return "string";
    default: return v.IsInt64() || v.IsUint64() ? "integer" : "number";
  }
}

// Turn the validator's (schema pointer, keyword, document pointer) into a sentence.
template <class Pointer>
std::string describe(const rapidjson::Document& schema_doc, const rapidjson::Document& doc,
                     const rapidjson::Pointer& sptr, const std::string& keyword, const Pointer& dptr) {
  std::string path = json_path(dptr);
  const rapidjson::Value* sub = sptr.Get(schema_doc);
  const rapidjson::Value* val = dptr.Get(doc);
  const rapidjson::Value* kw = sub && sub->IsObject() && sub->HasMember(keyword.c_str()) ? &(*sub)[keyword.c_str()] : nullptr;
  if (keyword == "required" && kw && val && val->IsObject()) {
    for (auto& r : kw->GetArray())
      if (!val->HasMember(r.GetString()))
        return (path == "(root)" ? std::string() : path + ".") + r.GetString() + ": required field is missing";
  }
  if (keyword == "type" && kw && val)
    return path + ": must be of type " + (kw->IsString() ? kw->GetString() : dump(*kw)) + ", not " + type_name(*val);
  if (keyword == "enum" && kw && val) {
    std::string opts;
    for (auto& e : kw->GetArray()) opts += (opts.empty() ? "" : ", ") + dump(e);
    return path + ": " + dump(*val) + " is not one of " + opts;
  }
  if ((keyword == "minimum" || keyword == "maximum") && kw && val)
    return path + ": " + dump(*val) + " is out of range (" + keyword + " " + dump(*kw) + ")";
  if (keyword == "minLength") return path + ": must not be empty";
  if (keyword == "minItems") return path + ": must not be empty";
  return path + ": does not match the schema (" + keyword + ")";
}

bool absolute(const std::string& p) { return !p.empty() && p[0] == '/'; }

using path::has_dotdot;

// Capability names are not refused here: a name libcap-ng or the kernel does not know is left
// out with a warning when the process is set up (runc's rule; podman's lists can name
// capabilities newer than the host). Only an empty name is malformed.
void check_caps(const std::optional<std::vector<std::string>>& set, const std::string& path) {
  if (!set) return;
  for (size_t i = 0; i < set->size(); ++i)
    if ((*set)[i].empty()) throw Error(path + "[" + std::to_string(i) + "]: empty capability name", EINVAL);
}

// Which namespace a sysctl belongs to (runc's rules); empty if not namespaced.
std::string sysctl_namespace(const std::string& key) {
  static const std::set<std::string> ipc = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                            "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
  if (ipc.count(key) || key.rfind("fs.mqueue.", 0) == 0) return "ipc";
  if (key.rfind("net.", 0) == 0) return "network";
  if (key == "kernel.hostname" || key == "kernel.domainname") return "uts";
  return {};
}

}  // namespace

void validate_schema(const rapidjson::Document& doc);

void validate_schema(const std::string& text) {
  check_depth(text, "config.json");
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  if (doc.HasParseError())
    throw Error("config.json: invalid JSON at offset " + std::to_string(doc.GetErrorOffset()));
  validate_schema(doc);
}

void validate_schema(const rapidjson::Document& doc) {
  rapidjson::Document schema_doc;
  schema_doc.Parse(schemas::config_schema.data(), schemas::config_schema.size());
  if (schema_doc.HasParseError()) throw Error("internal: embedded config schema is not valid JSON");
  if (!prune_schema(schema_doc, doc)) {  // cannot happen with our schema; validate against all of it
    schema_doc.Parse(schemas::config_schema.data(), schemas::config_schema.size());
  }
  rapidjson::SchemaDocument schema(schema_doc);
  rapidjson::SchemaValidator v(schema);
  if (!doc.Accept(v)) {
    rapidjson::StringBuffer sb;
    v.GetInvalidSchemaPointer().StringifyUriFragment(sb);
    std::string frag = sb.GetString();  // "#/definitions/..."
    rapidjson::Pointer sptr(frag.size() > 1 ? frag.substr(1).c_str() : "");
    std::string kw = v.GetInvalidSchemaKeyword();
    throw Error(describe(schema_doc, doc, sptr, kw, v.GetInvalidDocumentPointer()), EINVAL);
  }
}

void validate_process(const Process& p) {
  if (p.args.empty()) throw Error("process.args: must contain at least the program to run", EINVAL);
  if (!absolute(p.cwd)) throw Error("process.cwd: \"" + p.cwd + "\" is not an absolute path", EINVAL);
  for (size_t i = 0; i < p.env.size(); ++i)
    if (p.env[i].find('=') == std::string::npos || p.env[i][0] == '=')
      throw Error("process.env[" + std::to_string(i) + "]: \"" + p.env[i] + "\" is not of the form KEY=value", EINVAL);
  std::set<std::string> seen;
  for (size_t i = 0; i < p.rlimits.size(); ++i) {
    std::string where = "process.rlimits[" + std::to_string(i) + "]";
    if (rlimit_resource(p.rlimits[i].type) < 0)
      throw Error(where + ".type: unknown rlimit \"" + p.rlimits[i].type + "\"", EINVAL);
    if (!seen.insert(p.rlimits[i].type).second)
      throw Error(where + ".type: duplicate rlimit \"" + p.rlimits[i].type + "\"", EINVAL);
    if (p.rlimits[i].soft > p.rlimits[i].hard)
      throw Error(where + ": soft limit is greater than the hard limit", EINVAL);
  }
  if (p.capabilities) {
    check_caps(p.capabilities->bounding, "process.capabilities.bounding");
    check_caps(p.capabilities->effective, "process.capabilities.effective");
    check_caps(p.capabilities->inheritable, "process.capabilities.inheritable");
    check_caps(p.capabilities->permitted, "process.capabilities.permitted");
    check_caps(p.capabilities->ambient, "process.capabilities.ambient");
  }
}

void validate_semantics(const Config& c) {
  if (c.oci_version.rfind("1.", 0) != 0)
    throw Error("ociVersion: \"" + c.oci_version + "\" is not a supported version (1.x)", EINVAL);
  if (!c.root) throw Error("root: required on Linux", EINVAL);
  // process is optional at create (required by start, which then refuses)
  if (c.process) validate_process(*c.process);
  // the mount rules live with the mount planner, which applies them again when it plans
  for (size_t i = 0; i < c.mounts.size(); ++i) linux_::check_mount(c, i);
  if (c.hooks) {
    auto check = [](const std::vector<Hook>& v, const char* name) {
      for (size_t i = 0; i < v.size(); ++i)
        if (!absolute(v[i].path))
          throw Error(std::string("hooks.") + name + "[" + std::to_string(i) + "].path: \"" + v[i].path +
                          "\" is not an absolute path",
                      EINVAL);
    };
    check(c.hooks->prestart, "prestart");
    check(c.hooks->create_runtime, "createRuntime");
    check(c.hooks->create_container, "createContainer");
    check(c.hooks->start_container, "startContainer");
    check(c.hooks->poststart, "poststart");
    check(c.hooks->poststop, "poststop");
  }
  linux_::validate_attributes(c);
  if (!c.linux) {
    if (!c.hostname.empty()) throw Error("hostname: setting the hostname needs a uts namespace (linux.namespaces)", EINVAL);
    return;
  }
  const Linux& l = *c.linux;
  std::set<std::string> seen;
  for (size_t i = 0; i < l.namespaces.size(); ++i) {
    const Namespace& n = l.namespaces[i];
    std::string where = "linux.namespaces[" + std::to_string(i) + "]";
    if (!seen.insert(n.type).second) throw Error(where + ".type: duplicate namespace \"" + n.type + "\"", EINVAL);
    if (!n.path.empty() && !absolute(n.path))
      throw Error(where + ".path: \"" + n.path + "\" is not an absolute path", EINVAL);
  }
  if (!c.hostname.empty() && !c.has_namespace("uts"))
    throw Error("hostname: setting the hostname needs a uts namespace in linux.namespaces", EINVAL);
  if (!c.domainname.empty() && !c.has_namespace("uts"))
    throw Error("domainname: setting the domainname needs a uts namespace in linux.namespaces", EINVAL);
  const Namespace* user = c.find_namespace("user");
  if (user && user->path.empty() && (l.uid_mappings.empty() || l.gid_mappings.empty()))
    throw Error("linux.uidMappings: a new user namespace needs uidMappings and gidMappings", EINVAL);
  if (!user && (!l.uid_mappings.empty() || !l.gid_mappings.empty()))
    throw Error("linux.uidMappings: id mappings need a user namespace in linux.namespaces", EINVAL);
  for (auto& [key, off] : l.time_offsets) {
    if (key != "monotonic" && key != "boottime")
      throw Error("linux.timeOffsets." + key + ": unknown clock (monotonic or boottime)", EINVAL);
    if (!c.has_namespace("time") || !c.find_namespace("time")->path.empty())
      throw Error("linux.timeOffsets: time offsets need a new time namespace in linux.namespaces", EINVAL);
    if (off.nanosecs >= 1000000000u) throw Error("linux.timeOffsets." + key + ".nanosecs: must be below 1e9", EINVAL);
  }
  for (size_t i = 0; i < l.devices.size(); ++i) {
    const Device& d = l.devices[i];
    std::string where = "linux.devices[" + std::to_string(i) + "]";
    if (!absolute(d.path) || has_dotdot(d.path))
      throw Error(where + ".path: \"" + d.path + "\" must be an absolute path without \"..\"", EINVAL);
  }
  if (has_dotdot(l.cgroups_path))
    throw Error("linux.cgroupsPath: \"" + l.cgroups_path + "\" must not contain \"..\"", EINVAL);
  for (auto& [key, value] : l.sysctl) {
    std::string where = "linux.sysctl." + key;
    if (key.empty() || key.find('/') != std::string::npos || has_dotdot(key) || key.find("..") != std::string::npos)
      throw Error(where + ": invalid sysctl name", EINVAL);
    std::string ns = sysctl_namespace(key);
    if (ns.empty()) throw Error(where + ": sysctl is not in a separate kernel namespace", EINVAL);
    const Namespace* n = c.find_namespace(ns);
    if (!n || !n->path.empty())
      throw Error(where + ": sysctl needs a new " + ns + " namespace in linux.namespaces", EINVAL);
  }
  for (size_t i = 0; i < l.masked_paths.size(); ++i)
    if (!absolute(l.masked_paths[i]))
      throw Error("linux.maskedPaths[" + std::to_string(i) + "]: not an absolute path", EINVAL);
  for (size_t i = 0; i < l.readonly_paths.size(); ++i)
    if (!absolute(l.readonly_paths[i]))
      throw Error("linux.readonlyPaths[" + std::to_string(i) + "]: not an absolute path", EINVAL);
  if (l.seccomp) linux_::validate_seccomp(*l.seccomp);
  if (!l.net_devices.empty()) throw Error("linux.netDevices: moving network devices is not supported yet", ENOTSUP);
}

bool Config::has_namespace(std::string_view type) const { return find_namespace(type) != nullptr; }

const Namespace* Config::find_namespace(std::string_view type) const {
  if (!linux) return nullptr;
  for (auto& n : linux->namespaces)
    if (n.type == type) return &n;
  return nullptr;
}

}  // namespace ocirt::spec
