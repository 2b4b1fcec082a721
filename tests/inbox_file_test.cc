// InboxFile: the seal-on-close rule of an inbox file over a real store, log, Records and
// RecordIndex, with a fake ProcessProbe deciding who calls. Who seals (the opener's FLUSH after
// data, or RELEASE), who does not (other processes, unknown callers, FLUSH before data, a writer
// killed by a signal), what a sealed file refuses, resize/fallocate, out-of-order writes, and
// seals that fail (ENOSPC, EIO through FaultInjectionStorage). Digests come from OpenSSL and the
// manifests are read as text, not with ledger code.
#include <linux/falloc.h>
#include <openssl/evp.h>
#include <time.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "fs/inbox_file.h"
#include "fs/process_probe.h"
#include "ledger/fault_injection_storage.h"
#include "ledger/log.h"
#include "ledger/note.h"
#include "ledger/posix_storage.h"
#include "ledger/record_index.h"
#include "ledger/records.h"
#include "spdlog/spdlog.h"
#include "support/independent.h"
#include "support/require_ok.h"
#include "support/temp_dir.h"
#include "support/test_data.h"

namespace {

using ledger::testing::ExpectedMs;
using ledger::testing::ManifestField;
using ledger::testing::Sha256Hex;

using ledger::RecordIndex;
using ledger::Status;

constexpr pid_t kOpener = 100;        // the creating process
constexpr pid_t kOpenerThread = 101;  // another thread of it
constexpr pid_t kOther = 200;         // another process
constexpr pid_t kUnknown = 300;       // a caller whose process the daemon cannot see

constexpr char kEmptySha[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Answers from a table; pids not in it are unknown (tgid 0).
class FakeProbe final : public fs::ProcessProbe {
 public:
  FakeProbe() {
    Set(kOpener, {kOpener, false});
    Set(kOpenerThread, {kOpener, false});
    Set(kOther, {kOther, false});
    Set(kUnknown, {0, false});
  }
  void Set(pid_t pid, fs::CallerInfo info) {
    std::lock_guard<std::mutex> lock(mu_);
    callers_[pid] = info;
  }
  fs::CallerInfo Inspect(pid_t pid) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = callers_.find(pid);
    return it == callers_.end() ? fs::CallerInfo{} : it->second;
  }

 private:
  std::mutex mu_;
  std::map<pid_t, fs::CallerInfo> callers_;
};

// A store, its log, Records and RecordIndex; optionally through a FaultInjectionStorage.
struct World {
  ledger::testing::TempDir dir{"/dev/shm"};
  ledger::NoteSigner signer;
  std::unique_ptr<ledger::Storage> storage;
  ledger::FaultInjectionStorage* faulty = nullptr;  // owned by `storage` when set
  std::unique_ptr<ledger::Log> log;
  std::unique_ptr<ledger::Records> records;
  RecordIndex index;
  FakeProbe probe;

  explicit World(bool fault_injection = false) {
    std::unique_ptr<ledger::Storage> base;
    REQUIRE_OK(ledger::OpenPosixStorage(dir.path(), true, &base));
    REQUIRE_OK(ledger::NoteSigner::Generate("example.com/inbox-test", &signer));
    REQUIRE_OK(ledger::Log::Create(base.get(), signer));
    if (fault_injection) {
      auto f = std::make_unique<ledger::FaultInjectionStorage>(std::move(base));
      faulty = f.get();
      storage = std::move(f);
    } else {
      storage = std::move(base);
    }
    ledger::LogOptions opts;
    opts.background_publish = false;
    REQUIRE_OK(ledger::Log::Open(storage.get(), signer, opts, &log));
    records = std::make_unique<ledger::Records>(log.get(), storage.get());
    REQUIRE_OK(index.Load(log.get()));
  }
  ~World() {
    if (faulty != nullptr) {
      faulty->ClearWriteFailure();
      faulty->ClearSyncFailure();
    }
    records.reset();
    log.reset();
    storage.reset();
  }

  std::unique_ptr<fs::InboxFile> Create(const std::string& name, pid_t opener = kOpener) {
    RecordIndex::NodeId id = 0;
    std::string path;
    REQUIRE_OK(index.Reserve(RecordIndex::kRoot, name, false, &id, &path));
    REQUIRE(path == name);
    std::unique_ptr<ledger::RecordWriter> writer;
    REQUIRE_OK(records->BeginFile(path, &writer));
    return std::make_unique<fs::InboxFile>(&index, &probe, id, path, std::move(writer), opener);
  }

