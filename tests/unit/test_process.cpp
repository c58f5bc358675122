// Typed errors (kinds, fields, context; across the sync channel; in the CLI's words), exec's
// user parsing, id map text, status names. No root needed.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string>

#include "ocirt/container.hpp"
#include "ocirt/error.hpp"
#include "ocirt/state.hpp"
#include "src/cli/cli.hpp"
#include "src/linux/process.hpp"
#include "src/linux/sync.hpp"

using ocirt::Error;
using ocirt::ErrorKind;

TEST_CASE("errors: the kind follows errno unless given; a prefix keeps kind, field and errno") {
  CHECK(Error("x", EINVAL).kind() == ErrorKind::Invalid);
  CHECK(Error("x").kind() == ErrorKind::Invalid);
  CHECK(Error("x", EPERM).kind() == ErrorKind::System);
  Error e(ErrorKind::Timeout, "hooks.prestart[0]", "timed out after 1s", ETIMEDOUT);
  CHECK(std::string(e.what()) == "hooks.prestart[0]: timed out after 1s");
  e.prefix("create");
  CHECK(std::string(e.what()) == "create: hooks.prestart[0]: timed out after 1s");
  CHECK(e.kind() == ErrorKind::Timeout);
  CHECK(e.field() == "hooks.prestart[0]");
  CHECK(e.err() == ETIMEDOUT);
  e.prefix("outer");
  CHECK(e.context() == "outer: create: ");
  try {
    errno = 0;
    ocirt::throw_errno("open /x", ENOENT);
  } catch (const Error& t) {
    CHECK(t.kind() == ErrorKind::System);
    CHECK(t.err() == ENOENT);
    CHECK(std::string(t.what()) == "open /x: No such file or directory");
  }
}

TEST_CASE("errors cross the sync channel typed: kind, field, errno and text") {
  int sp[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0);
  auto round_trip = [&](const std::exception& sent) {
    ocirt::sync::send_error(sp[0], sent);
    ocirt::sync::Message m;
    REQUIRE(ocirt::sync::recv(sp[1], m));
    REQUIRE(m.type == ocirt::sync::Type::Error);
    return ocirt::sync::error_of(m);
  };
  Error got = round_trip(Error(ErrorKind::Invalid, "process.cwd", "\"/x\" is outside the container", EPERM));
  CHECK(got.kind() == ErrorKind::Invalid);
  CHECK(got.field() == "process.cwd");
  CHECK(got.err() == EPERM);
  CHECK(std::string(got.what()) == "process.cwd: \"/x\" is outside the container");
  // context in front of a field: the whole text travels, the field does not
  Error ctx(ErrorKind::System, "user", "gone", EIO);
  ctx.prefix("step");
  got = round_trip(ctx);
  CHECK(got.kind() == ErrorKind::System);
  CHECK(got.field().empty());
  CHECK(std::string(got.what()) == "step: user: gone");
  // anything else: Invalid, its text
  got = round_trip(std::runtime_error("plain"));
  CHECK(got.kind() == ErrorKind::Invalid);
  CHECK(std::string(got.what()) == "plain");
  // a child that names a kind we do not know is not trusted with it
  ocirt::sync::Message m{};
  m.type = ocirt::sync::Type::Error;
  m.kind = 99;
  CHECK(ocirt::sync::error_of(m).kind() == ErrorKind::Invalid);
  ::close(sp[0]);
  ::close(sp[1]);
}

