// The core API against the golden Tessera log, under concurrency, and across reopen.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "ledger/bundle.h"
#include "ledger/log.h"
#include "ledger/posix_storage.h"
#include "support/independent.h"
#include "support/temp_dir.h"
#include "support/test_data.h"

namespace stdfs = std::filesystem;  // not "fs": that is the FUSE layer's namespace
using ledger::Log;
using ledger::LogOptions;
using ledger::NoteSigner;
using ledger::Status;
using ledger::testing::TempDir;

namespace {

const char kGoldenKey[] =
    "PRIVATE+KEY+example.com/log/testdata+33d7b496+AeymY/SZAX0jZcJ8enZ5FY1Dz+wTML2yWSkK+9DSF3eg";
const std::string kGoldenDir = std::string(SHARED_DIR) + "/spec/testdata/tessera-log";

using ledger::testing::ReadFile;

// Relative path -> bytes of every regular file under root/sub.
std::map<std::string, std::string> FilesUnder(const std::string& root, const std::string& sub) {
  std::map<std::string, std::string> out;
  for (const auto& e : stdfs::recursive_directory_iterator(root + "/" + sub)) {
    if (e.is_regular_file())
      out[stdfs::relative(e.path(), root).string()] = ReadFile(e.path().string());
  }
  return out;
}

struct OpenStore {
  std::unique_ptr<ledger::Storage> storage;
  std::unique_ptr<Log> log;
};

OpenStore MakeStore(const std::string& dir, const NoteSigner& signer, LogOptions opts = {}) {
  OpenStore s;
  REQUIRE(ledger::OpenPosixStorage(dir, true, &s.storage).ok());
  Status st = Log::Create(s.storage.get(), signer);
  REQUIRE(st.ok());
  st = Log::Open(s.storage.get(), signer, opts, &s.log);
  INFO(st.ToString());
  REQUIRE(st.ok());
  return s;
}

// Options for a log that publishes only when the test calls Publish().
LogOptions ManualPublish() {
  LogOptions opts;
  opts.background_publish = false;
  return opts;
}

NoteSigner TestSigner() {
  NoteSigner signer;
  REQUIRE(NoteSigner::Generate("example.com/log-test", &signer).ok());
  return signer;
}

// RFC 6962's MTH of leaves[lo, hi), on OpenSSL's SHA-256 (support/independent.h) rather than
// ledger/hash: returns the byte string hashed for the node ("\x00" leaf or "\x01" left right).
std::string IndependentNode(const std::vector<std::string>& leaves, size_t lo, size_t hi) {
  if (hi - lo == 1) return std::string(1, '\0') + leaves[lo];
  size_t k = 1;
  while (k * 2 < hi - lo) k *= 2;
  auto digest = [](const std::string& node) {
    return ledger::testing::Unhex(ledger::testing::Sha256Hex(node));
  };
  return "\x01" + digest(IndependentNode(leaves, lo, lo + k)) +
         digest(IndependentNode(leaves, lo + k, hi));
}

}  // namespace

TEST_CASE("appending Tessera's 15 entries one per commit reproduces its log byte for byte",
          "[log][golden]") {
  NoteSigner signer;
  REQUIRE(NoteSigner::Parse(kGoldenKey, &signer).ok());
  TempDir dir;
  OpenStore s = MakeStore(dir.path(), signer, ManualPublish());
  CHECK(ReadFile(dir / "checkpoint") == ReadFile(kGoldenDir + "/checkpoint.0"));

  const std::vector<std::string> entries = {"one",    "two",   "three",    "four",    "five",
                                            "six",    "seven", "eit",      "nain",    "ten",
                                            "ileven", "twelf", "threeten", "fourten", "fivten"};
  for (size_t i = 0; i < entries.size(); ++i) {
    uint64_t index = 99;
    REQUIRE(s.log->Append(entries[i], &index).ok());
    CHECK(index == i);
    REQUIRE(s.log->Publish().ok());
    INFO("checkpoint." << i + 1);
    CHECK(ReadFile(dir / "checkpoint") ==
          ReadFile(kGoldenDir + "/checkpoint." + std::to_string(i + 1)));
  }
  CHECK(ReadFile(dir / "checkpoint") == ReadFile(kGoldenDir + "/checkpoint"));
  // Every bundle and tile, and no file more or less.
  CHECK(FilesUnder(dir.path(), "tile") == FilesUnder(kGoldenDir, "tile"));
}

