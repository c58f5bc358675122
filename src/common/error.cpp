// ocirt::Error: kinds, the field an error is about, context prefixes (include/ocirt/error.hpp).
#include "ocirt/error.hpp"

#include <cstring>

namespace ocirt {

Error::Error(std::string msg, int err)
    : kind_(err == 0 || err == EINVAL ? ErrorKind::Invalid : ErrorKind::System), msg_(std::move(msg)), errno_(err) {
  compose();
}

Error::Error(ErrorKind kind, std::string field, std::string msg, int err)
    : kind_(kind), field_(std::move(field)), msg_(std::move(msg)), errno_(err) {
  compose();
}

void Error::compose() { what_ = context_ + (field_.empty() ? msg_ : field_ + ": " + msg_); }

Error& Error::prefix(std::string_view context) {
  context_ = std::string(context) + ": " + context_;
  compose();
  return *this;
}

const char* kind_name(ErrorKind k) {
  switch (k) {
    case ErrorKind::Invalid: return "invalid";
    case ErrorKind::NotFound: return "not found";
    case ErrorKind::Exists: return "exists";
    case ErrorKind::State: return "state";
    case ErrorKind::System: return "system";
    case ErrorKind::Timeout: return "timeout";
    case ErrorKind::Failed: return "failed";
  }
  return "?";
}

void throw_errno(const std::string& step, int err) {
  throw Error(ErrorKind::System, "", step + ": " + std::strerror(err), err);
}

}  // namespace ocirt
