// The mount option table (see mount_options.hpp).
#include "src/spec/mount_options.hpp"

#include <sys/mount.h>

#include <algorithm>
#include <cstring>

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif

namespace ocirt::spec {
namespace {

enum class Kind { Set, Clear, Propagation, RecSet, RecClear, RecAtime, Bind, RBind, Idmap, RIdmap, TmpCopyUp };

struct Option {
  const char* name;
  Kind kind;
  uint64_t value;
};

// runc 1.2's and crun's options. The recursive ones (r*) are applied with
// mount_setattr(AT_RECURSIVE) to the whole tree; the atime ones set one atime mode.
constexpr Option kOptions[] = {
    {"async", Kind::Clear, MS_SYNCHRONOUS},
    {"atime", Kind::Clear, MS_NOATIME},
    {"bind", Kind::Bind, 0},
    {"dev", Kind::Clear, MS_NODEV},
    {"diratime", Kind::Clear, MS_NODIRATIME},
    {"dirsync", Kind::Set, MS_DIRSYNC},
    {"exec", Kind::Clear, MS_NOEXEC},
    {"idmap", Kind::Idmap, 0},
    {"iversion", Kind::Set, MS_I_VERSION},
    {"lazytime", Kind::Set, MS_LAZYTIME},
    {"loud", Kind::Clear, MS_SILENT},
    {"mand", Kind::Set, MS_MANDLOCK},
    {"noatime", Kind::Set, MS_NOATIME},
    {"nodev", Kind::Set, MS_NODEV},
    {"nodiratime", Kind::Set, MS_NODIRATIME},
    {"noexec", Kind::Set, MS_NOEXEC},
    {"noiversion", Kind::Clear, MS_I_VERSION},
    {"nolazytime", Kind::Clear, MS_LAZYTIME},
    {"nomand", Kind::Clear, MS_MANDLOCK},
    {"norelatime", Kind::Clear, MS_RELATIME},
    {"nostrictatime", Kind::Clear, MS_STRICTATIME},
    {"nosuid", Kind::Set, MS_NOSUID},
    {"nosymfollow", Kind::Set, MS_NOSYMFOLLOW},
    {"private", Kind::Propagation, MS_PRIVATE},
    {"ratime", Kind::RecAtime, MOUNT_ATTR_RELATIME},
    {"rbind", Kind::RBind, 0},
    {"rdev", Kind::RecClear, MOUNT_ATTR_NODEV},
    {"rdiratime", Kind::RecClear, MOUNT_ATTR_NODIRATIME},
    {"relatime", Kind::Set, MS_RELATIME},
    {"remount", Kind::Set, MS_REMOUNT},
    {"rexec", Kind::RecClear, MOUNT_ATTR_NOEXEC},
    {"ridmap", Kind::RIdmap, 0},
    {"rnoatime", Kind::RecAtime, MOUNT_ATTR_NOATIME},
    {"rnodev", Kind::RecSet, MOUNT_ATTR_NODEV},
    {"rnodiratime", Kind::RecSet, MOUNT_ATTR_NODIRATIME},
    {"rnoexec", Kind::RecSet, MOUNT_ATTR_NOEXEC},
    {"rnorelatime", Kind::RecAtime, MOUNT_ATTR_RELATIME},  // the kernel has no "not relatime" of its own
    {"rnostrictatime", Kind::RecAtime, MOUNT_ATTR_RELATIME},
    {"rnosuid", Kind::RecSet, MOUNT_ATTR_NOSUID},
    {"rnosymfollow", Kind::RecSet, MOUNT_ATTR_NOSYMFOLLOW},
    {"ro", Kind::Set, MS_RDONLY},
    {"rprivate", Kind::Propagation, MS_PRIVATE | MS_REC},
    {"rrelatime", Kind::RecAtime, MOUNT_ATTR_RELATIME},
    {"rro", Kind::RecSet, MOUNT_ATTR_RDONLY},
    {"rrw", Kind::RecClear, MOUNT_ATTR_RDONLY},
    {"rshared", Kind::Propagation, MS_SHARED | MS_REC},
    {"rslave", Kind::Propagation, MS_SLAVE | MS_REC},
    {"rstrictatime", Kind::RecAtime, MOUNT_ATTR_STRICTATIME},
    {"rsuid", Kind::RecClear, MOUNT_ATTR_NOSUID},
    {"rsymfollow", Kind::RecClear, MOUNT_ATTR_NOSYMFOLLOW},
    {"runbindable", Kind::Propagation, MS_UNBINDABLE | MS_REC},
    {"rw", Kind::Clear, MS_RDONLY},
    {"shared", Kind::Propagation, MS_SHARED},
    {"silent", Kind::Set, MS_SILENT},
    {"slave", Kind::Propagation, MS_SLAVE},
    {"strictatime", Kind::Set, MS_STRICTATIME},
    {"suid", Kind::Clear, MS_NOSUID},
    {"symfollow", Kind::Clear, MS_NOSYMFOLLOW},
    {"sync", Kind::Set, MS_SYNCHRONOUS},
    {"tmpcopyup", Kind::TmpCopyUp, 0},
    {"unbindable", Kind::Propagation, MS_UNBINDABLE},
};

const Option* find(const std::string& name) {
  auto it = std::lower_bound(std::begin(kOptions), std::end(kOptions), name,
                             [](const Option& o, const std::string& n) { return strcmp(o.name, n.c_str()) < 0; });
  return it != std::end(kOptions) && name == it->name ? it : nullptr;
}

}  // namespace

MountOptions parse_mount_options(const std::vector<std::string>& opts) {
  MountOptions m;
  for (size_t i = 0; i < opts.size(); ++i) {
    const Option* o = find(opts[i]);
    if (!o) {
      m.data += (m.data.empty() ? "" : ",") + opts[i];
      m.unknown.push_back(i);
      continue;
    }
    switch (o->kind) {
      case Kind::Set: m.flags |= o->value; m.clear &= ~o->value; break;
      case Kind::Clear: m.flags &= ~o->value; m.clear |= o->value; break;
      case Kind::Propagation: m.propagation = o->value; break;
      case Kind::RecSet: m.rec_set |= o->value; m.rec_clr &= ~o->value; break;
      case Kind::RecClear: m.rec_clr |= o->value; m.rec_set &= ~o->value; break;
      case Kind::RecAtime:  // one atime mode: the field is cleared, the mode set
        m.rec_set = (m.rec_set & ~uint64_t{MOUNT_ATTR__ATIME}) | o->value;
        m.rec_clr |= MOUNT_ATTR__ATIME;
        break;
      case Kind::Bind: m.bind = true; break;
      case Kind::RBind: m.bind = m.rbind = true; break;
      case Kind::Idmap: m.idmap = true; break;
      case Kind::RIdmap: m.idmap = m.ridmap = true; break;
      case Kind::TmpCopyUp: m.tmpcopyup = true; break;
    }
  }
  return m;
}

unsigned long propagation_flags(const std::string& name) {
  const Option* o = find(name);
  return o && o->kind == Kind::Propagation ? o->value : 0;
}

std::vector<std::string> mount_option_names() {
  std::vector<std::string> out;
  for (auto& o : kOptions) out.push_back(o.name);
  return out;
}

}  // namespace ocirt::spec
