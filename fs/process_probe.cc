#include "fs/process_probe.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <string_view>

namespace fs {

namespace {

// Linux's task flag "killed by a signal" (include/linux/sched.h), shown in /proc/<pid>/stat.
constexpr unsigned long kPfSignaled = 0x00000400;

// Reads a small /proc file; empty if it cannot be read (the task is gone).
std::string ReadProcFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string out(4096, '\0');
  size_t got = 0;
  for (;;) {
    const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
    if (got == out.size()) out.resize(out.size() * 2);
  }
  ::close(fd);
  out.resize(got);
  return out;
}

class ProcfsProbe final : public ProcessProbe {
 public:
  CallerInfo Inspect(pid_t pid) override {
    CallerInfo info;
    if (pid <= 0) return info;
    const std::string base = "/proc/" + std::to_string(pid);
    const std::string status = ReadProcFile(base + "/status");
    const size_t at = status.find("\nTgid:");
    if (at == std::string::npos) return info;
    info.tgid = static_cast<pid_t>(std::strtol(status.c_str() + at + 6, nullptr, 10));
    // stat: "pid (comm) state ppid pgrp session tty_nr tpgid flags ..."; comm may hold spaces
    // and parentheses, so count fields after the last ')'.
    const std::string stat = ReadProcFile(base + "/stat");
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) return info;
    const char* p = stat.c_str() + close + 1;
    for (int field = 3; field < 9 && *p != '\0'; ++field) {
      while (*p == ' ') ++p;
      while (*p != ' ' && *p != '\0') ++p;
    }
    const unsigned long flags = std::strtoul(p, nullptr, 10);
    info.signalled = (flags & kPfSignaled) != 0;
    return info;
  }
};

}  // namespace

std::unique_ptr<ProcessProbe> NewProcfsProbe() {
  return std::make_unique<ProcfsProbe>();
}

}  // namespace fs
