// Running OCI hooks (see include/ocirt/hooks.hpp): a hook's stdin, output, timeout, errors.
#include "ocirt/hooks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include <spdlog/spdlog.h>

#include "ocirt/error.hpp"
#include "ocirt/fd.hpp"
#include "src/linux/processes.hpp"

namespace ocirt::hooks {
namespace {

int64_t now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool write_all(int fd, const std::string& data) {
  for (size_t off = 0; off < data.size();) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// A hook's stdin: a pipe that holds the whole state before the hook starts, its write end
// closed, so no write of ours ever meets a reader that is gone (nothing to guard against
// SIGPIPE, which this process's caller owns) or waits on a hook that does not read. A state
// larger than the pipe will take comes from a memfd instead.
Fd state_input(const std::string& state, const std::string& where) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) throw_errno(where + ": pipe");
  Fd r(p[0]), w(p[1]);
  int cap = ::fcntl(w.get(), F_GETPIPE_SZ);
  if (cap >= 0 && static_cast<size_t>(cap) < state.size()) cap = ::fcntl(w.get(), F_SETPIPE_SZ, static_cast<int>(state.size()));
  if (cap >= 0 && static_cast<size_t>(cap) >= state.size() && write_all(w.get(), state)) {
    if (::fcntl(r.get(), F_SETFL, 0) < 0) throw_errno(where + ": pipe");  // the hook may read blocking
    return r;
  }
  Fd m(::memfd_create("hook-state", MFD_CLOEXEC));
  if (!m || !write_all(m.get(), state) || ::lseek(m.get(), 0, SEEK_SET) < 0) throw_errno(where + ": state for the hook");
  return m;
}

void run_one(const spec::Hook& h, const std::string& state, const std::string& where, const std::string& dir) {
  int out[2];
  Fd in_r = state_input(state, where);
  if (::pipe2(out, O_CLOEXEC) < 0) throw_errno(where + ": pipe");
  Fd out_r(out[0]), out_w(out[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_r.get(), 0);
  posix_spawn_file_actions_adddup2(&fa, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, out_w.get(), 2);
  // A hook gets the state on stdin and our stdout/stderr pipe, nothing else: not the log file,
  // not the caller's --preserve-fds (meant for the container), not the init's channels.
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  if (!dir.empty()) posix_spawn_file_actions_addchdir_np(&fa, dir.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<std::string> args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : h.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawn(&pid, h.path.c_str(), &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw_errno(where + ": error running hook " + h.path, rc);
  in_r.reset();
  out_w.reset();
  Fd pidfd(sys::pidfd_open(pid));
  std::string output;
  int64_t deadline = h.timeout ? now_ms() + int64_t(*h.timeout) * 1000 : -1;
  bool timed_out = false, out_open = true;
  for (;;) {
    struct pollfd pfd[2] = {{pidfd.get(), POLLIN, 0}, {out_open ? out_r.get() : -1, POLLIN, 0}};
    int timeout = deadline < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, deadline - now_ms()));
    int n = ::poll(pfd, 2, timeout);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      throw_errno(where + ": wait for " + h.path, e);
    }
    if (n == 0) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    if (pfd[1].revents) {
      char buf[4096];
      ssize_t r = ::read(out_r.get(), buf, sizeof buf);
      if (r <= 0) out_open = false;
      else if (output.size() < 65536) output.append(buf, r);
    }
    if (pfd[0].revents) break;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!timed_out) {  // collect what is left of the output
    char buf[4096];
    ssize_t r;
    int fl = fcntl(out_r.get(), F_GETFL);
    fcntl(out_r.get(), F_SETFL, fl | O_NONBLOCK);
    while (output.size() < 65536 && (r = ::read(out_r.get(), buf, sizeof buf)) > 0) output.append(buf, r);
  }
  while (!output.empty() && output.back() == '\n') output.pop_back();
  std::string tail = output.empty() ? "" : ", output: " + output;
  // runc's words ("error running hook", "signal: bad system call") after our field path
  const std::string hook = "error running hook (" + h.path + "): ";
  if (timed_out)
    throw Error(ErrorKind::Timeout, where, hook + "timed out after " + std::to_string(*h.timeout) + "s" + tail, ETIMEDOUT);
  if (WIFSIGNALED(status)) {
    std::string name = strsignal(WTERMSIG(status));
    for (auto& ch : name) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
    throw Error(ErrorKind::Failed, where, hook + "signal: " + name + " (" + std::to_string(WTERMSIG(status)) + ")" + tail,
                ECHILD);
  }
  if (WEXITSTATUS(status) != 0)
    throw Error(ErrorKind::Failed, where, hook + "exit status " + std::to_string(WEXITSTATUS(status)) + tail, ECHILD);
}

}  // namespace

void run(const std::vector<spec::Hook>& list, const std::string& state_json, const char* phase, const std::string& dir) {
  for (size_t i = 0; i < list.size(); ++i)
    run_one(list[i], state_json, std::string("hooks.") + phase + "[" + std::to_string(i) + "]", dir);
}

void run_warn(const std::vector<spec::Hook>& list, const std::string& state_json, const char* phase,
              const std::string& dir) {
  for (size_t i = 0; i < list.size(); ++i) {
    try {
      run_one(list[i], state_json, std::string("hooks.") + phase + "[" + std::to_string(i) + "]", dir);
    } catch (const Error& e) {
      spdlog::warn("{}", e.what());
    }
  }
}

}  // namespace ocirt::hooks
