// checkpoint and restore: runc 1.1's flags (Go-style: --x v, --x=v, -x, repeated bools).
#include <unistd.h>

#include <climits>
#include <cstring>
#include <cxxopts.hpp>
#include <string>
#include <vector>

#include "ocirt/container.hpp"
#include "ocirt/error.hpp"
#include "src/cli/cli.hpp"

namespace ocirt::cli {
namespace {

// Go's flag package takes -name as --name: single-dash long flags made double (go-runc passes
// -no-subreaper); a flag that needs a value and has none gets urfave's words (podman's probe
// looks for "flag needs an argument").
std::vector<std::string> go_flags(int argc, char** argv, const std::vector<std::string>& with_value,
                                  const std::vector<std::string>& shorts) {
  std::vector<std::string> out;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (i > 0 && a.size() > 2 && a[0] == '-' && a[1] != '-') {
      std::string name = a.substr(1, a.find('=') == std::string::npos ? std::string::npos : a.find('=') - 1);
      bool is_short = false;
      for (auto& s : shorts) is_short = is_short || name == s;
      if (!is_short) a = "-" + a;
    }
    if (i > 0 && a.rfind("--", 0) == 0 && a.find('=') == std::string::npos) {
      for (auto& v : with_value)
        if (a == "--" + v && i + 1 == argc) throw Error("Incorrect Usage: flag needs an argument: -" + v, EINVAL);
    }
    out.push_back(a);
  }
  return out;
}

cxxopts::ParseResult parse_go(cxxopts::Options& opts, int argc, char** argv, const std::vector<std::string>& with_value,
                              const std::vector<std::string>& shorts, bool& help) {
  std::vector<std::string> args = go_flags(argc, argv, with_value, shorts);
  std::vector<char*> av;
  for (auto& a : args) av.push_back(a.data());
  av.push_back(nullptr);
  opts.add_options()("h,help", "show this help")("id", "container id", cxxopts::value<std::string>());
  opts.parse_positional({"id"});
  opts.custom_help("[options]");
  opts.positional_help("<container-id>");
  cxxopts::ParseResult r = opts.parse(static_cast<int>(args.size()), av.data());
  help = r.count("help");
  if (help) out(help_text(opts));
  return r;
}

std::string cwd_checkpoint() {
  char buf[PATH_MAX];
  if (!::getcwd(buf, sizeof buf)) throw_errno("getcwd");
  return std::string(buf) + "/checkpoint";
}

// relative paths against the cwd we were started in (restore's --bundle does not move them)
std::string absolute(const std::string& p) {
  if (p.empty() || p[0] == '/') return p;
  char buf[PATH_MAX];
  if (!::getcwd(buf, sizeof buf)) throw_errno("getcwd");
  return std::string(buf) + "/" + p;
}

std::string str(const cxxopts::ParseResult& r, const char* k) { return r.count(k) ? r[k].as<std::string>() : ""; }

void criu_flags(cxxopts::Options& opts) {
  opts.add_options()("image-path", "path for saving criu image files (default: ./checkpoint)", cxxopts::value<std::string>())(
      "work-path", "path for saving work files and logs", cxxopts::value<std::string>())(
      "tcp-established", "allow open tcp connections")("ext-unix-sk", "allow external unix sockets")(
      "shell-job", "allow shell jobs")("file-locks", "handle file locks, for safety")(
      "manage-cgroups-mode", "cgroups mode: soft, full, strict, ignore", cxxopts::value<std::string>())(
      "empty-ns", "create a namespace, but don't restore its properties (network only)", cxxopts::value<std::vector<std::string>>())(
      "auto-dedup", "enable auto deduplication of memory images")("lazy-pages", "use userfaultfd to lazily restore memory pages");
}

}  // namespace

