// VerifyTree against the golden Tessera log (every byte flipped, every file cut short or removed,
// stray files added) and against a 70,000-entry tree built here with the tlog helpers.
#include "ledger/verifier.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ledger/bundle.h"
#include "ledger/checkpoint.h"
#include "ledger/hash.h"
#include "ledger/note.h"
#include "ledger/posix_storage.h"
#include "ledger/tile_path.h"
#include "ledger/tlog_math.h"
#include "support/temp_dir.h"
#include "support/test_data.h"

namespace ledger {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr char kGoldenVkey[] =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";
constexpr uint64_t kGoldenSize = 15;

fs::path GoldenDir() {
  return fs::path(SHARED_DIR) / "spec/testdata/tessera-log";
}

using ledger::testing::PatchByte;
using ledger::testing::ReadFile;
using ledger::testing::TryReadFile;
using ledger::testing::WriteFile;

// Relative paths of the log's files under root (checkpoints and tile/), sorted. The golden copy
// also holds Tessera's private .state/, which is no part of the published log.
std::vector<std::string> FilesUnder(const fs::path& root) {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    std::string rel = fs::relative(e.path(), root).generic_string();
    if (rel.rfind("checkpoint", 0) == 0 || rel.rfind("tile/", 0) == 0) files.push_back(rel);
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The golden files are read-only; the copy must be writable so tests can damage it.
void CopyGolden(const fs::path& to) {
  fs::copy(GoldenDir(), to, fs::copy_options::recursive);
  fs::permissions(to, fs::perms::owner_all, fs::perm_options::add);
  for (const auto& e : fs::recursive_directory_iterator(to)) {
    fs::permissions(e.path(), fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::add);
    if (e.is_directory()) fs::permissions(e.path(), fs::perms::owner_exec, fs::perm_options::add);
  }
}

VerifyOptions GoldenOptions() {
  VerifyOptions options;
  options.vkeys = {kGoldenVkey};
  return options;
}

Status Verify(const fs::path& dir, const VerifyOptions& options, VerifyReport* report = nullptr) {
  std::unique_ptr<Storage> storage;
  Status st = OpenPosixStorage(dir.string(), false, &storage);
  if (!st.ok()) return st;
  return VerifyTree(*storage, options, report);
}

// Verifies a damaged tree and expects a failure whose message starts with "<rel>: ", i.e. names
// the damaged file as the culprit (not merely somewhere in the text). Collects failures as text
// so a broken detector reports a few cases, not thousands.
class DamageChecker {
 public:
  DamageChecker(fs::path dir, VerifyOptions options)
      : dir_(std::move(dir)), options_(std::move(options)) {}

  void ExpectFailureNaming(const std::string& rel, const std::string& what) {
    ++runs_;
    Status st = Verify(dir_, options_);
    if (st.ok()) {
      Record(what + ": verified anyway");
    } else if (st.message().rfind(rel + ": ", 0) != 0) {
      Record(what + ": message does not start with " + rel + ": " + st.message());
    }
  }
  void Record(std::string text) {
    if (failures_.size() < 10) failures_.push_back(std::move(text));
  }
  const fs::path& dir() const { return dir_; }
  const std::vector<std::string>& failures() const { return failures_; }
  std::string Summary() const {
    std::string text = std::to_string(runs_) + " runs";
    for (const std::string& f : failures_) text += "\n" + f;
    return text;
  }
  int runs() const { return runs_; }

 private:
  fs::path dir_;
  VerifyOptions options_;
  std::vector<std::string> failures_;
  int runs_ = 0;
};

// Flips every `stride`-th byte of dir/rel with `mask`, one at a time, restoring it after each run.
// Free of Catch macros (it runs on worker threads); trouble is recorded in the checker.
void FlipBytes(DamageChecker* checker, const fs::path& dir, const std::string& rel, uint8_t mask,
               size_t stride) {
  const std::string original = TryReadFile(dir / rel).value_or("");
  if (original.empty()) checker->Record(rel + ": unreadable or empty");
  for (size_t i = 0; i < original.size(); i += stride) {
    const std::string what = rel + " byte " + std::to_string(i) + " ^ " + std::to_string(mask);
    if (!PatchByte(dir / rel, i, static_cast<char>(original[i] ^ static_cast<char>(mask)))) {
      checker->Record(what + ": could not write");
      continue;
    }
    checker->ExpectFailureNaming(rel, what);
    if (!PatchByte(dir / rel, i, original[i])) checker->Record(what + ": could not restore");
  }
}

bool IsArchivedCheckpoint(const std::string& rel) {
  return rel.rfind("checkpoint.", 0) == 0;
}

TEST_CASE("verifier accepts the golden log and reports what it checked", "[verify]") {
  TempDir tmp;
  const fs::path dir = fs::path(tmp.path()) / "log";
  CopyGolden(dir);

  std::vector<uint64_t> indexes;
  std::vector<std::string> entries;
  uint64_t last_done = 0, last_total = 0;
  VerifyOptions options = GoldenOptions();
  options.entry_check = [&](uint64_t index, std::string_view entry) {
    indexes.push_back(index);
    entries.emplace_back(entry);
    return Status::Ok();
  };
  options.progress = [&](uint64_t done, uint64_t total) {
    CHECK(done >= last_done);
    last_done = done;
    last_total = total;
  };
  VerifyReport report;
  Status st = Verify(dir, options, &report);
  INFO(st.ToString());
  REQUIRE(st.ok());
  CHECK(report.checkpoint.origin == "example.com/log/testdata");
  CHECK(report.checkpoint.size == kGoldenSize);
  CHECK(report.entries == kGoldenSize);
  CHECK(report.tiles_checked == 15);    // tile/0/000.p/1..15
  CHECK(report.bundles_checked == 15);  // tile/entries/000.p/1..15
  CHECK(report.files_checked == 15 + 15 + 17);
  CHECK(last_done == kGoldenSize);
  CHECK(last_total == kGoldenSize);

  // Entries arrive in order and are the bundle's bytes.
  REQUIRE(indexes.size() == kGoldenSize);
  for (uint64_t i = 0; i < kGoldenSize; ++i) CHECK(indexes[i] == i);
  std::vector<std::string> parsed;
  REQUIRE(ParseBundle(ReadFile(dir / "tile/entries/000.p/15"), &parsed).ok());
  CHECK(entries == parsed);
  CHECK(entries[0] == "one");
}

TEST_CASE("verifier passes entry_check failures through, naming the bundle", "[verify]") {
  TempDir tmp;
  const fs::path dir = fs::path(tmp.path()) / "log";
  CopyGolden(dir);
  VerifyOptions options = GoldenOptions();
  options.entry_check = [](uint64_t index, std::string_view) {
    return index == 7 ? Status::Corruption("content/abc: digest mismatch") : Status::Ok();
  };
  Status st = Verify(dir, options);
  REQUIRE(!st.ok());
  CHECK(st.code() == Status::Code::kCorruption);
  CHECK(st.message().find("tile/entries/000.p/15") != std::string::npos);
  CHECK(st.message().find("entry 7") != std::string::npos);
  CHECK(st.message().find("content/abc: digest mismatch") != std::string::npos);
}

TEST_CASE("verifier checks --since against every archived golden checkpoint", "[verify]") {
  TempDir tmp;
  const fs::path dir = fs::path(tmp.path()) / "log";
  CopyGolden(dir);
  for (uint64_t m = 0; m <= kGoldenSize; ++m) {
    VerifyOptions options = GoldenOptions();
    options.since_checkpoint = ReadFile(dir / ("checkpoint." + std::to_string(m)));
    Status st = Verify(dir, options);
    INFO("since checkpoint." << m << ": " << st.ToString());
    CHECK(st.ok());
  }
}

TEST_CASE("verifier refuses a wrong key and another log's --since checkpoint", "[verify]") {
  TempDir tmp;
  const fs::path dir = fs::path(tmp.path()) / "log";
  CopyGolden(dir);

  NoteSigner same_name, other;
  REQUIRE(NoteSigner::Generate("example.com/log/testdata", &same_name).ok());
  REQUIRE(NoteSigner::Generate("example.com/log/other", &other).ok());

  SECTION("no key") {
    VerifyOptions options;
    CHECK(Verify(dir, options).code() == Status::Code::kInvalidArgument);
  }
  SECTION("a malformed key") {
    VerifyOptions options;
    options.vkeys = {"not a key"};
    CHECK(Verify(dir, options).code() == Status::Code::kInvalidArgument);
  }
  SECTION("a key of the same name but another key pair") {
    VerifyOptions options;
    options.vkeys = {same_name.Verifier().ToString()};
    Status st = Verify(dir, options);
    REQUIRE(!st.ok());
    CHECK(st.message().rfind("checkpoint:", 0) == 0);
  }
  SECTION("another log's key") {
    VerifyOptions options;
    options.vkeys = {other.Verifier().ToString()};
    CHECK(!Verify(dir, options).ok());
  }
  SECTION("the right key among others") {
    VerifyOptions options;
    options.vkeys = {other.Verifier().ToString(), kGoldenVkey};
    Status st = Verify(dir, options);
    INFO(st.ToString());
    CHECK(st.ok());
  }

  // A checkpoint of another log: same size as an archived one, its own key and root.
  Checkpoint foreign{"example.com/log/other", 3, Sha256("x"), {}};
  std::string foreign_note;
  REQUIRE(SignCheckpoint(foreign, other, &foreign_note).ok());
  SECTION("--since from another log, its key unknown") {
    VerifyOptions options = GoldenOptions();
    options.since_checkpoint = foreign_note;
    Status st = Verify(dir, options);
    REQUIRE(!st.ok());
    CHECK(st.message().find("not an extension of the --since checkpoint") != std::string::npos);
  }
  SECTION("--since from another log, its key trusted too") {
    VerifyOptions options = GoldenOptions();
    options.vkeys.push_back(other.Verifier().ToString());
    options.since_checkpoint = foreign_note;
    Status st = Verify(dir, options);
    REQUIRE(!st.ok());
    CHECK(st.message().find("not an extension of the --since checkpoint") != std::string::npos);
  }
  SECTION("--since that is not a note") {
    VerifyOptions options = GoldenOptions();
    options.since_checkpoint = "garbage";
    CHECK(!Verify(dir, options).ok());
  }
}

// Builds at `dir` the smallest golden tree in which `rel` is still checked: `checkpoint`, the
// right-edge tile and bundle, `rel`, and (for an archived checkpoint.M) the partials of size M it
// requires. Dropping the other files only drops checks (archived checkpoints and older partials
// that nothing requires), so damage to `rel` must be found here if anywhere; and each run then
// reads 4-6 files and verifies 1-2 signatures (~0.2 ms each here) instead of 47 and 17.
void MakeMinimalTree(const fs::path& dir, const std::string& rel) {
  fs::remove_all(dir);
  std::vector<std::string> keep = {"checkpoint", "tile/0/000.p/15", "tile/entries/000.p/15", rel};
  if (IsArchivedCheckpoint(rel)) {
    const std::string m = rel.substr(std::string("checkpoint.").size());
    if (m != "0") {
      keep.push_back("tile/0/000.p/" + m);
      keep.push_back("tile/entries/000.p/" + m);
    }
  }
  for (const std::string& f : keep) {
    fs::create_directories((dir / f).parent_path());
    fs::copy_file(GoldenDir() / f, dir / f, fs::copy_options::overwrite_existing);
    fs::permissions(dir / f, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::add);
  }
}

TEST_CASE("verifier detects every flipped byte of the golden log, naming the file", "[verify]") {
  TempDir tmp;
  const fs::path full = fs::path(tmp.path()) / "full";
  CopyGolden(full);
  const std::vector<std::string> files = FilesUnder(full);
  REQUIRE(files.size() == 17 + 15 + 15);

  // Every byte ^ 0x01, then every 7th byte ^ 0x80 (high bit: invalid UTF-8, huge lengths).
  // Two workers, each on its own minimal tree, share the ~9,000 runs.
  constexpr size_t kWorkers = 2;
  std::vector<DamageChecker> checkers;
  for (size_t w = 0; w < kWorkers; ++w) {
    checkers.emplace_back(fs::path(tmp.path()) / ("minimal" + std::to_string(w)), GoldenOptions());
  }
  std::vector<std::thread> workers;
  for (size_t w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      DamageChecker& checker = checkers[w];
      for (size_t i = w; i < files.size(); i += kWorkers) {
        const std::string& rel = files[i];
        MakeMinimalTree(checker.dir(), rel);
        Status st = Verify(checker.dir(), GoldenOptions());
        if (!st.ok()) checker.Record("minimal tree for " + rel + ": " + st.ToString());
        FlipBytes(&checker, checker.dir(), rel, 0x01, 1);
        FlipBytes(&checker, checker.dir(), rel, 0x80, 7);
      }
    });
  }
  for (std::thread& t : workers) t.join();
  int runs = 0;
  for (const DamageChecker& checker : checkers) {
    INFO(checker.Summary());
    CHECK(checker.failures().empty());
    runs += checker.runs();
  }
  CHECK(runs > 7600 + 1000);

