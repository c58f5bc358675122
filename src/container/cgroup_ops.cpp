// pause, resume, ps, update, events: the operations on a live container's cgroup.
#include <poll.h>
#include <time.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "ocirt/cgroups.hpp"
#include "ocirt/container.hpp"
#include "ocirt/error.hpp"
#include "src/container/internal.hpp"

namespace ocirt {

void pause(const std::string& root, const std::string& id) {
  container::Live l = container::open_live(root, id, true);
  if (l.status != state::Status::Running && l.status != state::Status::Created)
    throw Error(ErrorKind::State, "", "container not running", EINVAL);
  container::manager_of(l).freeze(true);
}

void resume(const std::string& root, const std::string& id) {
  container::Live l = container::open_live(root, id, true);
  if (l.status != state::Status::Paused) throw Error(ErrorKind::State, "", "container not paused", EINVAL);
  container::manager_of(l).freeze(false);
}

std::vector<pid_t> pids(const std::string& root, const std::string& id) {
  container::Live l = container::open_live(root, id, false);
  if (l.status == state::Status::Stopped) return {};
  return container::manager_of(l).pids();
}

std::vector<std::string> update(const std::string& root, const std::string& id, const spec::Resources& r) {
  container::Live l = container::open_live(root, id, true);
  if (l.status == state::Status::Stopped)
    throw Error(ErrorKind::State, "", "container " + id + " is stopped: nothing to update", EINVAL);
  container::manager_of(l);  // (a container without a cgroup on this host: refused by name)
  return container::driver_of(l.rec).apply(container::plan_of(l.rec), r, !r.devices.empty(), true);
}

static std::string event_json(const char* type, const std::string& id, const std::string* data) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("type");
  w.String(type);
  w.Key("id");
  w.String(id.c_str(), id.size());
  if (data) {
    w.Key("data");
    w.RawValue(data->c_str(), data->size(), rapidjson::kObjectType);
  }
  w.EndObject();
  return sb.GetString();
}

std::string stats_event(const std::string& root, const std::string& id) {
  container::Live l = container::open_live(root, id, false);
  if (l.status == state::Status::Stopped) throw Error(ErrorKind::State, "", "container " + id + " is not running", EINVAL);
  std::string data = container::manager_of(l).stats_json();
  return event_json("stats", id, &data);
}

void events(const std::string& root, const std::string& id, int interval_ms,
            const std::function<void(const std::string&)>& emit) {
  container::Live l = container::open_live(root, id, false);
  if (l.status == state::Status::Stopped) throw Error(ErrorKind::State, "", "container " + id + " is not running", EINVAL);
  Fd init = container::live_pidfd(l.rec);
  if (!init) throw Error(ErrorKind::State, "", "container " + id + " is not running", EINVAL);
  cgroups::Manager m = container::manager_of(l);
  int oom = m.oom_fd();
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (;;) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long wait = (next.tv_sec - now.tv_sec) * 1000LL + (next.tv_nsec - now.tv_nsec) / 1000000;
    if (wait <= 0) {
      std::string data = m.stats_json();
      emit(event_json("stats", id, &data));
      next.tv_sec += interval_ms / 1000;
      next.tv_nsec += (interval_ms % 1000) * 1000000L;
      if (next.tv_nsec >= 1000000000L) {
        next.tv_sec++;
        next.tv_nsec -= 1000000000L;
      }
      continue;
    }
    struct pollfd p[2] = {{init.get(), POLLIN, 0}, {oom, POLLIN, 0}};
    int n = ::poll(p, oom >= 0 ? 2 : 1, static_cast<int>(wait));
    if (n < 0 && errno != EINTR) throw_errno("events: poll");
    if (n > 0 && oom >= 0 && (p[1].revents & POLLIN) && m.oom_happened()) emit(event_json("oom", id, nullptr));
    if (n > 0 && p[0].revents) {
      // the init is gone: report a last OOM if that is what killed it, then stop
      if (oom >= 0 && m.oom_happened()) emit(event_json("oom", id, nullptr));
      return;
    }
  }
}

}  // namespace ocirt
