// State records, ids and signal names.
#include <doctest/doctest.h>

#include <csignal>

#include "ocirt/error.hpp"
#include "ocirt/state.hpp"

namespace ocirt::cli {
int parse_signal(const std::string& s);
}

TEST_CASE("container ids") {
  for (const char* ok : {"a", "abc-DEF_1.2+3", "0"}) CHECK_NOTHROW(ocirt::state::check_id(ok));
  for (const char* bad : {"", ".", "..", "../x", "a/b", "-a", "_a", "a b", "a\n"})
    CHECK_THROWS_AS(ocirt::state::check_id(bad), ocirt::Error);
  CHECK_NOTHROW(ocirt::state::check_id(std::string(1024, 'a')));
  CHECK_THROWS(ocirt::state::check_id(std::string(1025, 'a')));
}

TEST_CASE("state.json round trip keeps what cleanup needs") {
  ocirt::state::Record r;
  r.oci_version = "1.2.0";
  r.id = "x";
  r.status = ocirt::state::Status::Created;
  r.pid = 42;
  r.start_time = 123456789012ULL;
  r.bundle = "/b";
  r.rootfs = "/b/rootfs";
  r.annotations = {{"k", "v \"quoted\""}};
  r.cgroup_leaves = {"/sys/fs/cgroup/pids/x"};
  r.cgroup_created = {"/sys/fs/cgroup/pids/x"};
  r.poststop = {{"/bin/true", {"true", "a"}, {"E=1"}, 5}};
  r.has_process = false;
  auto back = ocirt::state::from_json(ocirt::state::to_json(r));
  CHECK(back.pid == 42);
  CHECK(back.start_time == 123456789012ULL);
  CHECK(back.annotations == r.annotations);
  CHECK(back.cgroup_created == r.cgroup_created);
  REQUIRE(back.poststop.size() == 1);
  CHECK(back.poststop[0].args == std::vector<std::string>{"true", "a"});
  CHECK(back.poststop[0].timeout == 5);
  CHECK(!back.has_process);
  CHECK(back.status == ocirt::state::Status::Created);
  CHECK_THROWS(ocirt::state::from_json("{"));
}

TEST_CASE("state.json numbers that do not fit their field read as absent (fuzz: state)") {
  // RapidJSON's GetInt64 on 1.5 or 1e50 asserts (or reads the double's bits without asserts)
  for (const char* pid : {"1.5", "4.2e50", "9223372036854775808", "-1e300"}) {
    auto r = ocirt::state::from_json(std::string(R"({"id":"x","status":"running","pid":)") + pid +
                                     R"(,"poststop":[{"path":"/h","timeout":)" + pid + "}]}");
    CHECK(r.pid == 0);
    REQUIRE(r.poststop.size() == 1);
    CHECK(!r.poststop[0].timeout);
  }
  CHECK(ocirt::state::from_json(R"({"id":"x","status":"running","pid":42})").pid == 42);
}

TEST_CASE("state output: pid 0 once stopped, annotations only when present") {
  ocirt::state::Record r;
  r.id = "x";
  r.pid = 42;
  auto running = ocirt::state::state_json(r, ocirt::state::Status::Running, false);
  CHECK(running.find("\"pid\":42") != std::string::npos);
  CHECK(running.find("annotations") == std::string::npos);
  CHECK(ocirt::state::state_json(r, ocirt::state::Status::Stopped, false).find("\"pid\":0") != std::string::npos);
}

TEST_CASE("signal names and numbers") {
  using ocirt::cli::parse_signal;
  CHECK(parse_signal("KILL") == SIGKILL);
  CHECK(parse_signal("SIGKILL") == SIGKILL);
  CHECK(parse_signal("term") == SIGTERM);
  CHECK(parse_signal("9") == 9);
  CHECK(parse_signal("SIGRTMIN+1") == SIGRTMIN + 1);
  CHECK_THROWS(parse_signal("NOPE"));
  CHECK(parse_signal("0") == 0);  // existence check, as runc and kill(1)
  CHECK_THROWS(parse_signal("-1"));
  CHECK_THROWS(parse_signal("999"));
}

TEST_CASE("state.json nested deeper than 1,000 levels is corrupt, refused before the parser recurses (fuzz: state)") {
  // 4,400 levels overflowed the stack of the ASan build in RapidJSON's recursive reader
  std::string deep = R"({"id":"x","status":"running","annotations":{"a":)" + std::string(200000, '[') +
                     std::string(200000, ']') + "}}";
  CHECK_THROWS_WITH(ocirt::state::from_json(deep), doctest::Contains("nested too deep"));
  std::string ok = R"({"id":"x","status":"running","x":)" + std::string(900, '[') + std::string(900, ']') + "}";
  CHECK(ocirt::state::from_json(ok).id == "x");
}