  // And a sparse sample with every file present.
  DamageChecker sample(full, GoldenOptions());
  for (const std::string& rel : files) FlipBytes(&sample, full, rel, 0x01, 97);
  INFO(sample.Summary());
  CHECK(sample.failures().empty());
  REQUIRE(Verify(full, GoldenOptions()).ok());  // every byte was restored
}

TEST_CASE("verifier detects truncated and removed golden files, naming them", "[verify]") {
  TempDir tmp;
  const fs::path dir = fs::path(tmp.path()) / "log";
  CopyGolden(dir);
  const std::vector<std::string> files = FilesUnder(dir);
  DamageChecker checker(dir, GoldenOptions());

  for (const std::string& rel : files) {
    const std::string original = ReadFile(dir / rel);
    fs::resize_file(dir / rel, original.size() - 1);
    checker.ExpectFailureNaming(rel, rel + " cut by one byte");
    REQUIRE(PatchByte(dir / rel, original.size() - 1, original.back()));
  }

  // Every tile and bundle is needed: the right edge by `checkpoint`, each older partial .p/W by
  // the archived checkpoint.W (a log must keep serving the tiles of every checkpoint it signed).
  for (const std::string& rel : files) {
    if (rel.rfind("tile/", 0) != 0 && rel != "checkpoint") continue;
    const fs::path aside = fs::path(tmp.path()) / "aside";
    fs::rename(dir / rel, aside);
    checker.ExpectFailureNaming(rel, rel + " removed");
    fs::rename(aside, dir / rel);
  }
  INFO(checker.Summary());
  CHECK(checker.failures().empty());

  // An archived checkpoint is an extra claim, not a requirement: without it, nothing says size 3
  // was ever checkpointed, so its partials may go too (the spec lets a log delete partials once
  // no checkpoint it serves needs them).
  fs::remove(dir / "checkpoint.3");
  Status st = Verify(dir, GoldenOptions());
  INFO(st.ToString());
  CHECK(st.ok());
  fs::remove(dir / "tile/0/000.p/3");
  fs::remove(dir / "tile/entries/000.p/3");
  st = Verify(dir, GoldenOptions());
  INFO(st.ToString());
  CHECK(st.ok());
}

