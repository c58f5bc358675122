// runc's words and exit codes for the library's errors, in one place: the kinds callers match
// on (containerd and podman look for "container does not exist"), the options the library
// names by their member names shown as our flags.
#include <unistd.h>

#include <cstring>

#include <spdlog/spdlog.h>

#include "ocirt/error.hpp"
#include "src/cli/cli.hpp"

namespace ocirt::cli {
namespace {

struct OptionWords {
  const char *field, *flag, *hint;
};
// CreateOptions/ExecOptions members as the flags that set them; a hint goes after the message
const OptionWords kOptions[] = {
    {"console_socket", "--console-socket", ""},
    {"pidfd_socket", "--pidfd-socket", ""},
    {"pid_file", "--pid-file", ""},
    {"user", "--user", ""},
    {"env", "--env", ""},
    {"args", "exec", " (or --process)"},
    {"cgroups", "--cgroup", ""},
    {"no_pivot", "--no-pivot", ""},
    {"systemd_cgroup", "--systemd-cgroup", ""},
    {"notify_socket", "NOTIFY_SOCKET", ""},
    {"ignore_paused", "", " (use --ignore-paused to override)"},
};

}  // namespace

std::string error_words(const Error& e) {
  switch (e.kind()) {
    case ErrorKind::NotFound: return "container does not exist";
    case ErrorKind::Exists: return e.message();
    default: break;
  }
  for (const auto& o : kOptions) {
    if (e.field() != o.field) continue;
    std::string head = *o.flag ? std::string(o.flag) + ": " : "";
    return e.context() + head + e.message() + o.hint;
  }
  return e.what();
}

int report_failure(const std::exception& ex, const std::string& command, const Global& g) {
  const auto* e = dynamic_cast<const Error*>(&ex);
  std::string msg = e ? error_words(*e) : ex.what();
  if (command == "create" || command == "run") msg = command + " failed: " + msg;
  spdlog::error("{}", msg);
  if (!g.log.empty()) {
    std::string line = "oci-rt: " + msg + "\n";
    (void)!::write(2, line.data(), line.size());
  }
  // runc: an exec that could not run its process exits 255, so a caller can tell it from the
  // process's own exit status
  return command == "exec" ? 255 : 1;
}

}  // namespace ocirt::cli
