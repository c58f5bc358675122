// Hooks (real processes, no root needed): the state reaches a hook whole, however large, and a
// hook that never reads it costs nothing; the runtime's signal mask and dispositions are left
// as they were (the library touches no process-wide state of its caller).
#include <doctest/doctest.h>

#include <signal.h>

#include <string>

#include "ocirt/error.hpp"
#include "ocirt/hooks.hpp"

namespace {

ocirt::spec::Hook sh(const std::string& script) {
  ocirt::spec::Hook h;
  h.path = "/bin/sh";
  h.args = {"sh", "-c", script};
  h.timeout = 10;
  return h;
}

}  // namespace

TEST_CASE("hooks: the state arrives whole (small, larger than a pipe, larger than a pipe may grow)") {
  for (size_t size : {size_t(100), size_t(200 * 1024), size_t(3 * 1024 * 1024)}) {
    INFO(size);
    std::string state(size, 'x');
    // the hook fails on purpose to show what it read: its output is in the error
    try {
      ocirt::hooks::run({sh("n=$(wc -c); echo \"read $n\"; exit 3")}, state, "prestart");
      FAIL("the hook's failure was not reported");
    } catch (const ocirt::Error& e) {
      CHECK(std::string(e.what()).find("read " + std::to_string(size)) != std::string::npos);
      CHECK(e.field() == "hooks.prestart[0]");
      CHECK(e.kind() == ocirt::ErrorKind::Failed);
    }
  }
}

TEST_CASE("hooks: one that closes stdin unread succeeds; the caller's mask and SIGPIPE stay as they were") {
  sigset_t before, after;
  REQUIRE(::pthread_sigmask(SIG_SETMASK, nullptr, &before) == 0);
  struct sigaction old {};
  REQUIRE(::sigaction(SIGPIPE, nullptr, &old) == 0);
  std::string state(512 * 1024, 'y');
  CHECK_NOTHROW(ocirt::hooks::run({sh("exec <&-; exit 0")}, state, "poststart"));
  REQUIRE(::pthread_sigmask(SIG_SETMASK, nullptr, &after) == 0);
  CHECK(sigismember(&after, SIGPIPE) == sigismember(&before, SIGPIPE));
  sigset_t pending;
  sigpending(&pending);
  CHECK(!sigismember(&pending, SIGPIPE));
  struct sigaction now {};
  REQUIRE(::sigaction(SIGPIPE, nullptr, &now) == 0);
  CHECK(reinterpret_cast<void*>(now.sa_handler) == reinterpret_cast<void*>(old.sa_handler));
}

TEST_CASE("hooks: a timeout is its own kind") {
  auto h = sh("sleep 5");
  h.timeout = 1;
  try {
    ocirt::hooks::run({h}, "{}", "createRuntime");
    FAIL("no timeout");
  } catch (const ocirt::Error& e) {
    CHECK(e.kind() == ocirt::ErrorKind::Timeout);
    CHECK(std::string(e.what()).find("timed out after 1s") != std::string::npos);
  }
}