TEST_CASE("verifier refuses files under tile/ that the checkpoint does not cover", "[verify]") {
  TempDir tmp;
  const fs::path dir = fs::path(tmp.path()) / "log";
  CopyGolden(dir);
  const std::string some_tile = ReadFile(dir / "tile/0/000.p/1");
  const std::string some_bundle = ReadFile(dir / "tile/entries/000.p/1");

  struct Extra {
    std::string rel;
    std::string bytes;
  };
  const std::vector<Extra> extras = {
      {"tile/0/000.p/16", some_tile},          // beyond size 15
      {"tile/entries/000.p/16", some_bundle},  // beyond size 15
      {"tile/0/000", some_tile},               // a full tile of a 15-entry tree
      {"tile/entries/000", some_bundle},
      {"tile/0/001.p/1", some_tile},
      {"tile/1/000.p/1", some_tile},    // level 1 does not exist at size 15
      {"tile/0/000.p/015", some_tile},  // not a canonical path
      {"tile/0/000.p/0", some_tile},
      {"tile/0/x000/000.p/1", some_tile},
      {"tile/junk", "x"},
      {"tile/entries/README", "x"},
      {"tile/0/000.p/notes/a", "x"},
  };
  for (const Extra& extra : extras) {
    fs::create_directories((dir / extra.rel).parent_path());
    WriteFile(dir / extra.rel, extra.bytes);
    Status st = Verify(dir, GoldenOptions());
    INFO(extra.rel << ": " << st.ToString());
    CHECK(!st.ok());
    CHECK(st.message().rfind(extra.rel + ": ", 0) == 0);
    fs::remove(dir / extra.rel);
  }
  fs::remove_all(dir / "tile/0/000.p/notes");
  fs::remove_all(dir / "tile/0/x000");
  REQUIRE(Verify(dir, GoldenOptions()).ok());

  // An empty log (size 0) publishes no tile at all.
  const fs::path empty = fs::path(tmp.path()) / "empty";
  fs::create_directories(empty / "tile/entries/000.p");
  fs::copy_file(GoldenDir() / "checkpoint.0", empty / "checkpoint");
  VerifyReport empty_report;
  Status empty_st = Verify(empty, GoldenOptions(), &empty_report);
  INFO(empty_st.ToString());
  CHECK(empty_st.ok());
  CHECK(empty_report.checkpoint.size == 0);
  CHECK(empty_report.files_checked == 1);
  WriteFile(empty / "tile/entries/000.p/1", some_bundle);
  CHECK(Verify(empty, GoldenOptions()).message().rfind("tile/entries/000.p/1: ", 0) == 0);

  // At the root only checkpoint, checkpoint.* and tile/ are the log's; the rest is noted.
  fs::create_directories(dir / ".ledger/wal");
  WriteFile(dir / ".ledger/wal/000001", "private");
  fs::create_directories(dir / "content");
  WriteFile(dir / "content/abc", "content");
  WriteFile(dir / "README", "hello");
  VerifyReport report;
  Status st = Verify(dir, GoldenOptions(), &report);
  INFO(st.ToString());
  REQUIRE(st.ok());
  REQUIRE(report.notes.size() >= 1);
  bool noted = false;
  for (const std::string& note : report.notes) noted |= note.find("README") != std::string::npos;
  CHECK(noted);
}

