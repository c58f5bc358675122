// create, run, start, kill, delete, exec.
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <cxxopts.hpp>

#include "ocirt/container.hpp"
#include "ocirt/error.hpp"
#include "ocirt/spec.hpp"
#include "src/cli/cli.hpp"

namespace ocirt::cli {

namespace {


void add_create_options(cxxopts::Options& o) {
  o.add_options()("b,bundle", "path to the bundle directory", cxxopts::value<std::string>()->default_value("."))(
      "pid-file", "write the container process's pid to this file", cxxopts::value<std::string>())(
      "console-socket", "AF_UNIX socket that receives the pty master", cxxopts::value<std::string>())(
      "no-pivot", "use chroot (MS_MOVE) instead of pivot_root")("no-new-keyring",
                                                                "keep the caller's session keyring")(
      "preserve-fds", "pass N more fds (3..3+N-1) to the container", cxxopts::value<int>()->default_value("0"))(
      "pidfd-socket", "AF_UNIX socket that receives a pidfd of the container's init", cxxopts::value<std::string>())(
      "id", "container id", cxxopts::value<std::string>());
  o.parse_positional({"id"});
}

CreateOptions create_options(const Global& g, const cxxopts::ParseResult& r, const char* cmd) {
  CreateOptions o;
  o.root = g.root;
  o.id = need_id(r, cmd);
  o.bundle = r["bundle"].as<std::string>();
  if (r.count("pid-file")) o.pid_file = r["pid-file"].as<std::string>();
  if (r.count("console-socket")) o.console_socket = r["console-socket"].as<std::string>();
  if (r.count("pidfd-socket")) o.pidfd_socket = r["pidfd-socket"].as<std::string>();
  if (const char* ns = getenv("NOTIFY_SOCKET"); ns && *ns) o.notify_socket = ns;  // sd_notify, as runc
  o.systemd_cgroup = g.systemd_cgroup;  // later commands use the driver the container was made with
  o.rootless_cgroups = rootless_value(g);
  o.no_pivot = r.count("no-pivot");
  o.no_new_keyring = r.count("no-new-keyring");
  o.preserve_fds = r["preserve-fds"].as<int>();
  if (o.preserve_fds < 0) throw Error("--preserve-fds: must not be negative", EINVAL);
  // Socket activation (LISTEN_FDS for us: LISTEN_PID is our pid): passed on, as runc does.
  const char* lf = getenv("LISTEN_FDS");
  const char* lp = getenv("LISTEN_PID");
  if (lf && lp && atoi(lp) == getpid() && atoi(lf) > 0) o.preserve_fds += atoi(lf);
  return o;
}

}  // namespace

int cmd_create(const Global& g, int argc, char** argv) {
  cxxopts::Options opts("oci-rt create", "create a container from a bundle; it waits for 'oci-rt start'");
  add_create_options(opts);
  cxxopts::ParseResult r;
  if (!parse(opts, argc, argv, r, "<container-id>")) return 0;
  create(create_options(g, r, "create"));
  return 0;
}

int cmd_run(const Global& g, int argc, char** argv) {
  cxxopts::Options opts("oci-rt run", "create and start a container, wait for it and delete it");
  add_create_options(opts);
  opts.add_options()("d,detach", "return once the container is started")(
      "keep", "do not delete the container after it exits")(
      "no-subreaper", "accepted for runc's callers; oci-rt never makes itself a subreaper");
  cxxopts::ParseResult r;
  if (!parse(opts, argc, argv, r, "<container-id>")) return 0;
  CreateOptions o = create_options(g, r, "run");
  if (r.count("detach")) {
    ocirt::run(o);
    return 0;
  }
  const bool keep = r.count("keep");
  SignalsHeld held;  // from before the init exists until the teardown is over
  Process p = run_attached(o, keep);
  int code;
  try {
    code = wait_forwarding(p, held);
  } catch (...) {
    if (!keep) destroy(o.root, o.id, true);
    throw;
  }
  if (!keep) destroy(o.root, o.id, true);  // a container deleted meanwhile is no error
  return code;
}

int cmd_start(const Global& g, int argc, char** argv) {
  cxxopts::Options opts("oci-rt start", "start a created container (exec its process)");
  cxxopts::ParseResult r;
  if (!parse_id(opts, argc, argv, r, "<container-id>")) return 0;
  const char* ns = getenv("NOTIFY_SOCKET");
  start(g.root, need_id(r, "start"), ns ? ns : "");
  return 0;
}

int cmd_kill(const Global& g, int argc, char** argv) {
  cxxopts::Options opts("oci-rt kill", "send a signal (default SIGTERM) to the container's init");
  opts.add_options()("a,all", "send it to every process in the container's cgroup")(
      "id", "container id", cxxopts::value<std::string>())("signal", "signal", cxxopts::value<std::string>());
  opts.parse_positional({"id", "signal"});
  cxxopts::ParseResult r;
  if (!parse(opts, argc, argv, r, "<container-id> [signal]")) return 0;
  int sig = r.count("signal") ? parse_signal(r["signal"].as<std::string>()) : SIGTERM;
  ocirt::kill(g.root, need_id(r, "kill"), sig, r.count("all"));
  return 0;
}

int cmd_delete(const Global& g, int argc, char** argv) {
  cxxopts::Options opts("oci-rt delete", "delete a container and everything it holds");
  opts.add_options()("f,force", "kill a running container first; a missing one is not an error")(
      "id", "container id", cxxopts::value<std::string>());
  opts.parse_positional({"id"});
  cxxopts::ParseResult r;
  if (!parse(opts, argc, argv, r, "<container-id>")) return 0;
  destroy(g.root, need_id(r, "delete"), r.count("force"));
  return 0;
}

}  // namespace ocirt::cli

