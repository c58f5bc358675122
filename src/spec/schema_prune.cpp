// The schema pruner (see schema_prune.hpp): prune_schema, and unprunable, the list of what it
// follows.
#include "src/spec/schema_prune.hpp"

#include <set>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ocirt::spec {
namespace {

// RapidJSON compiles every object of a schema document up front, and finds each one again by a
// linear search of the ones made so far: quadratic in the schema's size, and most of the cost
// of loading a config. So the schema is first cut down to what this instance can reach; the
// validator then sees exactly the subschemas it would have consulted anyway:
// - a "properties" entry is dropped when no instance object validated at that node has the key
//   (a key that is required stays checked: RapidJSON takes required names on their own);
// - a definition is dropped when nothing left refers to it.
// A node never reached with an object instance keeps all its properties (a type error there is
// reported as before).
// The walk follows only $ref ("#/definitions/NAME"), properties, additionalProperties and
// items (one schema): a subschema reached any other way (oneOf, patternProperties, ...) would
// be validated against properties cut for other instance objects. unprunable() refuses such
// schemas (a unit test holds the embedded one to it); at run time, a $ref the walk cannot
// resolve makes prune_for give up, and the whole schema is used.
class Pruner {
 public:
  explicit Pruner(rapidjson::Document& schema) : schema_(schema) {
    auto d = schema.FindMember("definitions");
    if (d != schema.MemberEnd() && d->value.IsObject()) defs_ = &d->value;
  }

  bool prune_for(const rapidjson::Value& instance) {
    walk(schema_, instance, 0);
    if (!ok_) return false;
    cut(schema_);
    if (defs_) {
      std::set<std::string> used;
      for (auto& m : schema_.GetObject())
        if (&m.value != defs_) refs(m.value, used);
      for (auto it = defs_->MemberBegin(); it != defs_->MemberEnd();)
        if (used.count(std::string(it->name.GetString(), it->name.GetStringLength()))) ++it;
        else it = defs_->EraseMember(it);
    }
    return true;
  }

 private:
  const rapidjson::Value* resolve(const rapidjson::Value& ref) {
    static constexpr std::string_view kPrefix = "#/definitions/";
    std::string_view r(ref.GetString(), ref.GetStringLength());
    if (!defs_ || r.substr(0, kPrefix.size()) != kPrefix) return nullptr;
    auto d = defs_->FindMember(rapidjson::StringRef(r.data() + kPrefix.size(), r.size() - kPrefix.size()));
    return d == defs_->MemberEnd() ? nullptr : &d->value;
  }

  void walk(const rapidjson::Value& node, const rapidjson::Value& inst, int depth) {
    if (!node.IsObject() || !ok_) return;
    if (depth > 64) {
      ok_ = false;
      return;
    }
    auto ref = node.FindMember("$ref");
    if (ref != node.MemberEnd()) {
      const rapidjson::Value* d = ref->value.IsString() ? resolve(ref->value) : nullptr;
      if (!d) {
        ok_ = false;
        return;
      }
      walk(*d, inst, depth + 1);
    }
    if (inst.IsObject()) {
      auto& keys = seen_[&node];
      auto props = node.FindMember("properties");
      auto extra = node.FindMember("additionalProperties");
      for (auto& m : inst.GetObject()) {
        keys.insert(std::string(m.name.GetString(), m.name.GetStringLength()));
        if (props != node.MemberEnd() && props->value.IsObject()) {
          auto p = props->value.FindMember(m.name);
          if (p != props->value.MemberEnd()) {
            walk(p->value, m.value, depth + 1);
            continue;
          }
        }
        if (extra != node.MemberEnd()) walk(extra->value, m.value, depth + 1);
      }
    } else if (inst.IsArray()) {
      auto items = node.FindMember("items");
      if (items != node.MemberEnd())
        for (auto& e : inst.GetArray()) walk(items->value, e, depth + 1);
    }
  }

  // Children first: a node's "properties" are cut only after everything below them, so the
  // addresses recorded by walk() stay valid while they are still needed.
  void cut(rapidjson::Value& node) {
    if (node.IsArray()) {
      for (auto& e : node.GetArray()) cut(e);
      return;
    }
    if (!node.IsObject()) return;
    for (auto& m : node.GetObject()) cut(m.value);
    auto props = node.FindMember("properties");
    auto seen = seen_.find(&node);
    if (props == node.MemberEnd() || !props->value.IsObject() || seen == seen_.end()) return;
    for (auto it = props->value.MemberBegin(); it != props->value.MemberEnd();)
      if (seen->second.count(std::string(it->name.GetString(), it->name.GetStringLength()))) ++it;
      else it = props->value.EraseMember(it);
  }

  void refs(const rapidjson::Value& node, std::set<std::string>& used) {
    if (node.IsArray()) {
      for (auto& e : node.GetArray()) refs(e, used);
    } else if (node.IsObject()) {
      for (auto& m : node.GetObject()) {
        if (m.name == "$ref" && m.value.IsString()) {
          if (const rapidjson::Value* d = resolve(m.value)) {
            std::string name(m.value.GetString() + 14, m.value.GetStringLength() - 14);  // after "#/definitions/"
            if (used.insert(name).second) refs(*d, used);
          }
        } else {
          refs(m.value, used);
        }
      }
    }
  }

