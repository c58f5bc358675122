// Signal names (KILL, SIGKILL, kill, RTMIN+n) and numbers, as runc accepts them.
#include <signal.h>
#include <string.h>

#include <cctype>
#include <cstdlib>

#include "ocirt/error.hpp"
#include "src/cli/cli.hpp"

namespace ocirt::cli {

int parse_signal(const std::string& s) {
  if (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0]))) {
    char* end;
    long n = strtol(s.c_str(), &end, 10);
    // 0 checks that the process exists (kill(2)); runc accepts it
    if (*end || n < 0 || n > SIGRTMAX) throw Error("invalid signal \"" + s + "\"", EINVAL);
    return static_cast<int>(n);
  }
  std::string name;
  for (char c : s) name += static_cast<char>(toupper(static_cast<unsigned char>(c)));
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  for (int i = 1; i < NSIG; ++i) {
    const char* abbrev = sigabbrev_np(i);
    if (abbrev && name == abbrev) return i;
  }
  if (name.rfind("RTMIN", 0) == 0 || name.rfind("RTMAX", 0) == 0) {
    int off = name.size() > 5 ? atoi(name.c_str() + 5) : 0;
    int n = name[2] == 'M' && name[3] == 'I' ? SIGRTMIN + off : SIGRTMAX + off;
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw Error("invalid signal \"" + s + "\"", EINVAL);
}

}  // namespace ocirt::cli
