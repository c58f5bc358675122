// Mount options: one table for what the runtime does with each option and for what `features`
// says exists. Fail closed: an option not in the table is filesystem data, which a bind mount
// would ignore, so on a bind mount it is an error (validate.cpp), never silently dropped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ocirt::spec {

struct MountOptions {
  unsigned long flags = 0;        // mount(2) flags to set
  unsigned long clear = 0;        // mount(2) flags explicitly turned off (rw, suid, ...)
  unsigned long propagation = 0;  // MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE [|MS_REC]
  uint64_t rec_set = 0, rec_clr = 0;  // MOUNT_ATTR_* for the whole tree (rro, rnosuid, ...)
  bool bind = false, rbind = false, idmap = false, ridmap = false, tmpcopyup = false;
  std::string data;               // everything else, for the filesystem
  std::vector<size_t> unknown;    // indexes of the options that went to data
};

MountOptions parse_mount_options(const std::vector<std::string>& opts);
// A propagation name of the same table ("rslave" -> MS_SLAVE | MS_REC; linux.rootfsPropagation);
// 0 for any other name.
unsigned long propagation_flags(const std::string& name);
// Every option name the table knows (sorted), for `features`.
std::vector<std::string> mount_option_names();

}  // namespace ocirt::spec
