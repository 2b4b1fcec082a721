// Every flipped byte of a real store: a store written by the log itself (records with content,
// directory records, several checkpoints, so it holds full, right-edge and older partial tiles
// and bundles) is damaged one way at a time, and the verification `ledgerfs verify STORE` runs
// (its key from .ledger/identity, every record's content checked) must fail naming the damaged
// file. tests/cli/tamper_every_byte.sh runs a sample of the same cases through the real command;
// this test does the exhaustive part in-process, where one verification costs well under a
// millisecond instead of a process start.
//
// Cases, for every file of each kind: flip byte i (XOR 0x01 at even offsets, 0x80 at odd ones:
// the low bit stays valid text, the high bit makes invalid UTF-8 and huge lengths); cut the last
// byte; cut to 0 bytes; append one byte; delete. Plus stray files under tile/ and swapped pairs
// (full bundles, full tiles, partials, content files). Which bytes are flipped in CI: every byte
// of a file up to 1,024 bytes; of a larger one the first and last 64 bytes and every 13th byte
// (offset % 13 == 0) between. In the 66,136-entry store (a full level-1 tile; one verification
// there takes ~50 ms, not ~0.7 ms): the first and last 16 bytes and every 1,024th byte of
// tile/1/000, every 8th byte of the level-1 partials and every 4th of tile/2/000.p/1.
// Sanitizer builds (Debug in CI, ~10 times slower) flip fewer: every byte up to 256 bytes, else
// the first and last 32 and every 61st; in the big store the first and last 2 bytes and every
// 4,096th of tile/1/000 and every 16th of the small tiles. LEDGER_TAMPER_FULL=1 flips every byte
// of every file, and of tile/1/000 the first and last 64 bytes and every 7th.
//
// "Names the damaged file": for checkpoint and tile/ files the verifier's message must start with
// "<path>: " (its promise, ledger/verifier.h); a content file or .ledger/identity must appear in
// the message (the bundle entry that refers to a content file comes first). Deleting an older
// partial is the one damage the verifier accepts: a store keeps no record of which older sizes
// were checkpointed, so nothing requires it (counted apart, as "accepted").
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ledger/log.h"
#include "ledger/posix_storage.h"
#include "ledger/records.h"
#include "ledger/tile_path.h"
#include "ledger/verifier.h"
#include "spdlog/spdlog.h"
#include "support/temp_dir.h"
#include "support/test_data.h"

namespace ledger {
namespace {

namespace fs = std::filesystem;
using testing::PatchByte;
using testing::TempDir;
using testing::TryReadFile;
using testing::WriteFile;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

bool FullRun() {
  const char* v = std::getenv("LEDGER_TAMPER_FULL");
  return v != nullptr && std::string(v) == "1";
}

// The verification `ledgerfs verify STORE` runs on a store (mount/cmd_verify.cc): the key from
// the store's identity, every record's content checked.
Status VerifyStore(Storage& tree) {
  std::string origin, vkey;
  LEDGER_RETURN_IF_ERROR(Log::ReadIdentity(&tree, &origin, &vkey));
  VerifyOptions options;
  options.vkeys = {vkey};
  options.entry_check = [&tree](uint64_t index, std::string_view entry) {
    return Records::CheckEntryContent(&tree, index, entry);
  };
  return VerifyTree(tree, options, nullptr);
}

// Which bytes of a file to flip: all of a file up to `small` bytes; of a larger one the first and
// last `edge` bytes and every `stride`-th byte.
struct Sample {
  size_t small = 1024;
  size_t edge = 64;
  size_t stride = 13;
};

std::vector<size_t> FlipOffsets(size_t size, const Sample& sample) {
  std::vector<size_t> offsets;
  for (size_t i = 0; i < size; ++i) {
    if (size <= sample.small || i < sample.edge || i + sample.edge >= size ||
        i % sample.stride == 0) {
      offsets.push_back(i);
    }
  }
  return offsets;
}

// The CI sample (`sanitized` in sanitizer builds), or every byte with LEDGER_TAMPER_FULL=1.
Sample CiOrFull(const Sample& ci, const Sample& sanitized) {
  if (FullRun()) return Sample{SIZE_MAX, 0, 1};
  return kSanitized ? sanitized : ci;
}

// Runs damage cases against one store and tallies them by kind of file.
class Tamperer {
 public:
  explicit Tamperer(fs::path root) : root_(std::move(root)) {
    REQUIRE(OpenPosixStorage(root_.string(), false, &storage_).ok());
    const Status st = VerifyStore(*storage_);
    INFO(st.ToString());
    REQUIRE(st.ok());
  }

