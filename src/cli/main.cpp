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
#include <mutex>

#include "ocirt/error.hpp"
#include "ocirt/container.hpp"
#include "src/cli/cli.hpp"

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
  int cmd = command_index(argc, argv);
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
  if (int code = parse_global(argc, argv, cmd, command, g); code >= 0) return code;
  try {
    setup_logging(g);
  } catch (const std::exception& e) {
    dprintf(2, "oci-rt: %s\n", e.what());
    return 1;
  }
  try {
    return run_command(g, command, cmd, argc, argv);
  } catch (const std::exception& e) {
    return report_failure(e, command, g);
  }
}
