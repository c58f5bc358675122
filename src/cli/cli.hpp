// Shared bits of the command-line front end.
#pragma once

#include <string>

#include <cxxopts.hpp>

namespace ocirt::cli {

struct Global {
  std::string root = "/run/oci-rt";
  std::string log, log_format = "text";
  bool debug = false, systemd_cgroup = false;
};

// Each command: parses its own flags from argv (argv[0] is the command name), returns exit code.
int cmd_create(const Global& g, int argc, char** argv);
int cmd_run(const Global& g, int argc, char** argv);
int cmd_start(const Global& g, int argc, char** argv);
int cmd_kill(const Global& g, int argc, char** argv);
int cmd_delete(const Global& g, int argc, char** argv);
int cmd_state(const Global& g, int argc, char** argv);
int cmd_list(const Global& g, int argc, char** argv);
int cmd_spec(const Global& g, int argc, char** argv);
int cmd_exec(const Global& g, int argc, char** argv);
int cmd_features(const Global& g, int argc, char** argv);
int cmd_pause(const Global& g, int argc, char** argv);
int cmd_resume(const Global& g, int argc, char** argv);
int cmd_ps(const Global& g, int argc, char** argv);
int cmd_update(const Global& g, int argc, char** argv);
int cmd_events(const Global& g, int argc, char** argv);

// Parses argv with opts (adding -h/--help); prints the help and returns false for --help.
bool parse(cxxopts::Options& opts, int argc, char** argv, cxxopts::ParseResult& r, const char* positional_help);
// parse() for a command whose only argument is the container id.
bool parse_id(cxxopts::Options& opts, int argc, char** argv, cxxopts::ParseResult& r, const char* positional_help);
// The "id" positional, or an error naming the command.
std::string need_id(const cxxopts::ParseResult& r, const char* cmd);

// The name we were invoked as (basename of argv[0]): "oci-rt", or "runc" when installed as a
// drop-in under that name. Help text uses it; the version line always says oci-rt.
extern std::string program_name;
// A command's help in runc's layout (NAME, USAGE, OPTIONS), from its cxxopts definition.
std::string help_text(cxxopts::Options& opts);

// Writes all of s to stdout (no iostreams).
void out(const std::string& s);
// Parses a signal given as a name (KILL, SIGKILL, kill) or a number; throws on anything else.
int parse_signal(const std::string& s);

}  // namespace ocirt::cli