  // The store is damaged now: verification must fail naming one of `culprits`.
  void ExpectDetected(const std::string& kind, const std::string& what,
                      const std::vector<std::string>& culprits) {
    Stats& s = stats_[kind];
    ++s.tried;
    const Status st = VerifyStore(*storage_);
    bool named = false;
    for (const std::string& rel : culprits) named |= Names(st.message(), rel);
    if (!st.ok() && named) {
      ++s.detected;
    } else if (s.misses.size() < 5) {
      s.misses.push_back(what + ": " + (st.ok() ? "verified anyway" : st.message()));
    }
  }

  // Damage the verifier has no way to see (and must not refuse): counted as accepted.
  void ExpectAccepted(const std::string& kind, const std::string& what) {
    Stats& s = stats_[kind];
    ++s.tried;
    const Status st = VerifyStore(*storage_);
    if (st.ok()) {
      ++s.accepted;
    } else if (s.misses.size() < 5) {
      s.misses.push_back(what + ": refused: " + st.message());
    }
  }

  // Every per-file case for `rel` (flips, cuts, a byte appended, deletion), restoring it after
  // each. `deletable` is false for older partials (deleting one is accepted).
  void DamageFile(const std::string& kind, const std::string& rel, const Sample& sample,
                  bool deletable = true) {
    const fs::path path = root_ / rel;
    const std::optional<std::string> read = TryReadFile(path);
    REQUIRE(read.has_value());
    const std::string& original = *read;
    for (size_t i : FlipOffsets(original.size(), sample)) {
      const char mask = static_cast<char>(i % 2 == 0 ? 0x01 : 0x80);
      REQUIRE(PatchByte(path, i, static_cast<char>(original[i] ^ mask)));
      ExpectDetected(kind, rel + " byte " + std::to_string(i) + " flipped", {rel});
      REQUIRE(PatchByte(path, i, original[i]));
    }
    if (!original.empty()) {
      fs::resize_file(path, original.size() - 1);
      ExpectDetected(kind, rel + " cut by one byte", {rel});
      fs::resize_file(path, 0);
      ExpectDetected(kind, rel + " cut to 0 bytes", {rel});
      WriteFile(path, original);
    }
    WriteFile(path, original + "x");
    ExpectDetected(kind, rel + " one byte appended", {rel});
    WriteFile(path, original);
    fs::remove(path);
    if (deletable) {
      ExpectDetected(kind, rel + " deleted", {rel});
    } else {
      ExpectAccepted(kind, rel + " deleted");
    }
    WriteFile(path, original);
  }

  // A file that does not belong under tile/.
  void Stray(const std::string& rel, const std::string& bytes) {
    fs::create_directories((root_ / rel).parent_path());
    WriteFile(root_ / rel, bytes);
    ExpectDetected("stray file under tile/", rel + " added", {rel});
    fs::remove(root_ / rel);
  }

  void Swap(const std::string& kind, const std::string& a, const std::string& b) {
    const fs::path aside = root_ / "swap.tmp";
    fs::rename(root_ / a, aside);
    fs::rename(root_ / b, root_ / a);
    fs::rename(aside, root_ / b);
    ExpectDetected(kind, a + " and " + b + " swapped", {a, b});
    fs::rename(root_ / a, aside);
    fs::rename(root_ / b, root_ / a);
    fs::rename(aside, root_ / b);
  }

  // The table, and whether every case came out as expected.
  std::string Table() const {
    std::ostringstream out;
    out << "| kind | cases | detected, naming the file | accepted by design |\n|---|---|---|---|\n";
    for (const auto& [kind, s] : stats_) {
      out << "| " << kind << " | " << s.tried << " | " << s.detected << " | " << s.accepted
          << " |\n";
    }
    for (const auto& [kind, s] : stats_) {
      for (const std::string& m : s.misses) out << "MISS " << kind << ": " << m << "\n";
    }
    return out.str();
  }
  bool AllAsExpected() const {
    for (const auto& [kind, s] : stats_) {
      if (s.detected + s.accepted != s.tried) return false;
    }
    return true;
  }
  uint64_t Total() const {
    uint64_t n = 0;
    for (const auto& [kind, s] : stats_) n += s.tried;
    return n;
  }
  Storage& storage() { return *storage_; }

 private:
  struct Stats {
    uint64_t tried = 0;
    uint64_t detected = 0;
    uint64_t accepted = 0;
    std::vector<std::string> misses;
  };