  uint64_t Committed() const { return log->committed_size(); }

  std::vector<std::string> Entries() {
    std::vector<std::string> entries;
    uint64_t next = 0;
    REQUIRE_OK(log->ReadSince(0, 1000, &entries, &next));
    return entries;
  }

  // Issued staged objects: content not yet moved into place, or left behind.
  std::vector<std::string> Staged() {
    std::vector<std::string> names;
    Status st = storage->List(ledger::store_layout::kStagingDir, &names);
    if (st.code() == Status::Code::kNotFound) return {};
    REQUIRE_OK(st);
    return names;
  }

  bool Exists(const std::string& name) {
    RecordIndex::Entry e;
    return index.Lookup(RecordIndex::kRoot, name, &e);
  }

  bool Sealed(const std::string& name) {
    RecordIndex::Entry e;
    return index.Lookup(RecordIndex::kRoot, name, &e) && e.sealed;
  }

  // The name is not in the namespace, and a new writer can take it.
  void CheckFree(const std::string& name) {
    INFO(name);
    CHECK_FALSE(Exists(name));
    RecordIndex::NodeId id = 0;
    std::string path;
    REQUIRE_OK(index.Reserve(RecordIndex::kRoot, name, false, &id, &path));
    index.Unreserve(id);
    CHECK_FALSE(Exists(name));
  }

  // `name` is a sealed record holding exactly `content`: in the index, in the log's manifest at
  // the entry's index, and in the store under its digest.
  void CheckSealed(const std::string& name, const std::string& content) {
    INFO(name);
    const std::string hex = Sha256Hex(content);
    RecordIndex::Entry e;
    REQUIRE(index.Lookup(RecordIndex::kRoot, name, &e));
    CHECK(e.sealed);
    CHECK(e.recorded);
    CHECK_FALSE(e.directory);
    CHECK(e.size == content.size());
    CHECK(e.sha256 == ledger::testing::HexHash(hex));

    const std::vector<std::string> entries = Entries();
    REQUIRE(e.index < entries.size());
    const std::string& m = entries[e.index];
    INFO(m);
    CHECK(m.rfind("service-fs/record/v1\nkind file\n", 0) == 0);
    CHECK(ManifestField(m, "path") == name);
    CHECK(ManifestField(m, "size") == std::to_string(content.size()));
    CHECK(ManifestField(m, "sha256") == hex);
    CHECK(e.received_ms == ExpectedMs(ManifestField(m, "received")));

    std::string readable;
    REQUIRE_OK(log->ResolveAttachment("content/" + hex.substr(0, 2) + "/" + hex, &readable));
    std::string stored;
    REQUIRE_OK(storage->Read(readable, &stored));
    CHECK(stored.size() == content.size());
    CHECK(stored == content);
  }
};

}  // namespace

TEST_CASE("The opener's flush after writing seals the record", "[fs]") {
  World w;
  auto f = w.Create("report.txt");
  CHECK(f->path() == "report.txt");
  CHECK(f->Write(0, "hello ") == 0);
  CHECK(f->Write(6, "world") == 0);
  CHECK(f->size() == 11);
  CHECK(w.Exists("report.txt"));
  CHECK_FALSE(w.Sealed("report.txt"));
  CHECK(w.Committed() == 0);

  CHECK(f->Flush(kOpener) == 0);
  CHECK(w.Committed() == 1);
  w.CheckSealed("report.txt", "hello world");
  CHECK(f->size() == 11);
  RecordIndex::Entry e;
  REQUIRE(w.index.Lookup(RecordIndex::kRoot, "report.txt", &e));
  CHECK(e.id == f->node());
  CHECK(e.index == 0);

  // Further closes and the release add nothing.
  CHECK(f->Flush(kOpener) == 0);
  CHECK(f->Flush(kOther) == 0);
  f->Release();
  f.reset();
  CHECK(w.Committed() == 1);
  w.CheckSealed("report.txt", "hello world");

  // The record survives a reload of the namespace from the log.
  RecordIndex reloaded;
  REQUIRE_OK(reloaded.Load(w.log.get()));
  RecordIndex::Entry r;
  REQUIRE(reloaded.Lookup(RecordIndex::kRoot, "report.txt", &r));
  CHECK(r.sha256 == e.sha256);
  CHECK(r.size == 11);
  CHECK(r.received_ms == e.received_ms);
}

