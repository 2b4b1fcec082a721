// What a FUSE file handle (fi->fh) points to: one open file of the mount. Each kind of file
// (an inbox file being written, a record, a published tile or checkpoint) answers the calls that
// make sense for it; the rest keep the defaults below. Every method returns 0 or an errno, so
// the FUSE layer can reply without knowing which kind it holds. No method throws.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>

namespace fs {

class Handle {
 public:
  virtual ~Handle() = default;
  // Up to n bytes at offset into *out (fewer only at the end).
  virtual int Read(uint64_t /*offset*/, size_t /*n*/, std::string* /*out*/) { return EBADF; }
  virtual int Write(uint64_t /*offset*/, std::string_view /*data*/) { return EBADF; }
  // close() of one descriptor by process `pid` (a thread id, 0 if not visible to the daemon).
  virtual int Flush(pid_t /*pid*/) { return 0; }
  // The last descriptor is gone; the handle is deleted after this returns.
  virtual void Release() {}
};

}  // namespace fs
