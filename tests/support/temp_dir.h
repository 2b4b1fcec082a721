// A temporary directory for one test, removed (recursively) when the test ends.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace ledger::testing {

class TempDir {
 public:
  // `base` "" means the system temp directory. Crash tests pass "/dev/shm" where it exists:
  // the crash model lives in FaultInjectionStorage, so real fsyncs only cost time there.
  explicit TempDir(const std::string& base = "") {
    std::string root = base;
    std::error_code ec;
    if (root.empty() || !std::filesystem::is_directory(root, ec)) {
      root = std::filesystem::temp_directory_path().string();
    }
    std::string tmpl = root + "/ledger-test-XXXXXX";
    char* p = mkdtemp(tmpl.data());
    if (p == nullptr) std::abort();
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

}  // namespace ledger::testing
