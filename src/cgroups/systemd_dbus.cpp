// systemd's manager over D-Bus (see systemd_dbus.hpp): libdbus's low-level API, blocking calls.
#include "src/cgroups/systemd_dbus.hpp"

#include <dbus/dbus.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "ocirt/error.hpp"

// libdbus.a's server side can listen on sockets systemd passes ("systemd:" addresses) and
// refers to two libsystemd functions for that; Debian ships libsystemd only as a shared
// library. A client never takes that path: these stand in for them, saying "no sockets".
extern "C" int sd_listen_fds(int) { return 0; }
extern "C" int sd_is_socket(int, int, int, int) { return 0; }

namespace ocirt::cgroups {
namespace {

constexpr char kDest[] = "org.freedesktop.systemd1";
constexpr char kPath[] = "/org/freedesktop/systemd1";
constexpr char kManager[] = "org.freedesktop.systemd1.Manager";

struct Err {
  DBusError e;
  Err() { dbus_error_init(&e); }
  ~Err() { dbus_error_free(&e); }
  bool set() const { return dbus_error_is_set(&e); }
  std::string name() const { return e.name ? e.name : ""; }
  std::string text() const { return std::string(e.name ? e.name : "") + ": " + (e.message ? e.message : ""); }
};

struct Msg {
  DBusMessage* m;
  explicit Msg(DBusMessage* p) : m(p) {}
  ~Msg() {
    if (m) dbus_message_unref(m);
  }
  Msg(const Msg&) = delete;
  Msg& operator=(const Msg&) = delete;
};

[[noreturn]] void no_memory() { throw Error(ErrorKind::System, "systemd_cgroup", "D-Bus: out of memory", ENOMEM); }

const char* signature_of(const PropertyValue& v) {
  switch (v.index()) {
    case 0: return "b";
    case 1: return "t";
    case 2: return "x";
    case 3: return "u";
    case 4: return "i";
    case 5: return "s";
    case 6: return "au";
    case 7: return "ay";
    case 8: return "as";
    default: return "a(ss)";
  }
}

void append_value(DBusMessageIter* it, const PropertyValue& v) {
  bool ok = true;
  if (auto* b = std::get_if<bool>(&v)) {
    dbus_bool_t x = *b;
    ok = dbus_message_iter_append_basic(it, DBUS_TYPE_BOOLEAN, &x);
  } else if (auto* t = std::get_if<uint64_t>(&v)) {
    dbus_uint64_t x = *t;
    ok = dbus_message_iter_append_basic(it, DBUS_TYPE_UINT64, &x);
  } else if (auto* x64 = std::get_if<int64_t>(&v)) {
    dbus_int64_t x = *x64;
    ok = dbus_message_iter_append_basic(it, DBUS_TYPE_INT64, &x);
  } else if (auto* u = std::get_if<uint32_t>(&v)) {
    dbus_uint32_t x = *u;
    ok = dbus_message_iter_append_basic(it, DBUS_TYPE_UINT32, &x);
  } else if (auto* i = std::get_if<int32_t>(&v)) {
    dbus_int32_t x = *i;
    ok = dbus_message_iter_append_basic(it, DBUS_TYPE_INT32, &x);
  } else if (auto* s = std::get_if<std::string>(&v)) {
    const char* x = s->c_str();
    ok = dbus_message_iter_append_basic(it, DBUS_TYPE_STRING, &x);
  } else if (auto* au = std::get_if<std::vector<uint32_t>>(&v)) {
    DBusMessageIter a;
    ok = dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "u", &a);
    for (uint32_t x : *au) ok = ok && dbus_message_iter_append_basic(&a, DBUS_TYPE_UINT32, &x);
    ok = ok && dbus_message_iter_close_container(it, &a);
  } else if (auto* ay = std::get_if<std::vector<uint8_t>>(&v)) {
    DBusMessageIter a;
    const uint8_t* data = ay->data();
    ok = dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "y", &a) &&
         dbus_message_iter_append_fixed_array(&a, DBUS_TYPE_BYTE, &data, static_cast<int>(ay->size())) &&
         dbus_message_iter_close_container(it, &a);
  } else if (auto* as = std::get_if<std::vector<std::string>>(&v)) {
    DBusMessageIter a;
    ok = dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "s", &a);
    for (auto& s2 : *as) {
      const char* x = s2.c_str();
      ok = ok && dbus_message_iter_append_basic(&a, DBUS_TYPE_STRING, &x);
    }
    ok = ok && dbus_message_iter_close_container(it, &a);
  } else if (auto* ss = std::get_if<std::vector<std::pair<std::string, std::string>>>(&v)) {
    DBusMessageIter a, st;
    ok = dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "(ss)", &a);
    for (auto& [k, val] : *ss) {
      const char* x = k.c_str();
      const char* y = val.c_str();
      ok = ok && dbus_message_iter_open_container(&a, DBUS_TYPE_STRUCT, nullptr, &st) &&
           dbus_message_iter_append_basic(&st, DBUS_TYPE_STRING, &x) &&
           dbus_message_iter_append_basic(&st, DBUS_TYPE_STRING, &y) && dbus_message_iter_close_container(&a, &st);
    }
    ok = ok && dbus_message_iter_close_container(it, &a);
  }
  if (!ok) no_memory();
}

