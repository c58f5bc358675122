// oci-rt: command-line front end. Global flags come before the command (as with runc),
// the command's own flags after it.
#include <fcntl.h>
#include <unistd.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <cxxopts.hpp>
#include <map>
#include <mutex>

#include "config.h"
#include "ocirt/error.hpp"
#include "ocirt/container.hpp"
#include "src/cli/cli.hpp"
#include "src/cli/global_flags.hpp"

namespace ocirt::cli {
namespace {

// The --log file, opened close-on-exec (hooks, `ps` and the container never inherit it; spdlog's
// own file sink is not). One line per message, in runc's shapes: json
// {"level":"error","msg":"...","time":"..."}, text time="..." level=error msg="...".
class LogFileSink : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  LogFileSink(const std::string& path, bool json) : json_(json) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) throw_errno("--log " + path);
    owned_ = true;
  }
  explicit LogFileSink(int fd) : fd_(fd), json_(false) {}  // stderr, not ours to close
  ~LogFileSink() override {
    if (owned_ && fd_ >= 0) ::close(fd_);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& m) override {
    auto lv = spdlog::level::to_string_view(m.level);
    std::string level(lv.data(), lv.size()), line;
    if (level == "warn") level = "warning";
    std::string t = now_rfc3339();
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    if (json_) {
      w.StartObject();
      w.Key("level");
      w.String(level.c_str());
      w.Key("msg");
      w.String(m.payload.data(), m.payload.size());
      w.Key("time");
      w.String(t.c_str());
      w.EndObject();
      line = std::string(sb.GetString()) + "\n";
    } else {
      w.String(m.payload.data(), m.payload.size());  // quoted and escaped as logfmt wants
      line = "time=\"" + t + "\" level=" + level + " msg=" + sb.GetString() + "\n";
    }
    (void)!::write(fd_, line.data(), line.size());
  }
  void flush_() override {}

 private:
  int fd_ = -1;
  bool json_, owned_ = false;
};

void setup_logging(const Global& g) {
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (g.log.empty() && !g.debug) {
    // errors and warnings: short lines
    sink = std::make_shared<spdlog::sinks::stderr_sink_st>();
    // UTC, though the pattern shows no time: a local-time formatter runs tzset() (reads /etc/localtime).
    sink->set_formatter(std::make_unique<spdlog::pattern_formatter>("oci-rt: %l: %v", spdlog::pattern_time_type::utc));
  } else if (g.log.empty()) {
    // --debug: runc's logfmt lines (time="..." level=debug msg="..."), as on a log file
    sink = std::make_shared<LogFileSink>(2);
  } else {
    sink = std::make_shared<LogFileSink>(g.log, g.log_format == "json");
  }
  auto logger = std::make_shared<spdlog::logger>("oci-rt", sink);
  logger->set_level(g.debug ? spdlog::level::debug : spdlog::level::warn);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

std::string usage() {
  const std::string& p = program_name;
  return "NAME:\n   " + p + " - Open Container Initiative runtime\n\n"
         "oci-rt is an OCI container runtime in C++, a drop-in replacement for runc: it runs\n"
         "applications packaged in the Open Container Initiative bundle format.\n\n"
         "USAGE:\n   " + p + " [global options] command [command options] [arguments...]\n\n"
         "COMMANDS:\n"
         "   create    create a container\n"
         "   start     start a created container\n"
         "   run       create and start a container\n"
         "   exec      run a new process in a container\n"
         "   state     output the state of a container\n"
         "   kill      send a signal to the container's init process\n"
         "   delete    delete a container and what it holds\n"
         "   list      list containers\n"
         "   ps        list the processes in a container\n"
         "   pause     suspend all processes of a container\n"
         "   resume    resume a paused container\n"
         "   update    change the resource limits of a container\n"
         "   events    stats and OOM events of a container (JSON)\n"
         "   spec      create a new config.json (runc's template)\n"
         "   features  print what this build supports (JSON)\n\n"
         "GLOBAL OPTIONS:\n"
         "   --root DIR               state directory (default /run/oci-rt; rootless: $XDG_RUNTIME_DIR/oci-rt)\n"
         "   --log FILE               log to FILE instead of stderr\n"
         "   --log-format text|json   log format (default text)\n"
         "   --debug                  log the steps\n"
         "   --systemd-cgroup         create: the cgroup is a systemd unit (slice:prefix:name paths)\n"
         "   -v, --version            print the version\n"
         "   -h, --help               print this help\n\n"
         "Run '" + p + " COMMAND --help' for a command's options.\n";
}

}  // namespace

std::string program_name = "oci-rt";

void out(const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(1, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += n;
  }
}

std::string read_fd(int fd, const std::string& what) {
  std::string text;
  for (char buf[8192];;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno(what);
    if (n == 0) return text;
    text.append(buf, static_cast<size_t>(n));
  }
}

std::string read_input(const std::string& path, const std::string& what) {
  if (path == "-") return read_fd(0, what + ": read standard input");
  ocirt::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno(what + ": open " + path);
  return read_fd(fd.get(), what + ": read " + path);
}

}  // namespace ocirt::cli

