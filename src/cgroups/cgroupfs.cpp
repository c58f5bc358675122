// The cgroupfs driver: the runtime makes, configures and removes the container's cgroup dirs
// itself (include/ocirt/cgroups.hpp, Driver). The layouts' differences are the Manager's.
#include <cerrno>

#include <spdlog/spdlog.h>

#include "ocirt/cgroups.hpp"
#include "ocirt/error.hpp"

namespace ocirt::cgroups {
namespace {

class Cgroupfs final : public Driver {
 public:
  DriverKind kind() const override { return DriverKind::Cgroupfs; }
  Plan plan(const std::string& cgroups_path, const std::string& id) const override {
    return cgroups::plan(cgroups_path, id);
  }
  bool prepare(Plan& p, const std::function<void(const Plan&)>& record) const override {
    Manager::create(p, record);
    return true;
  }
  void place(const Plan& p, pid_t pid, bool cloned_into, const std::map<std::string, std::string>&,
             const spec::Resources&) const override {
    if (!cloned_into) Manager(p.leaves).add_process(pid);
  }
  std::vector<std::string> apply(const Plan& p, const spec::Resources& r, bool devices, bool update) const override {
    Manager m(p.leaves);
    m.set_rootless(p.rootless);
    if (!p.rootless) return m.apply(r, devices, update);
    // rootless (runc's rule): the device rules are tried, and what the kernel refuses is
    // ignored, as runc does (said at debug level): they are the host's to set for an
    // unprivileged user, and podman asks for them on every rootless container
    std::vector<std::string> warnings = m.apply(r, false, update);
    if (devices) {
      spec::Resources only_devices;
      only_devices.devices = r.devices;
      try {
        for (auto& w : m.apply(only_devices, true, update)) warnings.push_back(w);
      } catch (const Error& e) {
        spdlog::debug("rootless: device rules not set: {}", e.what());
      }
    }
    return warnings;
  }
  void destroy(const Plan& p, bool kill_processes) const override {
    Manager::destroy(p.leaves, p.to_create, kill_processes);
  }
};

}  // namespace

const char* driver_name(DriverKind k) { return k == DriverKind::Systemd ? "systemd" : "cgroupfs"; }

const Driver& cgroupfs_driver() {
  static const Cgroupfs d;
  return d;
}

}  // namespace ocirt::cgroups
