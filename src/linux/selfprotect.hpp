// Protection of the runtime binary against CVE-2019-5736 (see selfprotect.cpp).
#pragma once

namespace ocirt::linux_ {

// True when /proc/self/exe lives on a read-only mount.
bool binary_protected();
// Re-executes the current process from a detached read-only bind of its own binary, unless
// binary_protected(). Returns only if nothing needed to be done; throws on failure.
void reexec_protected(char** argv);

}  // namespace ocirt::linux_
