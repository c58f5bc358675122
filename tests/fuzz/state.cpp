// state.json text -> state::Record (what every command after create reads). Anything but an
// ocirt::Error is a finding, and an accepted record must survive to_json -> from_json unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "ocirt/error.hpp"
#include "ocirt/state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  ocirt::state::Record r;
  try {
    r = ocirt::state::from_json(text);
  } catch (const ocirt::Error&) {
    return 0;
  }
  std::string once = ocirt::state::to_json(r);
  std::string twice;
  try {
    twice = ocirt::state::to_json(ocirt::state::from_json(once));
  } catch (const ocirt::Error& e) {
    fprintf(stderr, "to_json output refused by from_json: %s\n%s\n", e.what(), once.c_str());
    abort();
  }
  if (once != twice) {
    fprintf(stderr, "round trip differs:\n%s\n%s\n", once.c_str(), twice.c_str());
    abort();
  }
  (void)ocirt::state::state_json(r, r.status, false);
  return 0;
}