// a(sv)
void append_properties(DBusMessageIter* it, const std::vector<Property>& props) {
  DBusMessageIter a, st, var;
  if (!dbus_message_iter_open_container(it, DBUS_TYPE_ARRAY, "(sv)", &a)) no_memory();
  for (auto& p : props) {
    const char* name = p.name.c_str();
    if (!dbus_message_iter_open_container(&a, DBUS_TYPE_STRUCT, nullptr, &st) ||
        !dbus_message_iter_append_basic(&st, DBUS_TYPE_STRING, &name) ||
        !dbus_message_iter_open_container(&st, DBUS_TYPE_VARIANT, signature_of(p.value), &var))
      no_memory();
    append_value(&var, p.value);
    if (!dbus_message_iter_close_container(&st, &var) || !dbus_message_iter_close_container(&a, &st)) no_memory();
  }
  if (!dbus_message_iter_close_container(it, &a)) no_memory();
}

int64_t now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

SystemdBus::SystemdBus() {
  Err e;
  c_ = dbus_bus_get_private(DBUS_BUS_SYSTEM, &e.e);
  if (!c_ && ::geteuid() == 0) {  // no bus daemon: the manager's own socket (root only)
    Err e2;
    c_ = dbus_connection_open_private("unix:path=/run/systemd/private", &e2.e);
    private_ = c_ != nullptr;
  }
  if (!c_)
    throw Error(ErrorKind::System, "systemd_cgroup", "connect to systemd (the system bus, then /run/systemd/private): " + e.text(),
                ECONNREFUSED);
  dbus_connection_set_exit_on_disconnect(c_, FALSE);
  // Neither the match rule nor Subscribe is waited for: systemd handles a connection's messages
  // in order, so both are in force before the call that follows them (two round trips fewer
  // per connection). A refused Subscribe shows as a job that never reports, with its timeout.
  if (!private_)  // on the bus, signals reach us through a match rule
    dbus_bus_add_match(c_, "type='signal',sender='org.freedesktop.systemd1',interface='org.freedesktop.systemd1.Manager',member='JobRemoved'", nullptr);
  // systemd sends its job signals only to subscribed clients
  Msg call(dbus_message_new_method_call(kDest, kPath, kManager, "Subscribe"));
  if (!call.m || !dbus_connection_send(c_, call.m, nullptr)) {
    dbus_connection_close(c_);
    dbus_connection_unref(c_);
    c_ = nullptr;
    no_memory();
  }
  spdlog::debug("systemd: connected ({})", private_ ? "/run/systemd/private" : "the system bus");
}

SystemdBus::~SystemdBus() {
  if (!c_) return;
  dbus_connection_close(c_);
  dbus_connection_unref(c_);
}

bool SystemdBus::wait_job(const std::string& job, int timeout_ms, std::string& result) {
  const int64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    while (DBusMessage* raw = dbus_connection_pop_message(c_)) {
      Msg m(raw);
      if (!dbus_message_is_signal(m.m, kManager, "JobRemoved")) continue;
      dbus_uint32_t id;
      const char *path, *unit, *res;
      if (!dbus_message_get_args(m.m, nullptr, DBUS_TYPE_UINT32, &id, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_STRING, &unit,
                                 DBUS_TYPE_STRING, &res, DBUS_TYPE_INVALID))
        continue;
      if (job != path) continue;
      result = res;
      return result == "done";
    }
    const int64_t left = deadline - now_ms();
    if (left <= 0)
      throw Error(ErrorKind::Timeout, "systemd_cgroup", "systemd job " + job + " did not finish in " +
                                                            std::to_string(timeout_ms / 1000) + " s", ETIMEDOUT);
    if (!dbus_connection_read_write(c_, static_cast<int>(left)))
      throw Error(ErrorKind::System, "systemd_cgroup", "systemd went away while job " + job + " ran", ECONNRESET);
  }
}

