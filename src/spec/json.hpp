// Small helpers for reading an already schema-validated RapidJSON DOM.
#pragma once

#include <rapidjson/document.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ocirt::spec {
// Refuses (ocirt::Error naming `what` and the offset) a JSON text nested deeper than 1,000
// levels, before any parser reads it: one linear pass. Every JSON the runtime reads goes through
// it (config.json, process.json, resources, state.json): RapidJSON's reader recurses per level,
// and so do the schema validator and a Value's destructor.
void check_depth(const std::string& text, const char* what);
}  // namespace ocirt::spec

namespace ocirt::json {

using Value = rapidjson::Value;

inline const Value* member(const Value& o, const char* name) {
  if (!o.IsObject()) return nullptr;
  auto it = o.FindMember(name);
  return it == o.MemberEnd() || it->value.IsNull() ? nullptr : &it->value;
}

inline std::string str(const Value& o, const char* name) {
  const Value* v = member(o, name);
  return v && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : std::string();
}

inline bool boolean(const Value& o, const char* name, bool dflt = false) {
  const Value* v = member(o, name);
  return v && v->IsBool() ? v->GetBool() : dflt;
}

template <typename T>
std::optional<T> num(const Value& o, const char* name) {
  const Value* v = member(o, name);
  if (!v || !v->IsNumber()) return std::nullopt;
  // a number the type cannot hold at all (1.5, 1e30, -1 for an unsigned, 2^63 for a signed)
  // is no value: RapidJSON's GetInt64/GetUint64 on it assert, or read another type's bits
  if constexpr (std::is_signed_v<T>) return v->IsInt64() ? std::optional<T>(static_cast<T>(v->GetInt64())) : std::nullopt;
  else return v->IsUint64() ? std::optional<T>(static_cast<T>(v->GetUint64())) : std::nullopt;
}

inline std::vector<std::string> strings(const Value& o, const char* name) {
  std::vector<std::string> out;
  if (const Value* v = member(o, name); v && v->IsArray())
    for (auto& e : v->GetArray())
      if (e.IsString()) out.emplace_back(e.GetString(), e.GetStringLength());
  return out;
}

inline std::optional<std::vector<std::string>> opt_strings(const Value& o, const char* name) {
  if (!member(o, name)) return std::nullopt;
  return strings(o, name);
}

inline std::map<std::string, std::string> string_map(const Value& o, const char* name) {
  std::map<std::string, std::string> out;
  if (const Value* v = member(o, name); v && v->IsObject())
    for (auto& m : v->GetObject())
      if (m.value.IsString()) out.emplace(m.name.GetString(), m.value.GetString());
  return out;
}

// Calls f(element) for each element of array member `name`.
template <typename F>
void each(const Value& o, const char* name, F&& f) {
  if (const Value* v = member(o, name); v && v->IsArray())
    for (auto& e : v->GetArray()) f(e);
}

}  // namespace ocirt::json
