// Process attributes beyond identity: personality, I/O priority, scheduler, CPU affinity,
// NUMA memory policy, and the LSM labels (AppArmor, SELinux).
#pragma once

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

// LSMs: applied when the host has them enabled, else skipped with a debug note (runc does
// the same). Returns notes for the parent's log.
void apply_lsm(const spec::Process& p, std::vector<std::string>& notes);
bool apparmor_enabled();
bool selinux_enabled();

}  // namespace ocirt::linux_
