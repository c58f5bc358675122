// The command line: argv -> global options -> the command's flags -> the typed options the
// library gets (main.cpp's steps, command.cpp). Input: the arguments after argv[0], separated
// by NUL bytes. The library's lifecycle calls are stubs here: they check what they are given
// and stop the command (nothing is created, killed, forked or waited for); --process and
// --resources read their argument's own text instead of a file. `spec` (it writes config.json
// where --bundle says) is skipped. A command must end by returning or by throwing a
// std::exception (reported as main() does): exit(), abort or anything else is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "ocirt/container.hpp"
#include "ocirt/error.hpp"
#include "ocirt/state.hpp"
#include "src/cli/cli.hpp"

namespace {

struct Stopped {};  // a stub was reached: the command's parsing is over

[[noreturn]] void bad(const char* what) {
  fprintf(stderr, "cli fuzz: %s\n", what);
  abort();
}

// what the library does first with an id (an empty or odd one is its error to report)
void check_id(const std::string& id) { ocirt::state::check_id(id); }

}  // namespace

// --- the library's lifecycle API (include/ocirt/container.hpp), stubbed ---
namespace ocirt {

void create(const CreateOptions& o) {
  check_id(o.id);
  if (o.preserve_fds < 0) bad("create: negative preserve_fds");
  throw Stopped{};
}
void start(const std::string&, const std::string& id, const std::string&) {
  check_id(id);
  throw Stopped{};
}
void run(const CreateOptions& o) { create(o); }
Process run_attached(const CreateOptions& o, bool) {
  create(o);
  throw Stopped{};
}
Process exec(const ExecOptions& o) {
  check_id(o.id);
  if (o.preserve_fds < 0) bad("exec: negative preserve_fds");
  if (!o.process && o.args.empty()) throw Error(ErrorKind::Invalid, "args", "a command to run is required", EINVAL);
  throw Stopped{};
}
ContainerInfo get_state(const std::string&, const std::string& id) {
  check_id(id);
  throw Stopped{};
}
std::vector<ContainerInfo> list_all(const std::string&) { throw Stopped{}; }
void kill(const std::string&, const std::string& id, int sig, bool) {
  check_id(id);
  if (sig < 0 || sig > 64) bad("kill: signal out of range");
  throw Stopped{};
}
void destroy(const std::string&, const std::string& id, bool) {
  check_id(id);
  throw Stopped{};
}
void checkpoint(const CheckpointOptions& o) {
  check_id(o.id);
  throw Stopped{};
}
Process restore(const RestoreOptions& o) {
  create(o.create);
  throw Stopped{};
}
void pause(const std::string&, const std::string& id) {
  check_id(id);
  throw Stopped{};
}
void resume(const std::string&, const std::string& id) {
  check_id(id);
  throw Stopped{};
}
std::vector<pid_t> pids(const std::string&, const std::string& id) {
  check_id(id);
  throw Stopped{};
}
std::vector<std::string> update(const std::string&, const std::string& id, const spec::Resources&) {
  check_id(id);
  throw Stopped{};
}
std::string stats_event(const std::string&, const std::string& id) {
  check_id(id);
  throw Stopped{};
}
void events(const std::string&, const std::string& id, int interval_ms, const std::function<void(const std::string&)>&) {
  check_id(id);
  if (interval_ms < 1) bad("events: interval below 1ms");
  throw Stopped{};
}
std::string now_rfc3339() { return "2026-01-01T00:00:00.000000000Z"; }
void protect_binary(char**) {}
bool rootless_default(bool) { return false; }
std::string default_state_root() { return "/run/oci-rt-fuzz"; }
Process::Process(pid_t pid, Fd pidfd, Fd pty_master, Fd notify, std::string notify_host)
    : pid_(pid), pidfd_(std::move(pidfd)), master_(std::move(pty_master)), notify_(std::move(notify)),
      notify_host_(std::move(notify_host)) {}
void Process::relay_notify() {}
int Process::kill(int) const { return 0; }
int Process::wait() { return 0; }

}  // namespace ocirt

// --- main.cpp's and foreground.cpp's I/O, stubbed ---
namespace ocirt::cli {

std::string program_name = "oci-rt";
void out(const std::string&) {}
std::string read_fd(int, const std::string&) { throw Stopped{}; }
std::string read_input(const std::string& path, const std::string&) { return path; }
SignalsHeld::SignalsHeld() {}
SignalsHeld::~SignalsHeld() {}
int wait_forwarding(Process&, const SignalsHeld&) { throw Stopped{}; }

}  // namespace ocirt::cli

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("oci-rt", std::make_shared<spdlog::sinks::null_sink_st>()));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ocirt::cli;
  std::vector<std::string> args = {"oci-rt"};
  std::string cur;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(data[i]);
    }
  }
  if (size) args.push_back(cur);
  if (args.size() > 64) return 0;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(args.size());
  int cmd = command_index(argc, argv.data());
  std::string command = cmd < argc ? argv[cmd] : "";
  if (command == "spec") return 0;
  Global g;
  if (parse_global(argc, argv.data(), cmd, command, g) >= 0) return 0;
  try {
    (void)run_command(g, command, cmd, argc, argv.data());
  } catch (const Stopped&) {
  } catch (const std::exception& e) {
    (void)report_failure(e, command, g);
  }
  return 0;
}