TEST_CASE("concurrent appends get dense unique indices and read back in order", "[log]") {
  NoteSigner signer = TestSigner();
  TempDir dir;
  LogOptions opts;
  opts.checkpoint_delay = std::chrono::milliseconds(200);
  constexpr int kThreads = 8, kPerThread = 150;
  std::vector<std::vector<std::pair<uint64_t, std::string>>> got(kThreads);
  {
    OpenStore s = MakeStore(dir.path(), signer, opts);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          std::string e = "thread " + std::to_string(t) + " entry " + std::to_string(i);
          uint64_t index = 0;
          Status st = s.log->Append(e, &index);
          if (st.ok()) got[t].emplace_back(index, e);
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(s.log->committed_size() == kThreads * kPerThread);
  }
  // Reopen: everything acknowledged is there, at the index it was given, and published.
  std::unique_ptr<ledger::Storage> storage;
  REQUIRE(ledger::OpenPosixStorage(dir.path(), false, &storage).ok());
  std::unique_ptr<Log> log;
  REQUIRE(Log::Open(storage.get(), signer, opts, &log).ok());
  CHECK(log->published_size() == kThreads * kPerThread);
  std::vector<std::string> all;
  uint64_t cursor = 0;
  while (true) {
    std::vector<std::string> page;
    uint64_t next = 0;
    REQUIRE(log->ReadSince(cursor, 97, &page, &next).ok());
    if (page.empty()) break;
    CHECK(next == cursor + page.size());
    all.insert(all.end(), page.begin(), page.end());
    cursor = next;
  }
  REQUIRE(all.size() == kThreads * kPerThread);
  std::set<uint64_t> seen;
  for (const auto& per_thread : got) {
    REQUIRE(per_thread.size() == kPerThread);
    for (const auto& [index, entry] : per_thread) {
      CHECK(seen.insert(index).second);
      CHECK(all[index] == entry);
    }
  }
}

TEST_CASE("read_since pages over published and unpublished entries", "[log]") {
  NoteSigner signer = TestSigner();
  TempDir dir;
  OpenStore s = MakeStore(dir.path(), signer, ManualPublish());
  for (int i = 0; i < 600; ++i) {
    uint64_t index = 0;
    REQUIRE(s.log->Append("e" + std::to_string(i), &index).ok());
    if (i == 299) REQUIRE(s.log->Publish().ok());
  }
  CHECK(s.log->published_size() == 300);
  std::vector<std::string> page;
  uint64_t next = 0;
  REQUIRE(s.log->ReadSince(250, 100, &page, &next).ok());  // spans published and pending
  REQUIRE(page.size() == 100);
  CHECK(page.front() == "e250");
  CHECK(page.back() == "e349");
  CHECK(next == 350);
  REQUIRE(s.log->ReadSince(600, 10, &page, &next).ok());
  CHECK(page.empty());
  CHECK(next == 600);
  CHECK(s.log->ReadSince(601, 10, &page, &next).code() == Status::Code::kInvalidArgument);
  REQUIRE(s.log->Publish().ok());
  REQUIRE(s.log->ReadSince(510, 5, &page, &next).ok());  // crosses into a full bundle's partials
  CHECK(page == std::vector<std::string>{"e510", "e511", "e512", "e513", "e514"});
  // Full tiles replaced their partials: tile/0/000 and 001 exist; no .p/ left beside them.
  CHECK(stdfs::exists(dir / "tile/0/001"));
  CHECK(!stdfs::exists(dir / "tile/0/001.p"));
  CHECK(stdfs::exists(dir / "tile/entries/002.p/88"));
}

