// Shared bits of the command-line front end: the global options, the commands, flag parsing
// and help, our stdio, signal forwarding and runc's words for the library's errors. The CLI
// uses only the library's public headers (include/ocirt/).
#pragma once

#include <signal.h>

#include <exception>
#include <string>

#include <cxxopts.hpp>

#include "ocirt/container.hpp"
#include "ocirt/error.hpp"

namespace ocirt::cli {

struct Global {
  std::string root = "/run/oci-rt";
  std::string log, log_format = "text";
  bool debug = false, systemd_cgroup = false;
  std::string rootless = "auto";  // --rootless as given: true, false or auto (see rootless_value)
  std::string criu = "criu";      // --criu: checkpoint and restore run it
};

// --rootless resolved ("auto": ocirt::rootless_default); throws on a value runc would refuse.
bool rootless_value(const Global& g);

// main()'s steps (command.cpp). The index of the command in argv (after the global options).
int command_index(int argc, char** argv);
// The global options into g: -1 to go on, else the exit code (--version, --help, a bad option,
// reported on stderr).
int parse_global(int argc, char** argv, int cmd, const std::string& command, Global& g);
// Runs the command argv[cmd] (its own flags after it); throws what the command throws.
int run_command(const Global& g, const std::string& command, int cmd, int argc, char** argv);

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
int cmd_checkpoint(const Global& g, int argc, char** argv);
int cmd_restore(const Global& g, int argc, char** argv);

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
// All of a file, or of standard input for "-"; throws naming `what`.
std::string read_input(const std::string& path, const std::string& what);
// All that fd gives until EOF; throws with the step `what`.
std::string read_fd(int fd, const std::string& what);
// Parses a signal given as a name (KILL, SIGKILL, kill) or a number; throws on anything else.
int parse_signal(const std::string& s);

// Foreground run/exec: the signals we forward are blocked from before the process exists until
// this is dropped (after the teardown: a second Ctrl-C must not cut it short), when what came
// meanwhile is taken back and the caller's mask restored.
class SignalsHeld {
 public:
  SignalsHeld();
  ~SignalsHeld();
  SignalsHeld(const SignalsHeld&) = delete;
  SignalsHeld& operator=(const SignalsHeld&) = delete;
  const sigset_t& forwarded() const { return fwd_; }

 private:
  sigset_t fwd_, old_;
};
// Forwards what we receive to the process until it exits (with its pty master: copies our
// stdio, raw mode, resizes; with an sd_notify socket: relays READY). Its exit status, or 128+N.
int wait_forwarding(Process& proc, const SignalsHeld& held);

// A library error in runc's words, with our flags for the options it names.
std::string error_words(const Error& e);
// A library error (or any other exception) in runc's words, logged; returns the exit code.
int report_failure(const std::exception& e, const std::string& command, const Global& g);

}  // namespace ocirt::cli
