// Flag parsing and help that every command shares: runc's help layout from a cxxopts
// definition, the container id argument.
#include <cstring>
#include <cxxopts.hpp>

#include "ocirt/error.hpp"
#include "src/cli/cli.hpp"

namespace ocirt::cli {

std::string help_text(cxxopts::Options& opts) {
  // cxxopts: "DESCRIPTION\nUsage:\n  oci-rt CMD [options] ARGS\n\n  OPTION LINES..."
  std::string h = opts.help(), desc, usage, rest;
  size_t l1 = h.find('\n'), l2 = l1 == std::string::npos ? l1 : h.find('\n', l1 + 1),
         l3 = l2 == std::string::npos ? l2 : h.find('\n', l2 + 1);
  if (l3 == std::string::npos) return h;
  desc = h.substr(0, l1);
  usage = h.substr(l2 + 1, l3 - l2 - 1);
  rest = h.substr(l3 + 1);
  while (!rest.empty() && rest[0] == '\n') rest.erase(0, 1);
  size_t at = usage.find_first_not_of(' ');
  usage = at == std::string::npos ? usage : usage.substr(at);
  if (usage.rfind("oci-rt", 0) == 0) usage = program_name + usage.substr(6);
  for (const char* o : {"[options]", "[OPTION...]"})
    if (auto at = usage.find(o); at != std::string::npos) usage.replace(at, strlen(o), "[command options]");
  std::string cmd = usage.substr(0, usage.find(" [command options]"));
  return "NAME:\n   " + cmd + " - " + desc + "\n\nUSAGE:\n   " + usage + "\n\nOPTIONS:\n" + rest;
}

bool parse(cxxopts::Options& opts, int argc, char** argv, cxxopts::ParseResult& r, const char* positional_help) {
  opts.add_options()("h,help", "show this help");
  opts.custom_help("[options]");
  opts.positional_help(positional_help);
  r = opts.parse(argc, argv);
  if (r.count("help")) {
    out(help_text(opts));
    return false;
  }
  return true;
}

bool parse_id(cxxopts::Options& opts, int argc, char** argv, cxxopts::ParseResult& r, const char* positional_help) {
  opts.add_options()("id", "container id", cxxopts::value<std::string>());
  opts.parse_positional({"id"});
  return parse(opts, argc, argv, r, positional_help);
}

std::string need_id(const cxxopts::ParseResult& r, const char* cmd) {
  if (!r.count("id")) throw Error(std::string(cmd) + ": a container id is required", EINVAL);
  return r["id"].as<std::string>();
}

bool rootless_value(const Global& g) {
  // runc's parseBoolOrAuto: "" and "auto" detect, else a Go boolean
  const std::string& v = g.rootless;
  if (v.empty() || v == "auto") return rootless_default(g.systemd_cgroup);
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False") return false;
  throw Error(ErrorKind::Invalid, "", "invalid value for --rootless: \"" + v + "\" (true, false or auto)", EINVAL);
}

}  // namespace ocirt::cli