int main(int argc, char** argv) {
  using namespace ocirt::cli;
  // A caller may start us with stdin/stdout/stderr closed: our own fds must never take those
  // numbers (the container would get our sync socket as its stdio).
  for (int fd = 0; fd < 3; ++fd)
    if (fcntl(fd, F_GETFD) < 0 && errno == EBADF && ::open("/dev/null", O_RDWR) < 0) return 1;
  if (argc > 0 && argv[0][0]) {
    const char* slash = strrchr(argv[0], '/');
    program_name = slash ? slash + 1 : argv[0];
  }
  int cmd = 1;
  while (cmd < argc && argv[cmd][0] == '-') {
    if (global_takes_value(argv[cmd])) ++cmd;
    ++cmd;
  }
  Global g;
  std::string command = cmd < argc ? argv[cmd] : "";
  try {
    // Commands that put processes into containers run from a read-only bind of the binary
    // (CVE-2019-5736): done first, before anything is opened (nothing leaks across the exec)
    // and before any parsing (which the new image would only repeat).
    if (command == "create" || command == "run" || command == "exec") ocirt::protect_binary(argv);
  } catch (const std::exception& e) {
    dprintf(2, "oci-rt: %s\n", e.what());
    return 1;
  }
  try {
    cxxopts::Options opts("oci-rt", "an OCI container runtime");
    opts.add_options()("root", "", cxxopts::value<std::string>()->default_value("/run/oci-rt"))(
        "log", "", cxxopts::value<std::string>()->default_value(""))(
        "log-format", "", cxxopts::value<std::string>()->default_value("text"))("debug", "")("systemd-cgroup", "")(
        "criu", "", cxxopts::value<std::string>()->default_value(""))(
        "rootless", "", cxxopts::value<std::string>()->default_value("auto"))("v,version", "")("h,help", "");
    auto r = opts.parse(std::min(cmd, argc), argv);
    g.systemd_cgroup = r.count("systemd-cgroup");
    g.rootless = r["rootless"].as<std::string>();  // resolved where it matters (create, run)
    if (g.rootless != "auto") rootless_value(g);  // a bad value fails every command, as in runc
    g.root = r.count("root") ? r["root"].as<std::string>() : ocirt::default_state_root();
    g.log = r["log"].as<std::string>();
    g.log_format = r["log-format"].as<std::string>();
    g.debug = r.count("debug");
    if (g.log_format != "text" && g.log_format != "json") throw ocirt::Error("--log-format: must be text or json");
    if (r.count("version")) {
      out("oci-rt version " OCIRT_VERSION "\ncommit: " OCIRT_COMMIT "\nspec: " OCIRT_SPEC_VERSION "\n");
      return 0;
    }
    if (r.count("help") || command.empty() || command == "help") {
      out(usage());
      return command.empty() && !r.count("help") ? 1 : 0;
    }
  } catch (const std::exception& e) {
    dprintf(2, "oci-rt: %s\n", e.what());
    return 1;
  }
  try {
    setup_logging(g);
  } catch (const std::exception& e) {
    dprintf(2, "oci-rt: %s\n", e.what());
    return 1;
  }
  static const std::map<std::string, int (*)(const Global&, int, char**)> commands = {
      {"create", cmd_create}, {"run", cmd_run},     {"start", cmd_start}, {"kill", cmd_kill},
      {"delete", cmd_delete}, {"state", cmd_state}, {"list", cmd_list},   {"spec", cmd_spec},
      {"exec", cmd_exec},     {"features", cmd_features}, {"pause", cmd_pause}, {"resume", cmd_resume},
      {"ps", cmd_ps},         {"update", cmd_update},     {"events", cmd_events},
  };
  auto it = commands.find(command);
  try {
    if (it == commands.end()) {
      static const struct {
        const char *name, *desc, *args;
      } later[] = {{"checkpoint", "checkpoint a running container (not implemented yet)", "<container-id>"},
                   {"restore", "restore a container from a previous checkpoint (not implemented yet)", "<container-id>"}};
      for (auto& l : later) {
        if (command != l.name) continue;
        for (int i = cmd + 1; i < argc; ++i)
          if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            cxxopts::Options opts("oci-rt " + command, l.desc);
            opts.add_options()("h,help", "show this help");
            opts.custom_help("[options]");
            opts.positional_help(l.args);
            out(help_text(opts));
            return 0;
          }
        throw ocirt::Error("command \"" + command + "\" is not implemented yet", ENOSYS);
      }
      for (int i = cmd + 1; i < argc; ++i)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
          throw ocirt::Error("No help topic for '" + command + "'", EINVAL);
      throw ocirt::Error("unknown command \"" + command + "\" (see " + program_name + " --help)", EINVAL);
    }
    return it->second(g, argc - cmd, argv + cmd);
  } catch (const std::exception& e) {
    return report_failure(e, command, g);
  }
}
