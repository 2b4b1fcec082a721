// Who is calling: FUSE requests carry the caller's thread id; the inbox's sealing rule needs the
// caller's process (thread group) and whether it is dying from a signal. Tests substitute their
// own probe.
#pragma once

#include <sys/types.h>

#include <memory>

namespace fs {

struct CallerInfo {
  pid_t tgid = 0;          // 0: unknown (not visible in the daemon's pid namespace, or gone)
  bool signalled = false;  // the process is exiting because a signal killed it
};

class ProcessProbe {
 public:
  virtual ~ProcessProbe() = default;
  virtual CallerInfo Inspect(pid_t pid) = 0;
};

// Reads /proc/<pid>/status (Tgid) and /proc/<pid>/stat (flags: PF_SIGNALED).
std::unique_ptr<ProcessProbe> NewProcfsProbe();

}  // namespace fs