TEST_CASE("A flush from another thread of the opener seals", "[fs]") {
  World w;
  auto f = w.Create("threaded");
  CHECK(f->Write(0, "from a worker thread") == 0);
  CHECK(f->Flush(kOpenerThread) == 0);
  CHECK(w.Committed() == 1);
  w.CheckSealed("threaded", "from a worker thread");
}

TEST_CASE("A flush before any write does not seal (dd, shell redirections)", "[fs]") {
  World w;
  auto f = w.Create("dd.out");
  CHECK(f->size() == 0);
  CHECK(f->Flush(kOpener) == 0);
  CHECK(w.Committed() == 0);
  CHECK(w.Exists("dd.out"));
  CHECK_FALSE(w.Sealed("dd.out"));

  CHECK(f->Write(0, "payload") == 0);
  CHECK(w.Committed() == 0);
  CHECK(f->Flush(kOpener) == 0);
  CHECK(w.Committed() == 1);
  w.CheckSealed("dd.out", "payload");
  f->Release();
  CHECK(w.Committed() == 1);
}

TEST_CASE("Flushes by other or unknown processes do not seal; release does", "[fs]") {
  World w;
  auto f = w.Create("shared.bin");
  CHECK(f->Write(0, "written by the opener") == 0);

  SECTION("another process") {
    CHECK(f->Flush(kOther) == 0);
    CHECK(w.Committed() == 0);
    CHECK_FALSE(w.Sealed("shared.bin"));
  }
  SECTION("a caller whose tgid is unknown (0)") {
    CHECK(f->Flush(kUnknown) == 0);
    CHECK(w.Committed() == 0);
    CHECK_FALSE(w.Sealed("shared.bin"));
  }
  SECTION("a pid the probe has never heard of") {
    CHECK(f->Flush(4242) == 0);
    CHECK(f->Flush(0) == 0);
    CHECK(w.Committed() == 0);
    CHECK_FALSE(w.Sealed("shared.bin"));
  }
  f->Release();
  CHECK(w.Committed() == 1);
  w.CheckSealed("shared.bin", "written by the opener");
  CHECK(f->Flush(kOpener) == 0);
  CHECK(w.Committed() == 1);
}

TEST_CASE("Bytes written by another process before the last close are in the record", "[fs]") {
  World w;
  auto f = w.Create("shared.bin");
  CHECK(f->Write(0, "written by the opener") == 0);
  CHECK(f->Write(21, ", then by another") == 0);
  CHECK(f->Flush(kOther) == 0);
  CHECK(w.Committed() == 0);
  f->Release();
  CHECK(w.Committed() == 1);
  w.CheckSealed("shared.bin", "written by the opener, then by another");
}

TEST_CASE("A sealed file refuses writes; flushes still succeed", "[fs]") {
  World w;
  auto f = w.Create("worm.txt");
  CHECK(f->Write(0, "final") == 0);
  CHECK(f->Flush(kOpener) == 0);
  REQUIRE(w.Sealed("worm.txt"));

  CHECK(f->Write(5, " and more") == EPERM);
  CHECK(f->Write(0, "X") == EPERM);
  CHECK(f->Write(0, "") == EPERM);
  CHECK(f->Resize(0) != 0);
  CHECK(f->Resize(100) != 0);
  CHECK(f->Allocate(0, 0, 100) != 0);
  CHECK(f->size() == 5);
  CHECK(f->Flush(kOpener) == 0);
  CHECK(f->Flush(kOther) == 0);
  CHECK(f->Flush(kUnknown) == 0);
  f->Release();
  CHECK(w.Committed() == 1);
  w.CheckSealed("worm.txt", "final");
}

TEST_CASE("An inbox file cannot be read", "[fs]") {
  World w;
  auto f = w.Create("secret");
  std::string out = "untouched";
  CHECK(f->Read(0, 10, &out) == EACCES);
  CHECK(f->Write(0, "data") == 0);
  CHECK(f->Read(0, 4, &out) == EACCES);
  CHECK(f->Flush(kOpener) == 0);
  CHECK(f->Read(0, 4, &out) == EACCES);
  CHECK(out == "untouched");
}

