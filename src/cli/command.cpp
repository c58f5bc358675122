// The command line up to the command: the global options and the choice of the command (main.cpp
// runs them; tests/fuzz/cli.cpp runs them on any argv, with the library's calls stubbed).
#include <unistd.h>

#include <cstring>
#include <cxxopts.hpp>
#include <map>

#include "config.h"
#include "ocirt/container.hpp"
#include "ocirt/error.hpp"
#include "src/cli/cli.hpp"
#include "src/cli/global_flags.hpp"

namespace ocirt::cli {
namespace {

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
         "   checkpoint  checkpoint a running container (criu)\n"
         "   restore   restore a container from a checkpoint (criu)\n"
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

int command_index(int argc, char** argv) {
  int cmd = 1;
  while (cmd < argc && argv[cmd][0] == '-') {
    if (global_takes_value(argv[cmd])) ++cmd;
    ++cmd;
  }
  return cmd;
}

int parse_global(int argc, char** argv, int cmd, const std::string& command, Global& g) {
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
    if (r.count("criu") && !r["criu"].as<std::string>().empty()) g.criu = r["criu"].as<std::string>();
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
  return -1;
}

int run_command(const Global& g, const std::string& command, int cmd, int argc, char** argv) {
  static const std::map<std::string, int (*)(const Global&, int, char**)> commands = {
      {"create", cmd_create}, {"run", cmd_run},     {"start", cmd_start}, {"kill", cmd_kill},
      {"delete", cmd_delete}, {"state", cmd_state}, {"list", cmd_list},   {"spec", cmd_spec},
      {"exec", cmd_exec},     {"features", cmd_features}, {"pause", cmd_pause}, {"resume", cmd_resume},
      {"ps", cmd_ps},         {"update", cmd_update},     {"events", cmd_events},
      {"checkpoint", cmd_checkpoint}, {"restore", cmd_restore},
  };
  auto it = commands.find(command);
  if (it != commands.end()) return it->second(g, argc - cmd, argv + cmd);
  for (int i = cmd + 1; i < argc; ++i)
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
      throw ocirt::Error("No help topic for '" + command + "'", EINVAL);
  throw ocirt::Error("unknown command \"" + command + "\" (see " + program_name + " --help)", EINVAL);
}

}  // namespace ocirt::cli
