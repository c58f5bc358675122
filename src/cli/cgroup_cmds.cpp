// pause, resume, ps, update, events: the commands that work on the container's cgroup.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <cxxopts.hpp>

#include <spdlog/spdlog.h>

#include "ocirt/cgroups.hpp"
#include "ocirt/container.hpp"
#include "ocirt/error.hpp"
#include "src/cli/cli.hpp"

namespace ocirt::cli {
namespace {

// Go's time.ParseDuration for what people type: 5s, 100ms, 1m30s, 1.5s.
int parse_duration_ms(const std::string& s) {
  double total = 0;
  const char* p = s.c_str();
  if (!*p) throw Error("--interval: empty duration", EINVAL);
  while (*p) {
    char* end;
    double v = strtod(p, &end);
    if (end == p) throw Error("--interval: \"" + s + "\" is not a duration (e.g. 5s, 500ms)", EINVAL);
    p = end;
    std::string unit;
    while (*p && (isalpha(static_cast<unsigned char>(*p)) || static_cast<unsigned char>(*p) == 0xc2 ||
                  static_cast<unsigned char>(*p) == 0xb5))
      unit += *p++;
    double ms;
    if (unit == "ns") ms = v / 1e6;
    else if (unit == "us" || unit == "\xc2\xb5s") ms = v / 1e3;
    else if (unit == "ms") ms = v;
    else if (unit == "s") ms = v * 1e3;
    else if (unit == "m") ms = v * 60e3;
    else if (unit == "h") ms = v * 3600e3;
    else throw Error("--interval: \"" + s + "\" has no valid unit (ns, us, ms, s, m, h)", EINVAL);
    total += ms;
  }
  if (total < 1) throw Error("--interval: must be at least 1ms", EINVAL);
  return static_cast<int>(std::min(total, 2e9));
}

}  // namespace

int cmd_pause(const Global& g, int argc, char** argv) {
  cxxopts::Options opts("oci-rt pause", "suspend every process in the container (cgroup freezer)");
  cxxopts::ParseResult r;
  if (!parse_id(opts, argc, argv, r, "<container-id>")) return 0;
  pause(g.root, need_id(r, "pause"));
  return 0;
}

int cmd_resume(const Global& g, int argc, char** argv) {
  cxxopts::Options opts("oci-rt resume", "resume every process of a paused container");
  cxxopts::ParseResult r;
  if (!parse_id(opts, argc, argv, r, "<container-id>")) return 0;
  resume(g.root, need_id(r, "resume"));
  return 0;
}

// runc's ps: `ps [--format table|json] <id> [ps options]`. The ps options follow the id
// and go to ps(1) (default -ef); its rows are filtered to the container's processes.
int cmd_ps(const Global& g, int argc, char** argv) {
  std::string format = "table", id;
  std::vector<std::string> ps_args;
  static const char* help =
      "Usage: oci-rt ps [options] <container-id> [ps options]\n\n"
      "Show the processes running in a container.\n\n"
      "  -f, --format FORMAT  table (ps output, default) or json (an array of pids)\n"
      "  -h, --help           show this help\n\n"
      "ps options are passed to ps(1) (default: -ef).\n";
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      out(help);
      return 0;
    }
    if (a == "-f" || a == "--format") {
      if (i + 1 >= argc) throw Error("--format: needs a value (table or json)", EINVAL);
      format = argv[++i];
    } else if (a.rfind("--format=", 0) == 0) {
      format = a.substr(9);
    } else if (a == "--") {
      continue;
    } else if (!a.empty() && a[0] == '-') {
      throw Error("ps: unknown option " + a + " (ps options go after the container id)", EINVAL);
    } else {
      id = a;
      ++i;
      break;
    }
  }
  for (; i < argc; ++i)
    if (std::string(argv[i]) != "--" || !ps_args.empty()) ps_args.push_back(argv[i]);
  if (id.empty()) throw Error("ps: a container id is required", EINVAL);
  if (format != "table" && format != "json") throw Error("--format: must be table or json", EINVAL);
  auto list = pids(g.root, id);
  if (format == "json") {
    std::string s = "[";
    for (size_t k = 0; k < list.size(); ++k) s += (k ? "," : "") + std::to_string(list[k]);
    out(s + "]\n");
    return 0;
  }
  // ps(1) with ARGS: its exit status, its stdout in TEXT
  auto run_ps = [](const std::vector<std::string>& args, std::string& text, bool quiet) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) throw_errno("ps: pipe");
    pid_t child = ::fork();
    if (child < 0) {
      ::close(p[0]);
      ::close(p[1]);
      throw_errno("ps: fork");
    }
    if (child == 0) {
      ::dup2(p[1], 1);
      if (quiet) {  // the quick try: a ps that does not know -q says nothing, -ef follows
        int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null >= 0) ::dup2(null, 2);
      }
      std::vector<char*> av = {const_cast<char*>("ps")};
      for (auto& a : args) av.push_back(const_cast<char*>(a.c_str()));
      av.push_back(nullptr);
      ::execvp("ps", av.data());
      dprintf(2, "oci-rt: ps: exec ps: %s\n", strerror(errno));
      _exit(127);
    }
    ::close(p[1]);
    try {
      text = read_fd(p[0], "ps: read the output of ps");
    } catch (...) {
      ::close(p[0]);
      throw;
    }
    ::close(p[0]);
    int st = 0;
    while (::waitpid(child, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  };
  std::string text;
  int st = -1;
  if (ps_args.empty() && !list.empty()) {
    // runc's default is `ps -ef`, filtered below; procps reads every process on the host for
    // that (even with -p), so `ps` got slower as the host filled (contrib/bench/scale.sh). The
    // same columns for the container's pids only: `-f -q PIDS` (procps >= 3.3.7's quick mode).
    // Any failure (another ps, or all the pids gone: status 1) falls back to -ef.
    std::string ps_pids;
    for (size_t k = 0; k < list.size(); ++k) ps_pids += (k ? "," : "") + std::to_string(list[k]);
    st = run_ps({"-f", "-q", ps_pids}, text, true);
    ps_args = {"-ef"};
  }
  if (ps_args.empty()) ps_args = {"-ef"};
  if (st != 0) st = run_ps(ps_args, text, false);
  if (st != 0) throw Error("ps: ps " + ps_args[0] + " failed", ECHILD);
  // the PID column: where "PID" sits in the header
  size_t nl = text.find('\n');
  std::string header = text.substr(0, nl);
  size_t col = std::string::npos;
  {
    size_t pos = 0, field = 0;
    while (pos < header.size()) {
      while (pos < header.size() && header[pos] == ' ') ++pos;
      size_t end = header.find(' ', pos);
      if (end == std::string::npos) end = header.size();
      if (header.substr(pos, end - pos) == "PID") {
        col = field;
        break;
      }
      ++field;
      pos = end;
    }
  }
  if (col == std::string::npos) throw Error("ps: no PID column in the output of ps (add -o pid,...)", EINVAL);
  std::string result = header + "\n";
  size_t pos = nl == std::string::npos ? text.size() : nl + 1;
  while (pos < text.size()) {
    size_t e = text.find('\n', pos);
    if (e == std::string::npos) e = text.size();
    std::string line = text.substr(pos, e - pos);
    pos = e + 1;
    size_t q = 0, field = 0;
    std::string value;
    while (q < line.size()) {
      while (q < line.size() && line[q] == ' ') ++q;
      size_t end = line.find(' ', q);
      if (end == std::string::npos) end = line.size();
      if (field++ == col) {
        value = line.substr(q, end - q);
        break;
      }
      q = end;
    }
    pid_t pid = static_cast<pid_t>(atoi(value.c_str()));
    for (pid_t x : list)
      if (x == pid) {
        result += line + "\n";
        break;
      }
  }
  out(result);
  return 0;
}