TEST_CASE("A writer killed by a signal leaves no record and frees the name", "[fs]") {
  World w;
  auto f = w.Create("partial.log");
  CHECK(f->Write(0, "half of what was meant") == 0);
  w.probe.Set(kOpener, {kOpener, true});
  CHECK(f->Flush(kOpener) == 0);
  CHECK(w.Committed() == 0);
  CHECK_FALSE(w.Sealed("partial.log"));
  f->Release();
  CHECK(w.Committed() == 0);
  w.CheckFree("partial.log");
  CHECK(w.Staged().empty());
  f.reset();
  CHECK(w.Committed() == 0);
  CHECK_FALSE(w.Exists("partial.log"));

  // The name takes a new file that seals normally.
  w.probe.Set(kOpener, {kOpener, false});
  auto again = w.Create("partial.log");
  CHECK(again->Write(0, "complete") == 0);
  CHECK(again->Flush(kOpener) == 0);
  w.CheckSealed("partial.log", "complete");
  CHECK(w.Committed() == 1);
}

TEST_CASE("A file never written is sealed empty at release", "[fs]") {
  World w;
  auto f = w.Create("touched");
  SECTION("closed by the opener first (touch)") {
    CHECK(f->Flush(kOpener) == 0);
    CHECK(w.Committed() == 0);
  }
  SECTION("released directly") {}
  f->Release();
  CHECK(w.Committed() == 1);
  w.CheckSealed("touched", "");
  RecordIndex::Entry e;
  REQUIRE(w.index.Lookup(RecordIndex::kRoot, "touched", &e));
  CHECK(e.size == 0);
  CHECK(e.sha256 == ledger::testing::HexHash(kEmptySha));
  CHECK(ManifestField(w.Entries()[0], "sha256") == kEmptySha);
  CHECK(f->Write(0, "late") == EPERM);
}

TEST_CASE("Resize grows with zeros, accepts the same size and refuses to shrink", "[fs]") {
  World w;
  auto f = w.Create("sized");
  CHECK(f->Resize(0) == 0);  // O_TRUNC of a new file
  CHECK(f->Write(0, "abc") == 0);
  CHECK(f->Resize(3) == 0);
  CHECK(f->size() == 3);
  CHECK(f->Resize(10) == 0);
  CHECK(f->size() == 10);
  CHECK(f->Resize(10) == 0);
  CHECK(f->Resize(5) == EPERM);
  CHECK(f->Resize(0) == EPERM);
  CHECK(f->size() == 10);
  CHECK(f->Write(10, "Z") == 0);
  CHECK(f->size() == 11);
  CHECK(f->Flush(kOpener) == 0);
  w.CheckSealed("sized", std::string("abc") + std::string(7, '\0') + "Z");
}

TEST_CASE("Allocate: mode 0 grows, KEEP_SIZE does nothing, other modes are refused", "[fs]") {
  World w;
  auto f = w.Create("allocated");
  CHECK(f->Write(0, "abc") == 0);
  CHECK(f->Allocate(0, 0, 2) == 0);  // inside the file: nothing to do
  CHECK(f->size() == 3);
  CHECK(f->Allocate(0, 3, 5) == 0);  // up to byte 8
  CHECK(f->size() == 8);
  CHECK(f->Allocate(FALLOC_FL_KEEP_SIZE, 0, 100) == 0);
  CHECK(f->size() == 8);
  CHECK(f->Allocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 2) == EOPNOTSUPP);
  CHECK(f->Allocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 100) == EOPNOTSUPP);
  CHECK(f->size() == 8);
  CHECK(f->Flush(kOpener) == 0);
  w.CheckSealed("allocated", std::string("abc") + std::string(5, '\0'));
}

