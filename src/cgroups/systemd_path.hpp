// The systemd driver's linux.cgroupsPath, as runc reads it: "slice:prefix:name". Pure: no
// system call (unit-tested without root or systemd).
#pragma once

#include <string>

namespace ocirt::cgroups {

struct SystemdPath {
  std::string slice;  // the parent slice unit ("system.slice", "-.slice" for the root)
  std::string unit;   // the container's unit: "<prefix>-<name>.scope", or "<name>" ending in .slice
  std::string dir;    // its cgroup below a hierarchy's root: "/system.slice/oci-rt-x.scope"
  bool is_slice() const;
};

// cgroups_path "" gives "system.slice:oci-rt:<id>" (runc: ":runc:<id>" in system.slice). An
// empty slice is system.slice; "a-b.slice" is nested as a.slice/a-b.slice; a name ending in
// ".slice" makes a slice instead of a scope. Throws Error(Invalid, "linux.cgroupsPath", ...)
// for anything not in that form.
SystemdPath systemd_path(const std::string& cgroups_path, const std::string& id);

// runc's ExpandSlice: "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice", "-.slice" -> "".
// Throws (field linux.cgroupsPath) for a name systemd would refuse.
std::string expand_slice(const std::string& slice);

}  // namespace ocirt::cgroups
