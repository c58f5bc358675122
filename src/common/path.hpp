// Lexical path handling, pure (no system call): the one place that splits a path into its
// components. Used by the in-root resolution (src/linux/in_root.cpp), the cgroup planning
// (src/cgroups/manager.cpp) and config validation (src/spec/validate.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocirt::path {

// f(piece) for each non-empty piece of s between separators, in order, until f returns true;
// true if one did. Allocates nothing: the one splitter the functions below are made of.
template <class F>
bool each_piece(std::string_view s, char sep, F&& f) {
  for (size_t i = 0; i < s.size();) {
    size_t j = s.find(sep, i);
    if (j == std::string_view::npos) j = s.size();
    if (j > i && f(s.substr(i, j - i))) return true;
    i = j + 1;
  }
  return false;
}
// The non-empty pieces of s between separators, in order, as views into s:
// split("/a//b/", '/') == {"a", "b"}; split("cpu,cpuacct", ',') == {"cpu", "cpuacct"}.
std::vector<std::string_view> split(std::string_view s, char sep);
// split(p, '/') without the "." components; ".." is kept.
std::vector<std::string_view> components(std::string_view p);
// Some component of p is exactly "..".
bool has_dotdot(std::string_view p);
// "/" followed by the parts joined with "/" ("/" when there are none).
std::string join(const std::vector<std::string_view>& parts);
// p lexically cleaned as inside a root: "." and empty components dropped, ".." removes the
// component before it and never goes above the root (as RESOLVE_IN_ROOT does). Always
// absolute: clean_in_root("a/../../b/.") == "/b".
std::string clean_in_root(std::string_view p);
// p as a path strictly below a root ("/a/b"), "" for the root itself; nullopt when p has a ".."
// component (refused, never resolved): below_root("a//./b/") == "/a/b".
std::optional<std::string> below_root(std::string_view p);

}  // namespace ocirt::path