TEST_CASE("Out-of-order writes give the digest of the final content", "[fs]") {
  World w;
  SECTION("the tail first, then the head") {
    auto f = w.Create("ooo");
    CHECK(f->Write(4096, "tail") == 0);
    CHECK(f->size() == 4100);
    CHECK(f->Write(0, std::string(4096, 'h')) == 0);
    CHECK(f->size() == 4100);
    CHECK(f->Flush(kOpener) == 0);
    w.CheckSealed("ooo", std::string(4096, 'h') + "tail");
  }
  SECTION("an overwrite in the middle") {
    auto f = w.Create("ooo");
    CHECK(f->Write(0, "hello world") == 0);
    CHECK(f->Write(6, "WORLD") == 0);
    CHECK(f->size() == 11);
    CHECK(f->Flush(kOpener) == 0);
    w.CheckSealed("ooo", "hello WORLD");
  }
  SECTION("1 MiB in shuffled 64 KiB chunks") {
    std::mt19937_64 rng(7);
    std::string content(1 << 20, '\0');
    for (char& c : content) c = static_cast<char>(rng());
    std::vector<size_t> order(16);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    auto f = w.Create("ooo");
    for (size_t chunk : order) {
      CHECK(f->Write(chunk << 16, std::string_view(content).substr(chunk << 16, 1 << 16)) == 0);
    }
    CHECK(f->size() == content.size());
    CHECK(f->Flush(kOpener) == 0);
    w.CheckSealed("ooo", content);
  }
  CHECK(w.Committed() == 1);
}

TEST_CASE("Destroying an unsealed inbox file makes no record and frees the name", "[fs]") {
  World w;
  {
    auto f = w.Create("abandoned");
    CHECK(f->Write(0, "never closed") == 0);
    CHECK(f->Flush(kOther) == 0);
  }
  CHECK(w.Committed() == 0);
  w.CheckFree("abandoned");
  CHECK(w.Staged().empty());

  // A sealed one stays when its handle goes.
  {
    auto f = w.Create("kept");
    CHECK(f->Write(0, "kept") == 0);
    CHECK(f->Flush(kOpener) == 0);
  }
  CHECK(w.Committed() == 1);
  w.CheckSealed("kept", "kept");
}

TEST_CASE("A seal that fails with ENOSPC makes no record and keeps failing", "[fs]") {
  spdlog::set_level(spdlog::level::off);
  World w(/*fault_injection=*/true);
  auto f = w.Create("full.bin");
  CHECK(f->Write(0, "no room for this") == 0);
  w.faulty->FailWritesWith(ENOSPC);

  CHECK(f->Flush(kOpener) == ENOSPC);
  CHECK(w.Committed() == 0);
  CHECK_FALSE(w.Exists("full.bin"));
  CHECK(f->Flush(kOpener) == ENOSPC);  // every later close reports it
  CHECK(f->Flush(kOther) == ENOSPC);
  CHECK(f->Write(16, "more") != 0);
  f->Release();
  CHECK(w.Committed() == 0);
  CHECK(w.log->health().ok());
  w.CheckFree("full.bin");

  // Space returns: the name takes a new file.
  w.faulty->ClearWriteFailure();
  auto again = w.Create("full.bin");
  CHECK(again->Write(0, "room now") == 0);
  CHECK(again->Flush(kOpener) == 0);
  CHECK(w.Committed() == 1);
  w.CheckSealed("full.bin", "room now");
  spdlog::set_level(spdlog::level::info);
}

TEST_CASE("A seal at release that fails makes no record and frees the name", "[fs]") {
  spdlog::set_level(spdlog::level::off);
  World w(/*fault_injection=*/true);
  auto f = w.Create("late.bin");
  CHECK(f->Write(0, "closed by another process last") == 0);
  CHECK(f->Flush(kOther) == 0);
  w.faulty->FailWritesWith(ENOSPC);
  f->Release();
  CHECK(w.Committed() == 0);
  w.faulty->ClearWriteFailure();
  w.CheckFree("late.bin");
  CHECK(f->Flush(kOpener) == ENOSPC);
  spdlog::set_level(spdlog::level::info);
}

TEST_CASE("A seal whose content fsync fails reports EIO and frees the name", "[fs]") {
  spdlog::set_level(spdlog::level::off);
  World w(/*fault_injection=*/true);
  auto f = w.Create("eio.bin");
  CHECK(f->Write(0, "bytes the disk lost") == 0);
  w.faulty->FailSyncWith(EIO, /*only_next=*/true);
  CHECK(f->Flush(kOpener) == EIO);
  CHECK(f->Flush(kOpener) == EIO);
  CHECK(w.Committed() == 0);
  w.CheckFree("eio.bin");
  f->Release();
  CHECK(w.Committed() == 0);
  CHECK_FALSE(w.Exists("eio.bin"));
  spdlog::set_level(spdlog::level::info);
}