// ---- a bigger tree built here -------------------------------------------------------------------

// A Storage over a directory whose whole-object writes skip the fsyncs: the files are the same as
// PosixStorage's, but building ~600 of them costs milliseconds instead of ~10 s on a virtual
// disk. Durability is no concern of these tests; every read goes through PosixStorage.
class UnsyncedStorage final : public Storage {
 public:
  UnsyncedStorage(fs::path root, std::unique_ptr<Storage> base)
      : root_(std::move(root)), base_(std::move(base)) {}
  std::string Describe() const override { return base_->Describe(); }
  Status PutIfAbsent(const std::string& name, std::string_view data) override {
    if (fs::exists(root_ / name)) return Status::AlreadyExists(name);
    return Replace(name, data);
  }
  Status Replace(const std::string& name, std::string_view data) override {
    fs::create_directories((root_ / name).parent_path());
    WriteFile(root_ / name, std::string(data));
    return Status::Ok();
  }
  Status Read(const std::string& name, std::string* out) override { return base_->Read(name, out); }
  Status ReadAt(const std::string& name, uint64_t offset, size_t n, std::string* out) override {
    return base_->ReadAt(name, offset, n, out);
  }
  Status Size(const std::string& name, uint64_t* out) override { return base_->Size(name, out); }
  bool Exists(const std::string& name) override { return base_->Exists(name); }
  Status List(const std::string& dir, std::vector<std::string>* names) override {
    return base_->List(dir, names);
  }
  Status Remove(const std::string& name) override { return base_->Remove(name); }
  Status RemoveTree(const std::string& dir) override { return base_->RemoveTree(dir); }
  Status OpenAppendable(const std::string& name, std::unique_ptr<StorageWriter>* out) override {
    return base_->OpenAppendable(name, out);
  }
  Status CreateStaged(const std::string& dir, std::unique_ptr<StorageWriter>* out) override {
    return base_->CreateStaged(dir, out);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_->Rename(from, to);
  }
  Status SyncDir(const std::string& dir) override { return base_->SyncDir(dir); }
  Status Lock(const std::string& name, std::unique_ptr<StorageLock>* out) override {
    return base_->Lock(name, out);
  }

