// Shared helpers for the benchmarks in bench/ (PRODUCT §7): flag parsing, timing, peak RSS, a
// fast deterministic byte generator, and opening (or creating) a bench store whose signing key is
// kept beside it so that later runs (--reuse) can open it again.
//
// Layout of a bench directory D:
//   D/store/       the ledger store (PosixStorage root)
//   D/signer.key   the store's signing key (PRIVATE+KEY text)
//   D/native/      files written by the native fsync baseline
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/log.h"
#include "ledger/note.h"
#include "ledger/posix_storage.h"
#include "ledger/status.h"
#include "ledger/storage.h"

namespace bench {

[[noreturn]] inline void Die(const std::string& msg) {
  std::fprintf(stderr, "error: %s\n", msg.c_str());
  std::exit(1);
}

inline void Check(const ledger::Status& st, const std::string& what) {
  if (!st.ok()) Die(what + ": " + st.ToString());
}

// "--name value" and "--flag" arguments. Unknown names are refused, so a typo cannot silently
// change what is measured.
class Flags {
 public:
  // `valued` names take a value; `bools` are switches.
  Flags(int argc, char** argv, const std::vector<std::string>& valued,
        const std::vector<std::string>& bools, const std::string& usage) {
    auto is = [](const std::vector<std::string>& v, const std::string& s) {
      for (const auto& x : v)
        if (x == s) return true;
      return false;
    };
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "-h" || a == "--help") {
        std::printf("%s\n", usage.c_str());
        std::exit(0);
      }
      if (a.rfind("--", 0) != 0) Die("unexpected argument '" + a + "'\n" + usage);
      a = a.substr(2);
      std::string value;
      const size_t eq = a.find('=');
      bool has_value = false;
      if (eq != std::string::npos) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
        has_value = true;
      }
      if (is(bools, a)) {
        if (has_value) Die("--" + a + " takes no value");
        values_[a] = "1";
      } else if (is(valued, a)) {
        if (!has_value) {
          if (i + 1 >= argc) Die("--" + a + " needs a value");
          value = argv[++i];
        }
        values_[a] = value;
      } else {
        Die("unknown flag --" + a + "\n" + usage);
      }
    }
  }

  bool Has(const std::string& name) const { return values_.count(name) != 0; }
  std::string Str(const std::string& name, const std::string& def = "") const {
    auto it = values_.find(name);
    return it == values_.end() ? def : it->second;
  }
  uint64_t U64(const std::string& name, uint64_t def) const {
    auto it = values_.find(name);
    if (it == values_.end()) return def;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0') Die("--" + name + ": not a number: " + it->second);
    return v;
  }

 private:
  std::map<std::string, std::string> values_;
};

using Clock = std::chrono::steady_clock;

inline double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A field of /proc/self/status in KiB (VmHWM = peak RSS, VmRSS = current RSS); 0 if absent.
inline uint64_t ProcStatusKiB(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      std::istringstream s(line.substr(field.size() + 1));
      uint64_t kib = 0;
      s >> kib;
      return kib;
    }
  }
  return 0;
}

// Resets VmHWM to the current RSS (Linux ≥ 4.0), so that a later phase's peak can be read alone.
inline void ResetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
}

// xoshiro256** : fast, seedable bytes so that every record's content is different (the store
// keeps identical content once, which would flatter the benchmark).
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& x : s_) {
      seed += 0x9E3779B97F4A7C15ull;  // splitmix64
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      x = z ^ (z >> 31);
    }
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  void Fill(std::string* buf) {
    for (size_t i = 0; i < buf->size(); i += 8) {
      const uint64_t v = Next();
      const size_t n = std::min<size_t>(8, buf->size() - i);
      for (size_t k = 0; k < n; ++k) (*buf)[i + k] = static_cast<char>(v >> (8 * k));
    }
  }
  std::string Hex(size_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(n, '0');
    for (size_t i = 0; i < n; i += 16) {
      uint64_t v = Next();
      for (size_t k = i; k < std::min(n, i + 16); ++k, v >>= 4) out[k] = kHex[v & 0xF];
    }
    return out;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// A log entry shaped like a record manifest (~175 bytes), unique per (caller, i).
inline std::string SyntheticEntry(Rng* rng, uint64_t caller, uint64_t i) {
  char path[64];
  std::snprintf(path, sizeof(path), "in/c%03llu/%09llu.dat",
                static_cast<unsigned long long>(caller), static_cast<unsigned long long>(i));
  return std::string("service-fs/record/v1\nkind file\npath ") + path + "\nsize 4096\nsha256 " +
         rng->Hex(64) + "\nreceived 2026-01-01T00:00:00.000Z\n";
}

inline bool PathExists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path);
  if (!in) Die("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The bench store in dir/store with its key in dir/signer.key. If `create`, the store must not
// exist yet and is made with a fresh key; otherwise both must exist.
struct BenchStore {
  std::string dir;
  std::unique_ptr<ledger::Storage> storage;
  ledger::NoteSigner signer;
};

inline void OpenBenchStore(const std::string& dir, bool create, BenchStore* out) {
  out->dir = dir;
  const std::string root = dir + "/store";
  const std::string key_path = dir + "/signer.key";
  if (create) {
    if (PathExists(root)) Die(root + " already exists (remove it, or pass --reuse)");
    ::mkdir(dir.c_str(), 0755);
    Check(ledger::NoteSigner::Generate("bench.example/ledger", &out->signer), "generate key");
    std::ofstream k(key_path, std::ios::trunc);
    k << out->signer.ToString() << "\n";
    if (!k.flush()) Die("cannot write " + key_path);
    Check(ledger::OpenPosixStorage(root, true, &out->storage), "open storage " + root);
    Check(ledger::Log::Create(out->storage.get(), out->signer), "create log");
  } else {
    std::string key = ReadFileOrDie(key_path);
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
    Check(ledger::NoteSigner::Parse(key, &out->signer), "parse " + key_path);
    Check(ledger::OpenPosixStorage(root, false, &out->storage), "open storage " + root);
  }
}

}  // namespace bench