TEST_CASE("the CLI's words: runc's for a missing container, our flags for the options named") {
  using ocirt::cli::error_words;
  CHECK(error_words(Error(ErrorKind::NotFound, "", "container x does not exist", ENOENT)) == "container does not exist");
  CHECK(error_words(Error(ErrorKind::Invalid, "console_socket", "given, but process.terminal is false", EINVAL)) ==
        "--console-socket: given, but process.terminal is false");
  CHECK(error_words(Error(ErrorKind::Invalid, "args", "a command to run is required", EINVAL)) ==
        "exec: a command to run is required (or --process)");
  CHECK(error_words(Error(ErrorKind::State, "ignore_paused", "cannot exec in a paused container", EINVAL)) ==
        "cannot exec in a paused container (use --ignore-paused to override)");
  Error ctx(ErrorKind::System, "pidfd_socket", "connect /s: No such file or directory", ENOENT);
  ctx.prefix("run");
  CHECK(error_words(ctx) == "run: --pidfd-socket: connect /s: No such file or directory");
  // a JSON path is the config's own name: as it is
  CHECK(error_words(Error(ErrorKind::Invalid, "process.cwd", "bad", EINVAL)) == "process.cwd: bad");
}

TEST_CASE("exec --user: numbers are ids, anything else a name the container resolves") {
  ocirt::ExecOptions o;
  ocirt::parse_exec_user("1000", o);
  CHECK(o.uid == 1000u);
  CHECK(!o.gid);
  CHECK(o.user_name.empty());
  ocirt::parse_exec_user("1000:5", o);
  CHECK(o.uid == 1000u);
  CHECK(o.gid == 5u);
  ocirt::parse_exec_user("nobody", o);
  CHECK(o.user_name == "nobody");
  CHECK(!o.uid);
  ocirt::parse_exec_user("1000:staff", o);  // a group name: resolved inside, with the uid
  CHECK(o.user_name == "1000:staff");
  CHECK(!o.uid);
  ocirt::parse_exec_user("4294967296", o);  // beyond 32 bits: not an id
  CHECK(o.user_name == "4294967296");
  for (const char* bad : {"", ":", ":5", "1000:", "nobody:"}) {
    INFO(bad);
    CHECK_THROWS_AS(ocirt::parse_exec_user(bad, o), Error);
  }
}

TEST_CASE("id maps: one line per mapping, as /proc/PID/uid_map takes them") {
  CHECK(ocirt::linux_::id_map_text({}).empty());
  CHECK(ocirt::linux_::id_map_text({{0, 100000, 65536}, {65536, 1000, 1}}) == "0 100000 65536\n65536 1000 1\n");
}

TEST_CASE("status names: every status survives state.json; an unknown one is refused") {
  using ocirt::state::Status;
  for (Status s : {Status::Creating, Status::Created, Status::Running, Status::Paused, Status::Stopped}) {
    ocirt::state::Record r;
    r.id = "x";
    r.status = s;
    CHECK(ocirt::state::from_json(ocirt::state::to_json(r)).status == s);
  }
  CHECK(std::string(ocirt::state::status_name(Status::Paused)) == "paused");
  std::string text = ocirt::state::to_json(ocirt::state::Record{});
  auto at = text.find("\"creating\"");
  REQUIRE(at != std::string::npos);
  text.replace(at, 10, "\"sleeping\"");
  CHECK_THROWS_AS(ocirt::state::from_json(text), Error);
}

TEST_CASE("config errors are Invalid and carry the JSON path as their field") {
  const std::string base = R"({"ociVersion":"1.2.0","root":{"path":"rootfs"},"process":{"cwd":"/","args":["sh"]},)";
  struct Case {
    const char* tail;
    const char* field;
  } cases[] = {
      {R"("linux":{"namespaces":[{"type":"foo"}]}})", "linux.namespaces[0].type"},
      {R"("mounts":[{"destination":"/x","type":"bind","source":"/y","options":["bogus"]}],"linux":{"namespaces":[{"type":"mount"}]}})",
       "mounts[0].options[0]"},
      {R"("hostname":"h"})", "hostname"},
  };
  for (auto& c : cases) {
    INFO(c.tail);
    try {
      ocirt::spec::load(base + c.tail);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::Invalid);
      CHECK(e.field() == c.field);
    }
  }
  try {
    ocirt::spec::load("{");
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Invalid);
    CHECK(e.field() == "config.json");
  }
}
