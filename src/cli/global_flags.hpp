// The global options that take a value: where the command starts in argv depends on them. One
// table for main() and for the entry point (entry.cpp), which runs before libc is set up: so it
// is freestanding code (no libc, no relocated data: one string literal, read PC-relative).
#pragma once

namespace ocirt::cli {

static inline bool global_takes_value(const char* arg) {
  static constexpr char kFlags[] = "--root\0--log\0--log-format\0--criu\0--rootless\0";
  for (const char* f = kFlags; *f;) {
    const char* a = arg;
    const char* b = f;
    while (*a && *a == *b) ++a, ++b;
    if (*a == *b) return true;
    while (*f) ++f;
    ++f;
  }
  return false;
}

}  // namespace ocirt::cli
