// config.json text -> the typed spec: schema validation, parsing and the semantic rules, the
// one entry point `create` uses (spec::load). Anything but an ocirt::Error is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "ocirt/error.hpp"
#include "ocirt/spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    ocirt::spec::Config cfg = ocirt::spec::load(text);
    // an accepted config passes its own semantic rules again (they must not depend on state)
    ocirt::spec::validate_semantics(cfg);
  } catch (const ocirt::Error&) {
  }
  return 0;
}
