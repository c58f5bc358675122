// The systemd driver (include/ocirt/cgroups.hpp, Driver): the container's cgroup is a transient
// unit, a scope holding the init (or a slice), that systemd makes once the init exists and
// removes when it is stopped; its resources are unit properties (runc's conversions) and then
// the cgroup files, which stay authoritative (runc's order). On v1 and hybrid hosts the unit is
// in the hierarchies systemd manages and the container joins the others by path, as runc's
// legacy systemd manager does; those dirs are ours to make and remove.
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>

#include "ocirt/cgroups.hpp"
#include "ocirt/error.hpp"
#include "src/cgroups/internal.hpp"
#include "src/cgroups/systemd_dbus.hpp"
#include "src/cgroups/systemd_path.hpp"
#include "src/cgroups/systemd_props.hpp"

namespace ocirt::cgroups {
namespace {

constexpr int kJobTimeoutMs = 30000;  // runc waits as long for a unit's job

bool is_v2_host() { return System::get().layout == Layout::V2; }

class Systemd final : public Driver {
 public:
  DriverKind kind() const override { return DriverKind::Systemd; }

  Plan plan(const std::string& cgroups_path, const std::string& id) const override {
    const SystemdPath sp = systemd_path(cgroups_path, id);
    Plan p;
    p.unit = sp.unit;
    p.slice = sp.slice;
    p.path = sp.dir.empty() ? "/" : sp.dir;
    for (const Hierarchy& h : System::get().hierarchies) {
      const std::string leaf = h.mount + sp.dir;
      p.leaves.push_back(leaf);
      // systemd makes the unit's cgroup where it manages the hierarchy (v2, name=systemd and
      // the controllers it delegates; a dir it made is gone when the unit stops: our rmdir then
      // finds nothing); in the others every level not there yet is ours
      if (h.v2 || h.controllers == "name=systemd") continue;
      for (size_t i = h.mount.size() + 1; i <= leaf.size(); ++i)
        if ((i == leaf.size() || leaf[i] == '/') && !detail::exists(leaf.substr(0, i))) p.to_create.push_back(leaf.substr(0, i));
    }
    return p;
  }

  bool prepare(Plan&, const std::function<void(const Plan&)>&) const override { return false; }  // a unit needs its first process

  void place(const Plan& p, pid_t pid, bool, const std::map<std::string, std::string>& annotations,
             const spec::Resources& r) const override {
    const bool v2 = is_v2_host();
    std::vector<Property> props = {
        {"Description", std::string("oci-rt container ") + p.unit},
        {"PIDs", std::vector<uint32_t>{static_cast<uint32_t>(pid)}},
        {"DefaultDependencies", false},
        {"MemoryAccounting", true},
        {"CPUAccounting", true},
        {v2 ? "IOAccounting" : "BlockIOAccounting", true},
        {"TasksAccounting", true},
    };
    if (p.unit.size() > 6 && p.unit.compare(p.unit.size() - 6, 6, ".slice") == 0) {
      props.push_back({"Wants", std::vector<std::string>{p.slice}});
    } else {
      props.push_back({"Slice", p.slice});
      props.push_back({"Delegate", true});
    }
    for (auto& x : resource_properties(r, v2)) props.push_back(std::move(x));
    for (auto& x : device_properties(r.devices, detail::get("/proc", "devices"))) props.push_back(std::move(x));
    for (auto& x : annotation_properties(annotations)) props.push_back(std::move(x));  // last: they win
    SystemdBus bus;
    bus.start_transient_unit(p.unit, props, kJobTimeoutMs);
    // the hierarchies systemd does not manage: made here and joined by path
    Plan ours;
    for (const std::string& leaf : p.leaves) {
      const Hierarchy* h = nullptr;
      for (const Hierarchy& x : System::get().hierarchies)
        if (leaf.compare(0, x.mount.size() + 1, x.mount + "/") == 0) h = &x;
      if (h && !h->v2) ours.leaves.push_back(leaf);
    }
    ours.to_create = p.to_create;
    Manager::create(ours);
    Manager(p.leaves).add_process(pid);
  }

  std::vector<std::string> apply(const Plan& p, const spec::Resources& r, bool devices, bool update) const override {
    if (update) SystemdBus().set_properties(p.unit, resource_properties(r, is_v2_host()));
    return Manager(p.leaves).apply(r, devices, update);  // the files stay authoritative (runc)
  }

  void destroy(const Plan& p, bool kill_processes) const override {
    if (kill_processes) Manager(p.leaves).signal_all(SIGKILL);  // a scope stops at once when empty
    if (!p.unit.empty()) {
      SystemdBus bus;
      bus.stop_unit(p.unit, kJobTimeoutMs);
      bus.reset_failed(p.unit);  // a failed unit would keep the name taken
    }
    Manager::destroy(p.leaves, p.to_create, kill_processes);
  }
};

}  // namespace

const Driver& systemd_driver() {
  struct stat st;
  if (::stat("/run/systemd/system", &st) < 0)
    throw Error(ErrorKind::Invalid, "systemd_cgroup", "systemd is not running on this host (no /run/systemd/system)", ENOTSUP);
  static const Systemd d;
  return d;
}

const Driver& driver(DriverKind k) { return k == DriverKind::Systemd ? systemd_driver() : cgroupfs_driver(); }

}  // namespace ocirt::cgroups
