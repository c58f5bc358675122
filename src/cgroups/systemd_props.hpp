// The systemd driver's unit properties: linux.resources with runc's conversions, the
// org.systemd.property.* annotations, cpu/node lists as systemd's byte masks. Pure: no system
// call, no D-Bus (unit-tested without root or systemd).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ocirt/spec.hpp"

namespace ocirt::cgroups {

// A D-Bus value of the types unit properties use (signature in the comment).
using PropertyValue = std::variant<bool,                                           // b
                                   uint64_t,                                       // t
                                   int64_t,                                        // x
                                   uint32_t,                                       // u
                                   int32_t,                                        // i
                                   std::string,                                    // s
                                   std::vector<uint32_t>,                          // au
                                   std::vector<uint8_t>,                           // ay
                                   std::vector<std::string>,                       // as
                                   std::vector<std::pair<std::string, std::string>>  // a(ss)
                                   >;
struct Property {
  std::string name;
  PropertyValue value;
};

inline constexpr uint64_t kInfinity = UINT64_MAX;  // systemd's "infinity"

// The resources systemd has a property for, as runc sets them: v2 MemoryMax, MemoryLow,
// MemorySwapMax, CPUWeight, IOWeight and the unified keys systemd has properties for
// (MemoryMin/Low/High/Max, MemorySwapMax, TasksMax, CPUWeight, AllowedCPUs/MemoryNodes); v1
// MemoryLimit, CPUShares, BlockIOWeight; both
// CPUQuotaPerSecUSec (rounded up to 10 ms) and CPUQuotaPeriodUSec, AllowedCPUs,
// AllowedMemoryNodes, TasksMax. Errors name the field.
std::vector<Property> resource_properties(const spec::Resources& r, bool v2);

// runc's annotations: org.systemd.property.NAME=VALUE, VALUE in GVariant text ("uint64 5",
// "true", "'text'", "@t 5", a bare number is int32 ... as godbus reads it; the types above).
// Throws Error(Invalid, "annotations.org.systemd.property.NAME", ...) for what it cannot read.
std::vector<Property> annotation_properties(const std::map<std::string, std::string>& annotations);

// linux.resources.devices (with runc's default allows) as DevicePolicy and DeviceAllow, as runc
// makes them: deny-by-default rules become "strict" and one entry per allowed rule
// ("/dev/char/1:3", "char-pts" for a whole major by its /proc/devices name, "char-*"); an
// allow-by-default set is "auto" (its denials cannot be said to systemd; the cgroup's own
// device rules, written after, enforce them). proc_devices: the host's /proc/devices.
std::vector<Property> device_properties(const std::vector<spec::DeviceCgroup>& rules, const std::string& proc_devices);

// "0-2,7" -> systemd's AllowedCPUs byte mask (bit n of byte n/8). Throws naming `field`.
std::vector<uint8_t> cpu_mask(const std::string& list, const std::string& field);

}  // namespace ocirt::cgroups