void SystemdBus::start_transient_unit(const std::string& name, const std::vector<Property>& props, int timeout_ms) {
  Msg call(dbus_message_new_method_call(kDest, kPath, kManager, "StartTransientUnit"));
  if (!call.m) no_memory();
  DBusMessageIter it, aux;
  dbus_message_iter_init_append(call.m, &it);
  const char* n = name.c_str();
  const char* mode = "fail";
  if (!dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &n) || !dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &mode))
    no_memory();
  append_properties(&it, props);
  if (!dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "(sa(sv))", &aux) || !dbus_message_iter_close_container(&it, &aux))
    no_memory();
  Msg reply(nullptr);
  for (int attempt = 0;; ++attempt) {
    Err e;
    reply.m = dbus_connection_send_with_reply_and_block(c_, call.m, timeout_ms, &e.e);
    if (reply.m) break;
    if (e.name() != "org.freedesktop.systemd1.UnitExists")
      throw Error(ErrorKind::System, "systemd_cgroup", "StartTransientUnit " + name + ": " + e.text(), EPROTO);
    // a failed unit of that name (a runtime that crashed) keeps it taken until reset (runc
    // does the same); a live one is someone's: refused, never stopped by us
    if (attempt == 0) {
      reset_failed(name);
      continue;
    }
    throw Error(ErrorKind::Exists, "linux.cgroupsPath", "systemd unit " + name + " already exists", EEXIST);
  }
  const char* job = nullptr;
  if (!dbus_message_get_args(reply.m, nullptr, DBUS_TYPE_OBJECT_PATH, &job, DBUS_TYPE_INVALID))
    throw Error(ErrorKind::System, "systemd_cgroup", "StartTransientUnit " + name + ": no job in the reply", EPROTO);
  std::string result;
  if (!wait_job(job, timeout_ms, result))
    throw Error(ErrorKind::Failed, "systemd_cgroup", "systemd could not start " + name + ": job " + result, EIO);
}

void SystemdBus::stop_unit(const std::string& name, int timeout_ms) {
  Msg call(dbus_message_new_method_call(kDest, kPath, kManager, "StopUnit"));
  if (!call.m) no_memory();
  const char* n = name.c_str();
  const char* mode = "replace";
  if (!dbus_message_append_args(call.m, DBUS_TYPE_STRING, &n, DBUS_TYPE_STRING, &mode, DBUS_TYPE_INVALID)) no_memory();
  Err e;
  Msg reply(dbus_connection_send_with_reply_and_block(c_, call.m, timeout_ms, &e.e));
  if (!reply.m) {
    if (e.name() == "org.freedesktop.systemd1.NoSuchUnit") return;
    throw Error(ErrorKind::System, "systemd_cgroup", "StopUnit " + name + ": " + e.text(), EPROTO);
  }
  const char* job = nullptr;
  if (!dbus_message_get_args(reply.m, nullptr, DBUS_TYPE_OBJECT_PATH, &job, DBUS_TYPE_INVALID)) return;
  std::string result;
  if (!wait_job(job, timeout_ms, result) && result != "done")
    throw Error(ErrorKind::Failed, "systemd_cgroup", "systemd could not stop " + name + ": job " + result, EIO);
}

void SystemdBus::reset_failed(const std::string& name) {
  Msg call(dbus_message_new_method_call(kDest, kPath, kManager, "ResetFailedUnit"));
  if (!call.m) return;
  const char* n = name.c_str();
  if (!dbus_message_append_args(call.m, DBUS_TYPE_STRING, &n, DBUS_TYPE_INVALID)) return;
  Err e;
  Msg reply(dbus_connection_send_with_reply_and_block(c_, call.m, 10000, &e.e));
}

void SystemdBus::set_properties(const std::string& name, const std::vector<Property>& props) {
  if (props.empty()) return;
  Msg call(dbus_message_new_method_call(kDest, kPath, kManager, "SetUnitProperties"));
  if (!call.m) no_memory();
  DBusMessageIter it;
  dbus_message_iter_init_append(call.m, &it);
  const char* n = name.c_str();
  dbus_bool_t runtime = TRUE;
  if (!dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &n) || !dbus_message_iter_append_basic(&it, DBUS_TYPE_BOOLEAN, &runtime))
    no_memory();
  append_properties(&it, props);
  Err e;
  Msg reply(dbus_connection_send_with_reply_and_block(c_, call.m, 30000, &e.e));
  if (!reply.m) throw Error(ErrorKind::System, "systemd_cgroup", "SetUnitProperties " + name + ": " + e.text(), EPROTO);
}

}  // namespace ocirt::cgroups
