// Process attributes beyond identity: personality, I/O priority, scheduler, CPU affinity,
// NUMA memory policy, and the LSM labels (AppArmor, SELinux).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ocirt/spec.hpp"

namespace ocirt::linux_ {

// Semantic checks with JSON paths (called by the config validator).
void validate_attributes(const spec::Config& c);

// In the init, while it still has its capabilities.
void apply_personality(const spec::Linux& l);
void apply_io_priority(const spec::Process& p);
void apply_scheduler(const spec::Process& p);
void apply_memory_policy(const spec::Linux& l);
// execCPUAffinity: `initial` right after the init starts, `final` just before exec.
void apply_cpu_affinity(const std::string& list, const char* field);

// LSMs. Whether the host has them is decided by the runtime, on the host, before clone (the
// container's /sys is the image's to fake); only what the config asks for is looked up.
struct Lsm {
  bool apparmor = false, selinux = false;
};
Lsm host_lsm(const spec::Process& p, const std::string& mount_label = "");
bool selinux_enabled();  // selinuxfs mounted at /sys/fs/selinux (by filesystem type)
// Applied when the host has them enabled, else skipped with a debug note (as runc). The
// labels are written through `procfs` (a verified procfs root, see sys::open_procfs).
void apply_lsm(const spec::Process& p, const Lsm& host, const std::function<int()>& procfs,
               std::vector<std::string>& notes);

}  // namespace ocirt::linux_
