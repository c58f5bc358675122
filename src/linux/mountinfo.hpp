// /proc/self/mountinfo as the runtime reads it (rootfs.cpp); pure functions over its text, so
// that tests/fuzz/mountinfo.cpp can feed them anything.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocirt::linux_ {

// A mountinfo field with its octal escapes (\040 for a space) undone.
std::string unescape_mountinfo(std::string_view v);
// The mount point (fifth field, unescaped) of the line of mount id mnt_id; nullopt without one.
std::optional<std::string> mountinfo_mount_point(const std::string& info, uint64_t mnt_id);
// --no-pivot: the mount points of the full (root "/") proc and sysfs mounts outside rootfs.
std::vector<std::string> mountinfo_pseudo_fs(const std::string& info, const std::string& rootfs);

}  // namespace ocirt::linux_
