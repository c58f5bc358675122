// Transitional: util.cpp was split by noun. This header only gathers the new ones for the files
// still being rewritten elsewhere (container.cpp, cli/, process.cpp, exec.cpp, init.cpp,
// console.cpp, hooks/, state/); include the header you need instead. Removed on merge.
#pragma once

#include "src/common/strings.hpp"
#include "src/linux/fd_passing.hpp"
#include "src/linux/files.hpp"
#include "src/linux/in_root.hpp"
#include "src/linux/inherited.hpp"
#include "src/linux/procfs.hpp"
#include "src/linux/processes.hpp"