  static bool Names(const std::string& message, const std::string& rel) {
    if (rel == "checkpoint" || rel.starts_with("tile/")) return message.starts_with(rel + ": ");
    return message.find(rel) != std::string::npos;
  }

  fs::path root_;
  std::unique_ptr<Storage> storage_;
  std::map<std::string, Stats> stats_;
};

// Content of file record i: distinct, of varied sizes; item 0 is the empty file.
std::string ContentOf(uint64_t i) {
  if (i == 0) return "";
  std::mt19937_64 rng(i);
  std::string s(i == 50 ? 1 : i == 100 ? 5000 : 1 + rng() % 300, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Writes a store with the log: items 0, 1, ... up to the last of `publish_at`, published at each
// of those sizes. Item i is a file record with content if `file_every` divides it (0: never), a
// directory record otherwise.
void BuildStore(const std::string& root, const std::vector<uint64_t>& publish_at, int threads,
                uint64_t file_every) {
  std::unique_ptr<Storage> storage;
  REQUIRE(OpenPosixStorage(root, true, &storage).ok());
  NoteSigner signer;
  REQUIRE(NoteSigner::Generate("example.com/tamper", &signer).ok());
  REQUIRE(Log::Create(storage.get(), signer).ok());
  LogOptions opts;
  opts.background_publish = false;
  std::unique_ptr<Log> log;
  REQUIRE(Log::Open(storage.get(), signer, opts, &log).ok());
  Records records(log.get(), storage.get());
  uint64_t done = 0;
  for (uint64_t target : publish_at) {
    // Threads share the appends so group commit batches them (a big store builds in seconds).
    std::vector<std::thread> pool;
    std::atomic<bool> ok{true};
    const uint64_t begin = done;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (uint64_t i = begin + static_cast<uint64_t>(t); i < target; i += threads) {
          RecordInfo info;
          Status st;
          if (file_every != 0 && i % file_every == 0) {
            std::unique_ptr<RecordWriter> w;
            const std::string content = ContentOf(i);
            st = records.BeginFile("files/" + std::to_string(i), &w);
            if (st.ok() && !content.empty()) st = w->Write(content);
            if (st.ok()) st = w->Commit(&info);
          } else {
            st = records.AppendDirectory("dirs/" + std::to_string(i), &info);
          }
          if (!st.ok()) ok = false;
        }
      });
    }
    for (std::thread& th : pool) th.join();
    REQUIRE(ok);
    REQUIRE(log->Publish().ok());
    done = target;
  }
}

// Relative paths of the files under root/dir, sorted.
std::vector<std::string> FilesUnder(const fs::path& root, const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(root / dir)) {
    if (e.is_regular_file()) files.push_back(fs::relative(e.path(), root).generic_string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST_CASE("every damaged byte of a store is found, naming the file", "[tamper]") {
  spdlog::set_level(spdlog::level::off);
  TempDir tmp("/dev/shm");
  // 600 entries published at 100, 300, 552 and 600: full tiles and bundles 000 and 001, the
  // right edge 002.p/88 with the older 002.p/40 kept, and level 1 at 000.p/2 with the older
  // 000.p/1.
  BuildStore(tmp.path(), {100, 300, 552, 600}, 1, 50);
  const fs::path root = tmp.path();
  const std::map<std::string, std::string> kinds = {
      {"checkpoint", "checkpoint"},
      {".ledger/identity", "identity (.ledger/identity, read when no --vkey is given)"},
      {"tile/0/000", "full hash tile, level 0"},
      {"tile/0/001", "full hash tile, level 0"},
      {"tile/0/002.p/88", "right-edge partial hash tile, level 0"},
      {"tile/0/002.p/40", "older partial hash tile, level 0"},
      {"tile/1/000.p/2", "right-edge partial hash tile, level 1"},
      {"tile/1/000.p/1", "older partial hash tile, level 1"},
      {"tile/entries/000", "full entry bundle"},
      {"tile/entries/001", "full entry bundle"},
      {"tile/entries/002.p/88", "right-edge partial entry bundle"},
      {"tile/entries/002.p/40", "older partial entry bundle"},
  };
  // The store holds exactly these public files (and content/).
  std::vector<std::string> expected_tiles;
  for (const auto& [rel, kind] : kinds) {
    if (rel.starts_with("tile/")) expected_tiles.push_back(rel);
  }
  std::sort(expected_tiles.begin(), expected_tiles.end());
  REQUIRE(FilesUnder(root, "tile") == expected_tiles);
  const std::vector<std::string> contents = FilesUnder(root, "content");
  REQUIRE(contents.size() == 12);

  const auto start = std::chrono::steady_clock::now();
  Tamperer t(root);
  const Sample sample = CiOrFull({1024, 64, 13}, {256, 32, 61});
  for (const auto& [rel, kind] : kinds) {
    t.DamageFile(kind, rel, sample, kind.find("older") == std::string::npos);
  }
  for (const std::string& rel : contents) {
    uint64_t size = 0;
    REQUIRE(t.storage().Size(rel, &size).ok());
    t.DamageFile(size == 0 ? "content file, 0 bytes" : "content file", rel, sample);
  }
  for (const char* rel :
       {"tile/junk", "tile/entries/README", "tile/0/002", "tile/entries/002", "tile/0/002.p/89",
        "tile/entries/002.p/89", "tile/1/000.p/3", "tile/2/000.p/1", "tile/0/003.p/1",
        "tile/0/000.p/5", "tile/entries/000.p/5", "tile/0/002.p/088", "tile/0/x000/002"}) {
    t.Stray(rel, std::string(32 * 5, 's'));
  }
  t.Swap("swapped pair", "tile/entries/000", "tile/entries/001");
  t.Swap("swapped pair", "tile/0/000", "tile/0/001");
  t.Swap("swapped pair", "tile/0/002.p/40", "tile/0/002.p/88");
  t.Swap("swapped pair", "tile/entries/002.p/40", "tile/entries/002.p/88");
  t.Swap("swapped pair", "tile/1/000.p/1", "tile/1/000.p/2");
  t.Swap("swapped pair", contents[1], contents[2]);
  t.Swap("swapped pair", contents[0], contents[3]);  // the empty file and another
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WARN("tamper: " << t.Total() << " damaged stores verified in " << secs << " s"
                  << (FullRun() ? " (LEDGER_TAMPER_FULL)" : "") << "\n"
                  << t.Table());
  CHECK(t.AllAsExpected());
  // Every case was undone.
  CHECK(VerifyStore(t.storage()).ok());
  spdlog::set_level(spdlog::level::info);
}

TEST_CASE("damage to a full level-1 tile is found, naming the file", "[tamper]") {
  spdlog::set_level(spdlog::level::off);
  TempDir tmp("/dev/shm");
  // 66,136 entries: tile/1/000 full (65,536 leaves), tile/1/001.p/2, tile/2/000.p/1 and the
  // older tile/1/001.p/1 (published at 65,800). Directory records only: the tiles are what is
  // damaged here, and content checks would only slow each of the verifications down.
  BuildStore(tmp.path(), {65800, 66136}, 4, 0);
  const fs::path root = tmp.path();
  REQUIRE(fs::exists(root / "tile/1/000"));
  REQUIRE(fs::exists(root / "tile/1/001.p/2"));
  REQUIRE(fs::exists(root / "tile/1/001.p/1"));
  REQUIRE(fs::exists(root / "tile/2/000.p/1"));

  const auto start = std::chrono::steady_clock::now();
  Tamperer t(root);
  t.DamageFile("full hash tile, level 1", "tile/1/000",
               FullRun() ? Sample{0, 64, 7} : CiOrFull({0, 16, 1024}, {0, 2, 4096}));
  t.DamageFile("right-edge partial hash tile, level 1", "tile/1/001.p/2",
               CiOrFull({0, 0, 8}, {0, 0, 16}));
  t.DamageFile("older partial hash tile, level 1", "tile/1/001.p/1",
               CiOrFull({0, 0, 8}, {0, 0, 16}), false);
  t.DamageFile("right-edge partial hash tile, level 2", "tile/2/000.p/1",
               CiOrFull({0, 0, 4}, {0, 0, 16}));
  t.Stray("tile/1/001", std::string(8192, 's'));
  t.Stray("tile/2/000.p/2", std::string(64, 's'));
  t.Stray("tile/3/000.p/1", std::string(32, 's'));
  t.Swap("swapped pair", "tile/1/001.p/1", "tile/1/001.p/2");
  t.Swap("swapped pair", "tile/0/100", "tile/0/200");
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WARN("tamper, 66,136 entries: " << t.Total() << " damaged stores verified in " << secs << " s"
                                  << (FullRun() ? " (LEDGER_TAMPER_FULL)" : "") << "\n"
                                  << t.Table());
  CHECK(t.AllAsExpected());
  CHECK(VerifyStore(t.storage()).ok());
  spdlog::set_level(spdlog::level::info);
}

}  // namespace
}  // namespace ledger
