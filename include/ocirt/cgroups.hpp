// Cgroup placement. The layout (v1, hybrid, v2) is detected from filesystem types, never
// from directory names. Full resource control lives behind this same interface (later).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "ocirt/spec.hpp"

namespace ocirt::cgroups {

enum class Layout { None, V1, Hybrid, V2 };

struct Hierarchy {
  std::string controllers;  // "cpu", "cpu,cpuacct", "name=systemd"; "" for the v2 hierarchy
  std::string mount;        // where the host has it mounted
  std::string own_path;     // this process's cgroup in it (from /proc/self/cgroup)
  bool v2 = false;
};

struct System {
  Layout layout = Layout::None;
  std::vector<Hierarchy> hierarchies;
  static const System& get();  // detected once per process
};

const char* layout_name(Layout l);

// What the container's cgroup will be: the leaf in every hierarchy and the directories that
// do not exist yet (parents first). Recorded in the state before anything is created.
struct Plan {
  std::vector<std::string> leaves;
  std::vector<std::string> to_create;
  std::string path;  // the cgroups path inside each hierarchy, e.g. "/myid"
};

Plan plan(const std::string& cgroups_path, const std::string& id);
void create(const Plan& p);
// Resources. For now: pids.limit (the rest of linux.resources is applied by the cgroups work
// that follows; until then it is logged at debug level, not silently claimed).
void apply(const Plan& p, const spec::Resources& r);
void add_process(const std::vector<std::string>& leaves, pid_t pid);
std::vector<pid_t> pids(const std::vector<std::string>& leaves);
// Kill everything left in the leaves, then remove the directories we created.
void destroy(const std::vector<std::string>& leaves, const std::vector<std::string>& created);

}  // namespace ocirt::cgroups