 private:
  fs::path root_;
  std::unique_ptr<Storage> base_;
};

// Writes a log of entries "entry <i>" the way a writer grows it: for each size, the bundles and
// tiles that changed (TilesToPublish), then the checkpoint, archived as checkpoint.<size>.
void BuildLog(Storage& store, const NoteSigner& signer, const std::vector<uint64_t>& sizes,
              std::vector<std::string>* notes) {
  const uint64_t n = sizes.back();
  std::vector<std::string> entries;
  std::vector<Hash> leaves;
  entries.reserve(n);
  leaves.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    entries.push_back("entry " + std::to_string(i));
    leaves.push_back(LeafHash(entries.back()));
  }
  MemoryHashReader reader(leaves);
  uint64_t old = 0;
  for (uint64_t size : sizes) {
    for (uint64_t b = old / kTileWidth; b * kTileWidth < size; ++b) {
      const int width = TileWidthAt(0, b, size);
      if (width == TileWidthAt(0, b, old)) continue;
      std::string bundle;
      for (uint64_t i = b * kTileWidth; i < b * kTileWidth + static_cast<uint64_t>(width); ++i) {
        REQUIRE(AppendToBundle(entries[i], &bundle).ok());
      }
      REQUIRE(store.PutIfAbsent(EntryBundlePath(b, width), bundle).ok());
    }
    for (const TileId& tile : TilesToPublish(old, size)) {
      std::vector<Hash> hashes;
      const uint64_t begin = tile.index * kTileWidth;
      REQUIRE(reader
                  .ReadTileHashes(tile.level, begin, begin + static_cast<uint64_t>(tile.width),
                                  size, &hashes)
                  .ok());
      REQUIRE(store.PutIfAbsent(HashTilePath(tile), TileBytes(hashes)).ok());
    }
    Checkpoint cp{signer.name(), size, {}, {}};
    REQUIRE(TreeHash(reader, size, &cp.root).ok());
    std::string note;
    REQUIRE(SignCheckpoint(cp, signer, &note).ok());
    REQUIRE(store.Replace("checkpoint", note).ok());
    REQUIRE(store.PutIfAbsent("checkpoint." + std::to_string(size), note).ok());
    notes->push_back(note);
    old = size;
  }
}

