// Status: the outcome of an operation that can fail, with the reason as text.
// Errors never travel as exceptions across layer boundaries (and never across FUSE): every
// fallible call in ledger/ returns a Status, which names the file and the reason on failure.
#pragma once

#include <cerrno>
#include <string>
#include <utility>

namespace ledger {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kNotFound,         // the object, entry or index does not exist
    kAlreadyExists,    // create-if-absent found something there
    kInvalidArgument,  // caller gave bad input (too large, malformed path, …)
    kCorruption,       // stored bytes do not verify or do not parse
    kIoError,          // the OS or the storage backend failed (errno_ says which)
    kNoSpace,          // ENOSPC / EDQUOT
    kBusy,             // the store is locked by another process
    kFailed,           // the log stopped accepting work after a fatal error (e.g. fsync failed)
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status AlreadyExists(std::string msg) {
    return Status(Code::kAlreadyExists, std::move(msg));
  }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status Busy(std::string msg) { return Status(Code::kBusy, std::move(msg)); }
  static Status Failed(std::string msg) { return Status(Code::kFailed, std::move(msg)); }
  // An OS error: "<what>: <strerror(err)>"; ENOSPC/EDQUOT become kNoSpace.
  static Status FromErrno(const std::string& what, int err);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  int error_number() const { return errno_; }  // 0 unless built by FromErrno
  const std::string& message() const { return message_; }
  // The errno a POSIX-facing layer (FUSE) should return for this status.
  int ToErrno() const;
  std::string ToString() const;

  // Prefix the message with context, e.g. "append: " + message.
  Status WithContext(const std::string& context) const;

 private:
  Status(Code code, std::string msg, int err = 0)
      : code_(code), errno_(err), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  int errno_ = 0;
  std::string message_;
};

// Returns from the enclosing function if `expr` is not ok.
#define LEDGER_RETURN_IF_ERROR(expr) \
  do {                               \
    ::ledger::Status _st = (expr);   \
    if (!_st.ok()) return _st;       \
  } while (0)

}  // namespace ledger