TEST_CASE("CheckpointAt remakes, byte for byte, every checkpoint published before", "[log]") {
  NoteSigner signer = TestSigner();
  TempDir dir;
  OpenStore s = MakeStore(dir.path(), signer, ManualPublish());
  // Sizes on both sides of tile boundaries, so that some partials they were published with are
  // pruned by the time they are remade (tile 0 becomes full at 256, tile 1 of level 0 at 512).
  const std::set<uint64_t> published_at = {1, 2, 3, 17, 255, 256, 257, 300, 511, 513, 700};
  std::map<uint64_t, std::string> published;
  std::string note;
  ledger::Checkpoint cp;
  REQUIRE(s.log->LatestCheckpoint(&note, &cp).ok());
  published[0] = note;
  for (uint64_t i = 0; i < 700; ++i) {
    uint64_t index = 0;
    REQUIRE(s.log->Append("entry " + std::to_string(i), &index).ok());
    if (published_at.count(i + 1)) {
      REQUIRE(s.log->Publish().ok());
      REQUIRE(s.log->LatestCheckpoint(&note, &cp).ok());
      REQUIRE(cp.size == i + 1);
      published[i + 1] = note;
    }
  }
  CHECK(!stdfs::exists(dir / "tile/0/000.p"));  // the partials of size 1..255 are gone
  for (const auto& [size, original] : published) {
    INFO("size " << size);
    ledger::Checkpoint remade;
    REQUIRE(s.log->CheckpointAt(size, &note, &remade).ok());
    CHECK(note == original);
    CHECK(remade.size == size);
    CHECK(remade.origin == "example.com/log-test");
  }
  // A size never published on its own gets the root of its first entries, independently computed.
  std::vector<std::string> first;
  for (int i = 0; i < 258; ++i) first.push_back("entry " + std::to_string(i));
  ledger::Checkpoint at258;
  REQUIRE(s.log->CheckpointAt(258, &note, &at258).ok());
  CHECK(at258.root == ledger::testing::HexHash(
                          ledger::testing::Sha256Hex(IndependentNode(first, 0, first.size()))));
  ledger::Checkpoint opened;
  REQUIRE(ledger::OpenCheckpoint(note, signer.Verifier(), &opened).ok());
  CHECK(opened.size == 258);
  CHECK(s.log->CheckpointAt(701, &note, &cp).code() == Status::Code::kInvalidArgument);
}

TEST_CASE("an entry over 65,535 bytes is refused and changes nothing", "[log]") {
  NoteSigner signer = TestSigner();
  TempDir dir;
  OpenStore s = MakeStore(dir.path(), signer);
  uint64_t index = 0;
  REQUIRE(s.log->Append(std::string(ledger::kMaxEntrySize, 'x'), &index).ok());
  Status st = s.log->Append(std::string(ledger::kMaxEntrySize + 1, 'x'), &index);
  CHECK(st.code() == Status::Code::kInvalidArgument);
  CHECK_THAT(st.message(), Catch::Contains("65,535"));
  CHECK(s.log->committed_size() == 1);
  CHECK(s.log->health().ok());
}

TEST_CASE("a second process on the same store is refused, naming it", "[log]") {
  NoteSigner signer = TestSigner();
  TempDir dir;
  OpenStore s = MakeStore(dir.path(), signer);
  std::unique_ptr<ledger::Storage> other;
  REQUIRE(ledger::OpenPosixStorage(dir.path(), false, &other).ok());
  std::unique_ptr<Log> log2;
  Status st = Log::Open(other.get(), signer, {}, &log2);
  CHECK(st.code() == Status::Code::kBusy);
  CHECK_THAT(st.message(), Catch::Contains(dir.path()));
}

TEST_CASE("opening with a key that is not the store's is refused", "[log]") {
  TempDir dir;
  OpenStore s = MakeStore(dir.path(), TestSigner());
  s.log.reset();
  std::unique_ptr<Log> log;
  Status st = Log::Open(s.storage.get(), TestSigner(), {}, &log);
  CHECK(st.code() == Status::Code::kInvalidArgument);
  CHECK_THAT(st.message(), Catch::Contains("not this store's key"));
}

TEST_CASE("a signed checkpoint covers an entry within the configured delay", "[log]") {
  NoteSigner signer = TestSigner();
  TempDir dir;
  LogOptions opts;
  opts.checkpoint_delay = std::chrono::milliseconds(1000);  // the product default
  OpenStore s = MakeStore(dir.path(), signer, opts);
  for (int i = 0; i < 5; ++i) {
    uint64_t index = 0;
    REQUIRE(s.log->Append("entry " + std::to_string(i), &index).ok());
    const auto acked = std::chrono::steady_clock::now();
    ledger::Checkpoint cp;
    std::string note;
    do {
      REQUIRE(s.log->LatestCheckpoint(&note, &cp).ok());
      if (cp.size > index) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    } while (std::chrono::steady_clock::now() - acked < std::chrono::seconds(5));
    CHECK(cp.size > index);
    CHECK(std::chrono::steady_clock::now() - acked <= opts.checkpoint_delay);
    // The file on disk says the same as the API.
    CHECK(ReadFile(dir / "checkpoint").find("\n" + std::to_string(cp.size) + "\n") !=
          std::string::npos);
  }
}