  rapidjson::Document& schema_;
  rapidjson::Value* defs_ = nullptr;
  std::unordered_map<const rapidjson::Value*, std::set<std::string>> seen_;
  bool ok_ = true;
};

constexpr std::string_view kDefs = "#/definitions/";

// Keywords that are about the instance itself (or say nothing): no subschema below them.
bool plain_keyword(std::string_view k) {
  static constexpr std::string_view kPlain[] = {
      "$comment", "$schema", "const", "default", "description", "enum", "examples", "exclusiveMaximum",
      "exclusiveMinimum", "format", "maxItems", "maxLength", "maxProperties", "maximum", "minItems", "minLength",
      "minProperties", "minimum", "multipleOf", "pattern", "required", "title", "type", "uniqueItems"};
  for (auto p : kPlain)
    if (k == p) return true;
  return false;
}

class Checker {
 public:
  explicit Checker(const rapidjson::Value& root) : root_(root) {
    if (root.IsObject()) {
      auto d = root.FindMember("definitions");
      if (d != root.MemberEnd() && d->value.IsObject()) defs_ = &d->value;
    }
  }

  std::string run() {
    node(root_, "(root)", true);
    if (!why_.empty() || !defs_) return why_;
    // $ref cycles: a definition that reaches itself through $refs
    for (auto& d : defs_->GetObject()) {
      std::vector<std::string> trail;
      if (cycle(std::string(d.name.GetString(), d.name.GetStringLength()), trail)) {
        std::string t;
        for (auto& n : trail) t += (t.empty() ? "" : " -> ") + n;
        return "definitions." + trail.front() + ": a $ref cycle (" + t + ")";
      }
    }
    return "";
  }

 private:
  void refuse(const std::string& where, const std::string& what) {
    if (why_.empty()) why_ = where + ": " + what;
  }

  const rapidjson::Value* target(const rapidjson::Value& ref) const {
    std::string_view r(ref.GetString(), ref.GetStringLength());
    if (!defs_ || r.substr(0, kDefs.size()) != kDefs) return nullptr;
    auto d = defs_->FindMember(rapidjson::StringRef(r.data() + kDefs.size(), r.size() - kDefs.size()));
    return d == defs_->MemberEnd() ? nullptr : &d->value;
  }

  void node(const rapidjson::Value& n, const std::string& at, bool root) {
    if (!why_.empty()) return;
    if (n.IsBool()) return;  // true / false: no keywords
    if (!n.IsObject()) return refuse(at, "not a schema");
    for (auto& m : n.GetObject()) {
      std::string_view k(m.name.GetString(), m.name.GetStringLength());
      std::string here = (root ? std::string() : at + ".") + std::string(k);
      if (k == "$ref") {
        if (!m.value.IsString() || !target(m.value))
          return refuse(here, "the pruner follows only \"#/definitions/NAME\" to an existing definition");
      } else if (k == "properties" || (k == "definitions" && root)) {
        if (!m.value.IsObject()) return refuse(here, "not an object");
        for (auto& p : m.value.GetObject()) node(p.value, here + "." + p.name.GetString(), false);
      } else if (k == "additionalProperties") {
        node(m.value, here, false);
      } else if (k == "items") {
        if (m.value.IsArray()) return refuse(here, "items as a list: the pruner follows one items schema only");
        node(m.value, here, false);
      } else if (!plain_keyword(k)) {
        return refuse(here, "the pruner cannot follow \"" + std::string(k) + "\"");
      }
      if (!why_.empty()) return;
    }
  }

  void refs_of(const rapidjson::Value& n, std::set<std::string>& out) const {
    if (n.IsArray()) {
      for (auto& e : n.GetArray()) refs_of(e, out);
    } else if (n.IsObject()) {
      for (auto& m : n.GetObject()) {
        if (m.name == "$ref" && m.value.IsString() && m.value.GetStringLength() > kDefs.size())
          out.insert(std::string(m.value.GetString() + kDefs.size(), m.value.GetStringLength() - kDefs.size()));
        else if (!(m.name == "enum" || m.name == "const" || m.name == "default" || m.name == "examples"))
          refs_of(m.value, out);
      }
    }
  }

  // Depth first over the $ref graph; `trail` is the path when a cycle is found.
  bool cycle(const std::string& name, std::vector<std::string>& trail) {
    if (state_[name] == 2) return false;
    if (state_[name] == 1) {
      trail.push_back(name);
      return true;
    }
    state_[name] = 1;
    trail.push_back(name);
    auto d = defs_->FindMember(rapidjson::StringRef(name.data(), name.size()));
    std::set<std::string> out;
    if (d != defs_->MemberEnd()) refs_of(d->value, out);
    for (auto& next : out)
      if (cycle(next, trail)) return true;
    trail.pop_back();
    state_[name] = 2;
    return false;
  }

  const rapidjson::Value& root_;
  const rapidjson::Value* defs_ = nullptr;
  std::string why_;
  std::unordered_map<std::string, int> state_;  // 1: on the current path, 2: done
};

}  // namespace

bool prune_schema(rapidjson::Document& schema, const rapidjson::Value& instance) {
  return Pruner(schema).prune_for(instance);
}

std::string unprunable(const rapidjson::Value& schema) { return Checker(schema).run(); }

}  // namespace ocirt::spec
