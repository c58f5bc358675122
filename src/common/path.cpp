// Lexical path handling (see path.hpp): splitting, "..", cleaning inside a root.
#include "src/common/path.hpp"

namespace ocirt::path {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  each_piece(s, sep, [&](std::string_view p) {
    out.push_back(p);
    return false;
  });
  return out;
}

std::vector<std::string_view> components(std::string_view p) {
  std::vector<std::string_view> out = split(p, '/');
  std::erase(out, std::string_view("."));
  return out;
}

bool has_dotdot(std::string_view p) {
  return each_piece(p, '/', [](std::string_view c) { return c == ".."; });
}

std::string join(const std::vector<std::string_view>& parts) {
  if (parts.empty()) return "/";
  std::string out;
  for (std::string_view c : parts) {
    out += '/';
    out += c;
  }
  return out;
}

std::string clean_in_root(std::string_view p) {
  std::vector<std::string_view> parts = components(p);
  size_t n = 0;  // compacted in place: parts[0, n) is the cleaned path so far
  for (std::string_view c : parts) {
    if (c != "..") parts[n++] = c;
    else if (n > 0) --n;
  }
  parts.resize(n);
  return join(parts);
}

std::optional<std::string> below_root(std::string_view p) {
  std::vector<std::string_view> parts = components(p);
  for (std::string_view c : parts)
    if (c == "..") return std::nullopt;
  return parts.empty() ? std::string() : join(parts);
}

}  // namespace ocirt::path
