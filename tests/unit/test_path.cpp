// The path module (src/common/path.cpp): splitting, "..", cleaning inside a root.
#include <doctest/doctest.h>

#include <string>

#include "src/common/path.hpp"

using namespace ocirt;
using V = std::vector<std::string_view>;

TEST_CASE("path: split keeps the non-empty pieces, in order") {
  CHECK(path::split("/a//b/", '/') == V{"a", "b"});
  CHECK(path::split("cpu,cpuacct", ',') == V{"cpu", "cpuacct"});
  CHECK(path::split("", '/').empty());
  CHECK(path::split("///", '/').empty());
  CHECK(path::split("a/./../b", '/') == V{"a", ".", "..", "b"});
  CHECK(path::components("a/./../b/.") == V{"a", "..", "b"});
}

TEST_CASE("path: has_dotdot looks at whole components only") {
  CHECK(path::has_dotdot(".."));
  CHECK(path::has_dotdot("/a/../b"));
  CHECK(path::has_dotdot("a/.."));
  CHECK_FALSE(path::has_dotdot("/a..b/c"));
  CHECK_FALSE(path::has_dotdot("/a/.../b"));
  CHECK_FALSE(path::has_dotdot("/a/./b"));
  CHECK_FALSE(path::has_dotdot(""));
}

TEST_CASE("path: clean_in_root never leaves the root") {
  CHECK(path::clean_in_root("a/../../b/.") == "/b");
  CHECK(path::clean_in_root("/../../etc/passwd") == "/etc/passwd");
  CHECK(path::clean_in_root("/x/y/../z//") == "/x/z");
  CHECK(path::clean_in_root("") == "/");
  CHECK(path::clean_in_root("/..") == "/");
  CHECK(path::clean_in_root("./a/./b") == "/a/b");
}

TEST_CASE("path: below_root refuses \"..\", gives \"\" for the root") {
  CHECK(path::below_root("a//./b/") == "/a/b");
  CHECK(path::below_root("/") == "");
  CHECK(path::below_root("") == "");
  CHECK_FALSE(path::below_root("/a/../b").has_value());
  CHECK_FALSE(path::below_root("..").has_value());
  CHECK(path::join({}) == "/");
  CHECK(path::join({"a", "b"}) == "/a/b");
}
