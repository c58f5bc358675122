// state, list, spec.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cxxopts.hpp>

#include "ocirt/container.hpp"
#include "ocirt/error.hpp"
#include "ocirt/spec.hpp"
#include "src/cli/cli.hpp"

namespace ocirt::cli {

int cmd_state(const Global& g, int argc, char** argv) {
  cxxopts::Options opts("oci-rt state", "output the state of a container as JSON");
  cxxopts::ParseResult r;
  if (!parse_id(opts, argc, argv, r, "<container-id>")) return 0;
  ContainerInfo info = get_state(g.root, need_id(r, "state"));
  out(state::state_json(info.record, info.status) + "\n");
  return 0;
}

int cmd_list(const Global& g, int argc, char** argv) {
  cxxopts::Options opts("oci-rt list", "list the containers in the state root");
  opts.add_options()("h,help", "show this help")("f,format", "table or json",
                                                 cxxopts::value<std::string>()->default_value("table"))(
      "q,quiet", "print only the ids");
  auto r = opts.parse(argc, argv);
  if (r.count("help")) {
    out(help_text(opts));
    return 0;
  }
  std::string format = r["format"].as<std::string>();
  if (format != "table" && format != "json") throw Error("--format: must be table or json", EINVAL);
  auto all = list_all(g.root);
  if (r.count("quiet")) {
    std::string s;  // one write, not one per container
    for (auto& c : all) s += c.record.id + "\n";
    out(s);
    return 0;
  }
  if (format == "json") {
    std::string s = "[";
    for (size_t i = 0; i < all.size(); ++i)
      s += (i ? "," : "") + state::state_json(all[i].record, all[i].status, false);
    out(s + "]\n");
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
  for (auto& c : all)
    rows.push_back({c.record.id, std::to_string(c.status == state::Status::Stopped ? 0 : c.record.pid), state::status_name(c.status), c.record.bundle,
                    c.record.created, c.record.owner});
  std::vector<size_t> w(6, 12);
  for (auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) w[i] = std::max(w[i], row[i].size() + 3);
  std::string s;
  for (auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      s += row[i];
      if (i + 1 < row.size()) s += std::string(w[i] - row[i].size(), ' ');
    }
    s += "\n";
  }
  out(s);
  return 0;
}

int cmd_spec(const Global&, int argc, char** argv) {
  cxxopts::Options opts("oci-rt spec", "write a new config.json (the same template as runc spec)");
  opts.add_options()("h,help", "show this help")("b,bundle", "bundle directory to write config.json to",
                                                 cxxopts::value<std::string>()->default_value("."))(
      "rootless", "a config for running without root (user namespace)");
  auto r = opts.parse(argc, argv);
  if (r.count("help")) {
    out(help_text(opts));
    return 0;
  }
  std::string path = r["bundle"].as<std::string>() + "/config.json";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) throw Error("File " + path + " exists. Remove it first", EEXIST);
    throw_errno("create " + path);
  }
  std::string s = spec::default_spec(r.count("rootless"));
  bool ok = ::write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size());
  ::close(fd);
  if (!ok) throw_errno("write " + path);
  return 0;
}

}  // namespace ocirt::cli

namespace ocirt::cli {

int cmd_features(const Global&, int argc, char** argv) {
  cxxopts::Options opts("oci-rt features", "print what this build supports (runtime-spec features.md)");
  opts.add_options()("h,help", "show this help");
  auto r = opts.parse(argc, argv);
  if (r.count("help")) {
    out(help_text(opts));
    return 0;
  }
  out(spec::features_json());
  return 0;
}

}  // namespace ocirt::cli
