// Small text helpers: RFC 3339 timestamps (state's "created", events) and joining a list.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ocirt::sys {

std::string now_rfc3339();
std::string join(const std::vector<std::string>& v, std::string_view sep);

}  // namespace ocirt::sys
