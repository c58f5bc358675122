// The systemd driver's cgroupsPath and slice naming (see systemd_path.hpp).
#include "src/cgroups/systemd_path.hpp"

#include <cerrno>

#include "ocirt/error.hpp"

namespace ocirt::cgroups {
namespace {

constexpr char kField[] = "linux.cgroupsPath";
constexpr char kSuffix[] = ".slice";

bool ends_with(const std::string& s, const char* tail) {
  const std::string t(tail);
  return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

[[noreturn]] void bad(const std::string& what) { throw Error(ErrorKind::Invalid, kField, what, EINVAL); }

// systemd's unit name characters: [A-Za-z0-9:_.\-]; no "/" (a path is not a unit)
bool unit_chars(const std::string& s) {
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '_' ||
                    c == '.' || c == '-' || c == '\\' || c == '@';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool SystemdPath::is_slice() const { return ends_with(unit, kSuffix); }

std::string expand_slice(const std::string& slice) {
  if (!ends_with(slice, kSuffix) || slice.size() == sizeof kSuffix - 1)
    bad("\"" + slice + "\" is not a slice (a name ending in .slice)");
  if (slice == "-.slice") return "";
  const std::string name = slice.substr(0, slice.size() - (sizeof kSuffix - 1));
  if (name.find('/') != std::string::npos || !unit_chars(name)) bad("\"" + slice + "\" is not a valid slice name");
  std::string path, prefix;
  for (size_t at = 0;;) {
    const size_t dash = name.find('-', at);
    const std::string part = name.substr(at, dash == std::string::npos ? std::string::npos : dash - at);
    // "a--b.slice", "-a.slice", "a-.slice": systemd refuses them (an empty component)
    if (part.empty()) bad("\"" + slice + "\" is not a valid slice name (empty component)");
    prefix += (prefix.empty() ? "" : "-") + part;
    path += "/" + prefix + kSuffix;
    if (dash == std::string::npos) break;
    at = dash + 1;
  }
  return path;
}

SystemdPath systemd_path(const std::string& cgroups_path, const std::string& id) {
  std::string slice, prefix, name;
  if (cgroups_path.empty()) {
    prefix = "oci-rt";
    name = id;
  } else {
    const size_t c1 = cgroups_path.find(':');
    const size_t c2 = c1 == std::string::npos ? c1 : cgroups_path.find(':', c1 + 1);
    if (c2 == std::string::npos || cgroups_path.find(':', c2 + 1) != std::string::npos)
      bad("\"" + cgroups_path + "\": with the systemd driver it is slice:prefix:name");
    slice = cgroups_path.substr(0, c1);
    prefix = cgroups_path.substr(c1 + 1, c2 - c1 - 1);
    name = cgroups_path.substr(c2 + 1);
  }
  if (name.empty()) bad("\"" + cgroups_path + "\": the name (after the second colon) is empty");
  if (!unit_chars(prefix) || !unit_chars(name) || name.find('/') != std::string::npos)
    bad("\"" + cgroups_path + "\": a prefix or name systemd would refuse in a unit name");
  SystemdPath p;
  p.slice = slice.empty() ? "system.slice" : slice;
  if (ends_with(name, kSuffix)) p.unit = name;  // the container gets a slice of its own
  else p.unit = (prefix.empty() ? "" : prefix + "-") + name + ".scope";
  p.dir = expand_slice(p.slice);
  if (p.is_slice()) {
    // a slice below a slice: its name carries its parent's ("a.slice" + "x.slice" is "a-x.slice")
    const std::string expanded = expand_slice(p.unit);
    const std::string parent = p.dir;
    if (expanded.compare(0, parent.size(), parent) != 0)
      bad("\"" + cgroups_path + "\": the slice " + p.unit + " is not below " + p.slice);
    p.dir = expanded;
  } else {
    p.dir += "/" + p.unit;
  }
  return p;
}

}  // namespace ocirt::cgroups