namespace ocirt::cli {

int cmd_exec(const Global& g, int argc, char** argv) {
  cxxopts::Options opts("oci-rt exec", "run a new process in a created or running container");
  opts.add_options()("p,process", "path to a process.json", cxxopts::value<std::string>())(
      "cwd", "working directory of the process", cxxopts::value<std::string>())(
      "e,env", "add an environment variable KEY=value", cxxopts::value<std::vector<std::string>>())(
      "u,user", "uid[:gid] of the process", cxxopts::value<std::string>())(
      "g,additional-gids", "an additional group id", cxxopts::value<std::vector<uint32_t>>())(
      "c,cap", "add a capability (bounding, effective, permitted)", cxxopts::value<std::vector<std::string>>())(
      "no-new-privs", "set no_new_privs")("apparmor", "AppArmor profile", cxxopts::value<std::string>())(
      "process-label", "SELinux label", cxxopts::value<std::string>())(
      "cgroup", "join this sub-cgroup of the container's: PATH or CONTROLLER[,CONTROLLER]:PATH (repeatable)",
      cxxopts::value<std::vector<std::string>>())(
      "preserve-fds", "pass N more fds (3..3+N-1)", cxxopts::value<int>()->default_value("0"))(
      "ignore-paused", "allow exec in a paused container")("d,detach", "return once the process started")(
      "pid-file", "write the process's pid to this file", cxxopts::value<std::string>())(
      "t,tty", "allocate a terminal (with --console-socket)")(
      "console-socket", "AF_UNIX socket that receives the pty master", cxxopts::value<std::string>())(
      "pidfd-socket", "AF_UNIX socket that receives a pidfd of the process", cxxopts::value<std::string>())(
      "h,help", "show this help");
  opts.custom_help("[options]");
  opts.positional_help("<container-id> <command> [args...]");
  // Options end at the container id; everything after it is the command (runc does the same).
  static const char* with_value[] = {"-p", "--process", "--cwd", "-e", "--env", "-u", "--user", "-g",
                                     "--additional-gids", "-c", "--cap", "--apparmor", "--process-label",
                                     "--cgroup", "--preserve-fds", "--pid-file", "--console-socket",
                                     "--pidfd-socket"};
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") { ++i; break; }
    if (a.empty() || a[0] != '-') break;
    if (a.find('=') != std::string::npos) continue;
    for (const char* v : with_value)
      if (a == v) { ++i; break; }
  }
  auto r = opts.parse(std::min(i, argc), argv);
  if (r.count("help")) {
    out(help_text(opts));
    return 0;
  }
  if (i >= argc) throw Error("exec: a container id is required", EINVAL);
  ExecOptions o;
  o.root = g.root;
  o.id = argv[i];
  for (int k = i + 1; k < argc; ++k) o.args.push_back(argv[k]);
  auto str = [&](const char* k, std::string& dst) {
    if (r.count(k)) dst = r[k].as<std::string>();
  };
  if (r.count("process")) {
    std::string file = r["process"].as<std::string>();
    std::string text = read_input(file, "--process " + file);
    try {
      o.process = spec::load_process(text);
    } catch (Error& e) {
      e.prefix("--process " + file);
      throw;
    }
  }
  str("cwd", o.cwd);
  if (r.count("user")) parse_exec_user(r["user"].as<std::string>(), o);
  str("apparmor", o.apparmor);
  str("process-label", o.process_label);
  if (r.count("cgroup")) o.cgroups = r["cgroup"].as<std::vector<std::string>>();
  str("pid-file", o.pid_file);
  str("console-socket", o.console_socket);
  str("pidfd-socket", o.pidfd_socket);
  if (r.count("env")) o.env = r["env"].as<std::vector<std::string>>();
  if (r.count("cap")) o.caps = r["cap"].as<std::vector<std::string>>();
  if (r.count("additional-gids")) o.additional_gids = r["additional-gids"].as<std::vector<uint32_t>>();
  o.no_new_privs = r.count("no-new-privs");
  o.ignore_paused = r.count("ignore-paused");
  o.detach = r.count("detach");
  o.tty = r.count("tty");
  o.preserve_fds = r["preserve-fds"].as<int>();
  if (o.preserve_fds < 0) throw Error("--preserve-fds: must not be negative", EINVAL);
  if (o.detach) {
    exec(o);
    return 0;
  }
  SignalsHeld held;  // from before the process exists
  Process p = exec(o);
  return wait_forwarding(p, held);
}

}  // namespace ocirt::cli
