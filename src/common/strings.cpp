// Timestamps and joined lists (see strings.hpp).
#include "src/common/strings.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace ocirt::sys {

std::string now_rfc3339() {
  // Calendar arithmetic from <chrono>, not gmtime_r/strftime: glibc's first time conversion of a
  // process runs tzset(), which opens and parses /etc/localtime even for UTC.
  using namespace std::chrono;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  const sys_seconds t{seconds{ts.tv_sec}};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  char buf[64];
  snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%09ldZ", static_cast<int>(ymd.year()),
           static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
           static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()), ts.tv_nsec);
  return buf;
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

}  // namespace ocirt::sys
