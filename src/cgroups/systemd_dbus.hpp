// A client of systemd's manager over D-Bus (libdbus, linked statically), for the systemd cgroup
// driver: transient units started and stopped with their jobs awaited, properties set.
#pragma once

#include <string>
#include <vector>

#include "src/cgroups/systemd_props.hpp"

struct DBusConnection;

namespace ocirt::cgroups {

class SystemdBus {
 public:
  // As runc for root: systemd's private socket, else the system bus. Throws
  // Error(System, "systemd_cgroup", ...) when neither answers.
  SystemdBus();
  ~SystemdBus();
  SystemdBus(const SystemdBus&) = delete;
  SystemdBus& operator=(const SystemdBus&) = delete;
  // StartTransientUnit(name, "fail", properties) and its job's end (JobRemoved), at most
  // timeout_ms. A unit of that name: Error(Exists, "linux.cgroupsPath", ...); a failed job:
  // Error(Failed, ...) with systemd's result.
  void start_transient_unit(const std::string& name, const std::vector<Property>& props, int timeout_ms);
  // StopUnit(name, "replace") and its job's end; a unit that is not there is no error.
  void stop_unit(const std::string& name, int timeout_ms);
  // ResetFailedUnit: a failed unit would keep its name taken. Errors ignored.
  void reset_failed(const std::string& name);
  // SetUnitProperties(name, runtime=true, properties).
  void set_properties(const std::string& name, const std::vector<Property>& props);

 private:
  DBusConnection* c_ = nullptr;
  bool private_ = false;
  // The job's end: true when its result is "done"; `result` gets systemd's word.
  bool wait_job(const std::string& job, int timeout_ms, std::string& result);
};

}  // namespace ocirt::cgroups