int cmd_checkpoint(const Global& g, int argc, char** argv) {
  cxxopts::Options opts("oci-rt checkpoint", "checkpoint a running container (criu)");
  criu_flags(opts);
  opts.add_options()("parent-path", "path for previous criu image files in pre-dump (relative to --image-path)",
                     cxxopts::value<std::string>())("leave-running", "leave the process running after checkpointing")(
      "page-server", "ADDRESS:PORT of the page server", cxxopts::value<std::string>())(
      "status-fd", "criu writes \\0 to this FD once lazy-pages is ready", cxxopts::value<int>()->default_value("-1"))(
      "pre-dump", "dump the container's memory only, leave it running");
  bool help = false;
  auto r = parse_go(opts, argc, argv,
                    {"image-path", "work-path", "parent-path", "page-server", "status-fd", "manage-cgroups-mode", "empty-ns"},
                    {"h"}, help);
  if (help) return 0;
  CheckpointOptions o;
  o.root = g.root;
  o.criu = g.criu;
  o.id = need_id(r, "checkpoint");
  if (geteuid() != 0) dprintf(2, "oci-rt: warning: checkpoint is untested with rootless containers\n");
  o.image_path = absolute(str(r, "image-path"));
  if (o.image_path.empty()) o.image_path = cwd_checkpoint();
  o.work_path = absolute(str(r, "work-path"));
  o.parent_path = str(r, "parent-path");
  o.page_server = str(r, "page-server");
  o.manage_cgroups_mode = str(r, "manage-cgroups-mode");
  if (r.count("empty-ns")) o.empty_ns = r["empty-ns"].as<std::vector<std::string>>();
  o.leave_running = r.count("leave-running");
  o.tcp_established = r.count("tcp-established");
  o.ext_unix_sk = r.count("ext-unix-sk");
  o.shell_job = r.count("shell-job");
  o.lazy_pages = r.count("lazy-pages");
  o.file_locks = r.count("file-locks");
  o.pre_dump = r.count("pre-dump");
  o.auto_dedup = r.count("auto-dedup");
  o.status_fd = r["status-fd"].as<int>();
  checkpoint(o);
  return 0;
}

int cmd_restore(const Global& g, int argc, char** argv) {
  cxxopts::Options opts("oci-rt restore", "restore a container from a previous checkpoint (criu)");
  criu_flags(opts);
  opts.add_options()("console-socket", "AF_UNIX socket that receives the pty master", cxxopts::value<std::string>())(
      "b,bundle", "path to the bundle directory", cxxopts::value<std::string>()->default_value("."))(
      "d,detach", "detach from the container's process")(
      "pid-file", "write the restored process's pid to this file", cxxopts::value<std::string>())(
      "no-subreaper", "accepted for runc's callers; oci-rt never makes itself a subreaper")(
      "no-pivot", "accepted (criu restores the mounts)")("no-new-keyring", "accepted (criu restores the keyring state)")(
      "parent-path", "accepted and ignored (criu finds the parent through the image's link)", cxxopts::value<std::string>())(
      "lsm-profile", "TYPE:NAME of the LSM profile to restore with", cxxopts::value<std::string>())(
      "lsm-mount-context", "the LSM mount context to restore with", cxxopts::value<std::string>());
  bool help = false;
  auto r = parse_go(opts, argc, argv,
                    {"image-path", "work-path", "manage-cgroups-mode", "empty-ns", "console-socket", "bundle", "pid-file",
                     "parent-path", "lsm-profile", "lsm-mount-context"},
                    {"h", "b", "d"}, help);
  if (help) return 0;
  RestoreOptions o;
  o.create.root = g.root;
  o.create.id = need_id(r, "restore");
  o.create.bundle = str(r, "bundle");
  o.create.pid_file = absolute(str(r, "pid-file"));
  o.create.console_socket = absolute(str(r, "console-socket"));
  o.create.systemd_cgroup = g.systemd_cgroup;
  o.create.rootless_cgroups = rootless_value(g);
  if (geteuid() != 0) dprintf(2, "oci-rt: warning: restore is untested with rootless containers\n");
  o.criu = g.criu;
  o.image_path = absolute(str(r, "image-path"));
  if (o.image_path.empty()) o.image_path = cwd_checkpoint();
  o.work_path = absolute(str(r, "work-path"));
  o.manage_cgroups_mode = str(r, "manage-cgroups-mode");
  if (r.count("empty-ns")) o.empty_ns = r["empty-ns"].as<std::vector<std::string>>();
  o.tcp_established = r.count("tcp-established");
  o.ext_unix_sk = r.count("ext-unix-sk");
  o.shell_job = r.count("shell-job");
  o.file_locks = r.count("file-locks");
  o.auto_dedup = r.count("auto-dedup");
  o.lazy_pages = r.count("lazy-pages");
  o.lsm_profile = str(r, "lsm-profile");
  o.lsm_mount_context = str(r, "lsm-mount-context");
  o.detach = r.count("detach");
  if (o.detach) {
    restore(o);
    return 0;
  }
  SignalsHeld held;
  Process p = restore(o);
  int code;
  try {
    code = wait_forwarding(p, held);
  } catch (...) {
    destroy(o.create.root, o.create.id, true);
    throw;
  }
  destroy(o.create.root, o.create.id, true);
  return code;
}

}  // namespace ocirt::cli
