#include "ledger/status.h"

#include <cstring>

namespace ledger {

Status Status::FromErrno(const std::string& what, int err) {
  Code code = (err == ENOSPC || err == EDQUOT) ? Code::kNoSpace
              : (err == ENOENT)                ? Code::kNotFound
              : (err == EEXIST)                ? Code::kAlreadyExists
                                               : Code::kIoError;
  return Status(code, what + ": " + std::strerror(err), err);
}

int Status::ToErrno() const {
  if (errno_ != 0) return errno_;
  switch (code_) {
    case Code::kOk:
      return 0;
    case Code::kNotFound:
      return ENOENT;
    case Code::kAlreadyExists:
      return EEXIST;
    case Code::kInvalidArgument:
      return EINVAL;
    case Code::kNoSpace:
      return ENOSPC;
    case Code::kBusy:
      return EBUSY;
    case Code::kCorruption:
    case Code::kIoError:
    case Code::kFailed:
      return EIO;
  }
  return EIO;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return message_;
}

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  return Status(code_, context + ": " + message_, errno_);
}

}  // namespace ledger