TEST_CASE("verifier rebuilds a 70,000-entry tree and finds damage in deep tiles", "[verify]") {
  TempDir tmp;
  const fs::path dir = fs::path(tmp.path()) / "log";
  std::unique_ptr<Storage> posix;
  REQUIRE(OpenPosixStorage(dir.string(), true, &posix).ok());
  auto store = std::make_unique<UnsyncedStorage>(dir, std::move(posix));
  NoteSigner signer;
  REQUIRE(NoteSigner::Generate("example.com/synthetic", &signer).ok());
  // 65,536 fills level 1's first tile; 69,000 leaves older partials at levels 0, 1 and 2.
  std::vector<std::string> notes;
  BuildLog(*store, signer, {1000, 65536, 69000, 70000}, &notes);

  VerifyOptions options;
  options.vkeys = {signer.Verifier().ToString()};
  uint64_t progress_calls = 0;
  options.progress = [&](uint64_t, uint64_t) { ++progress_calls; };
  VerifyReport report;
  Status st = VerifyTree(*store, options, &report);
  INFO(st.ToString());
  REQUIRE(st.ok());
  CHECK(report.entries == 70000);
  // The spec's example for size 70,000: 273 full level-0 tiles + .p/112, one full level-1 tile +
  // .p/17, and level-2 .p/1; plus the older partials left by sizes 1000 and 69,000 (none of size
  // 65,536: it is a multiple of 256^2).
  CHECK(fs::exists(dir / "tile/0/273.p/112"));
  CHECK(fs::exists(dir / "tile/1/001.p/17"));
  CHECK(fs::exists(dir / "tile/2/000.p/1"));
  // Level 0: 273 full, 003.p/232, 269.p/136, 273.p/112; level 1: 000, 000.p/3, 001.p/13,
  // 001.p/17; level 2: 000.p/1. Bundles as level 0.
  CHECK(report.tiles_checked == 276 + 4 + 1);
  CHECK(report.bundles_checked == 276);
  CHECK(progress_calls >= 50);
  CHECK(progress_calls <= 300);

  // The blocks below share the tree (building it is the slow part) and undo what they change.
  {
    INFO("every archived size works as --since; forged ones do not");
    for (const std::string& note : notes) {
      options.since_checkpoint = note;
      st = VerifyTree(*store, options, nullptr);
      INFO(st.ToString());
      CHECK(st.ok());
    }
    std::string forged;
    REQUIRE(SignCheckpoint({signer.name(), 69000, Sha256("forged"), {}}, signer, &forged).ok());
    options.since_checkpoint = forged;
    st = VerifyTree(*store, options, nullptr);
    CHECK(st.message().find("not an extension of the --since checkpoint") != std::string::npos);
    REQUIRE(SignCheckpoint({signer.name(), 70001, Sha256("forged"), {}}, signer, &forged).ok());
    options.since_checkpoint = forged;
    st = VerifyTree(*store, options, nullptr);
    CHECK(st.message().find("not an extension of the --since checkpoint") != std::string::npos);
    options.since_checkpoint.reset();
  }
  {
    INFO("a checkpoint signed over the wrong root is refused");
    std::string bad;
    REQUIRE(SignCheckpoint({signer.name(), 70000, Sha256("wrong"), {}}, signer, &bad).ok());
    REQUIRE(store->Replace("checkpoint", bad).ok());
    st = VerifyTree(*store, options, nullptr);
    CHECK(st.message().rfind("checkpoint: root", 0) == 0);
    REQUIRE(store->Replace("checkpoint", notes.back()).ok());
  }
  {
    INFO("an archived checkpoint that is not a prefix is refused");
    std::string bad;
    REQUIRE(SignCheckpoint({signer.name(), 1000, Sha256("wrong"), {}}, signer, &bad).ok());
    REQUIRE(store->Replace("checkpoint.1000", bad).ok());
    st = VerifyTree(*store, options, nullptr);
    CHECK(st.message().rfind("checkpoint.1000: root", 0) == 0);
    REQUIRE(store->Replace("checkpoint.1000", notes.front()).ok());
  }
  {
    INFO("flipped bytes in full tiles at levels 0 and 1, full bundles and partials");
    DamageChecker checker(dir, options);
    // One byte early in some files, the last byte in others.
    const std::vector<std::pair<std::string, bool>> targets = {
        {"tile/0/000", false},       {"tile/0/272", true},
        {"tile/1/000", false},       {"tile/1/000", true},
        {"tile/entries/000", false}, {"tile/entries/200", true},
        {"tile/0/003.p/232", true},  // older partials: from size 1000 ...
        {"tile/1/001.p/13", false},  {"tile/entries/269.p/136", true},  // ... and 69,000
        {"tile/2/000.p/1", false},   {"tile/0/273.p/112", true},        // the right edge
    };
    for (const auto& [rel, last] : targets) {
      REQUIRE(fs::exists(dir / rel));
      const std::string bytes = ReadFile(dir / rel);
      const size_t at = last ? bytes.size() - 1 : bytes.size() / 7;
      REQUIRE(PatchByte(dir / rel, at, static_cast<char>(bytes[at] ^ 0x01)));
      checker.ExpectFailureNaming(rel, rel + " byte " + std::to_string(at));
      REQUIRE(PatchByte(dir / rel, at, bytes[at]));
    }
    INFO(checker.Summary());
    CHECK(checker.failures().empty());
    CHECK(VerifyTree(*store, options, nullptr).ok());
  }
  {
    INFO("a missing full tile, and an uncovered full tile, are named");
    REQUIRE(store->PutIfAbsent("tile/0/273", std::string(8192, 'x')).ok());
    st = VerifyTree(*store, options, nullptr);
    CHECK(st.message().rfind("tile/0/273:", 0) == 0);
    REQUIRE(store->Remove("tile/0/273").ok());
    const fs::path aside = fs::path(tmp.path()) / "aside";
    fs::rename(dir / "tile/0/100", aside);
    st = VerifyTree(*store, options, nullptr);
    CHECK(st.code() == Status::Code::kNotFound);
    CHECK(st.message().rfind("tile/0/100:", 0) == 0);
    fs::rename(aside, dir / "tile/0/100");
  }
  CHECK(VerifyTree(*store, options, nullptr).ok());
}

}  // namespace
}  // namespace ledger