int cmd_update(const Global& g, int argc, char** argv) {
  cxxopts::Options opts("oci-rt update", "change the resource limits of a live container");
  opts.add_options()("r,resources", "a LinuxResources JSON file (- for stdin); flags override it",
                     cxxopts::value<std::string>())(
      "blkio-weight", "block IO weight (10-1000)", cxxopts::value<uint16_t>())(
      "cpu-period", "CFS period in microseconds", cxxopts::value<uint64_t>())(
      "cpu-quota", "CFS quota in microseconds per period (-1: none)", cxxopts::value<int64_t>())(
      "cpu-burst", "CFS burst in microseconds", cxxopts::value<uint64_t>())(
      "cpu-share", "CPU shares (relative weight)", cxxopts::value<uint64_t>())(
      "cpu-rt-period", "real-time period in microseconds", cxxopts::value<uint64_t>())(
      "cpu-rt-runtime", "real-time runtime in microseconds", cxxopts::value<int64_t>())(
      "cpu-idle", "1: SCHED_IDLE for the cgroup", cxxopts::value<int64_t>())(
      "cpuset-cpus", "CPUs allowed (0-3, 0,1)", cxxopts::value<std::string>())(
      "cpuset-mems", "memory nodes allowed", cxxopts::value<std::string>())(
      "memory", "memory limit (bytes, or 512k, 256m, 1g; -1: none)", cxxopts::value<std::string>())(
      "memory-reservation", "memory soft limit", cxxopts::value<std::string>())(
      "memory-swap", "memory plus swap limit (-1: none)", cxxopts::value<std::string>())(
      "kernel-memory", "kernel memory limit (deprecated; v1 only)", cxxopts::value<std::string>())(
      "kernel-memory-tcp", "kernel TCP buffer limit (v1 only)", cxxopts::value<std::string>())(
      "pids-limit", "maximum number of processes (0 or -1: none)", cxxopts::value<int64_t>())(
      "l3-cache-schema", "Intel RDT L3 schema (not supported)", cxxopts::value<std::string>())(
      "mem-bw-schema", "Intel RDT memory bandwidth schema (not supported)", cxxopts::value<std::string>());
  cxxopts::ParseResult r;
  if (!parse_id(opts, argc, argv, r, "<container-id>")) return 0;
  std::string id = need_id(r, "update");
  if (r.count("l3-cache-schema") || r.count("mem-bw-schema"))
    throw Error("--l3-cache-schema/--mem-bw-schema: Intel RDT is not supported by oci-rt", ENOTSUP);
  spec::Resources res;
  if (r.count("resources")) {
    res = spec::load_resources(read_input(r["resources"].as<std::string>(), "--resources"));
  }
  auto bytes = [&](const char* flag) {
    try {
      return cgroups::parse_bytes(r[flag].as<std::string>());
    } catch (Error& e) {
      e.prefix(std::string("--") + flag);
      throw;
    }
  };
  auto cpu = [&]() -> spec::CpuResources& {
    if (!res.cpu) res.cpu.emplace();
    return *res.cpu;
  };
  auto mem = [&]() -> spec::MemoryResources& {
    if (!res.memory) res.memory.emplace();
    return *res.memory;
  };
  if (r.count("blkio-weight")) {
    if (!res.block_io) res.block_io.emplace();
    res.block_io->weight = r["blkio-weight"].as<uint16_t>();
  }
  if (r.count("cpu-period")) cpu().period = r["cpu-period"].as<uint64_t>();
  if (r.count("cpu-quota")) cpu().quota = r["cpu-quota"].as<int64_t>();
  if (r.count("cpu-burst")) cpu().burst = r["cpu-burst"].as<uint64_t>();
  if (r.count("cpu-share")) cpu().shares = r["cpu-share"].as<uint64_t>();
  if (r.count("cpu-rt-period")) cpu().realtime_period = r["cpu-rt-period"].as<uint64_t>();
  if (r.count("cpu-rt-runtime")) cpu().realtime_runtime = r["cpu-rt-runtime"].as<int64_t>();
  if (r.count("cpu-idle")) cpu().idle = r["cpu-idle"].as<int64_t>();
  if (r.count("cpuset-cpus")) cpu().cpus = r["cpuset-cpus"].as<std::string>();
  if (r.count("cpuset-mems")) cpu().mems = r["cpuset-mems"].as<std::string>();
  if (r.count("memory")) mem().limit = bytes("memory");
  if (r.count("memory-reservation")) mem().reservation = bytes("memory-reservation");
  if (r.count("memory-swap")) mem().swap = bytes("memory-swap");
  if (r.count("kernel-memory")) mem().kernel = bytes("kernel-memory");
  if (r.count("kernel-memory-tcp")) mem().kernel_tcp = bytes("kernel-memory-tcp");
  if (r.count("pids-limit")) res.pids_limit = r["pids-limit"].as<int64_t>();
  for (auto& w : update(g.root, id, res)) spdlog::warn("{}", w);
  return 0;
}

int cmd_events(const Global& g, int argc, char** argv) {
  cxxopts::Options opts("oci-rt events", "print the container's stats and OOM events as JSON lines");
  opts.add_options()("interval", "time between stats (e.g. 5s, 500ms)",
                     cxxopts::value<std::string>()->default_value("5s"))("stats", "print the stats once and exit");
  cxxopts::ParseResult r;
  if (!parse_id(opts, argc, argv, r, "<container-id>")) return 0;
  std::string id = need_id(r, "events");
  int ms = parse_duration_ms(r["interval"].as<std::string>());
  if (r.count("stats")) {
    out(stats_event(g.root, id) + "\n");
    return 0;
  }
  events(g.root, id, ms, [](const std::string& line) { out(line + "\n"); });
  return 0;
}

}  // namespace ocirt::cli
