// Crash safety of the core API with the fault-injecting storage: crash at random storage
// operations while several threads append (some entries with attached content) and the publisher
// runs; after recovery every acknowledged entry is present at its index, indices are dense, the
// content of every acknowledged entry is in place, and the tree verifies. Plus injected fsync
// failure (fatal, nothing acknowledged lost) and ENOSPC (refused, then service resumes).
#include <catch2/catch.hpp>

#include <cerrno>
#include <mutex>
#include <random>
#include <thread>

#include "ledger/fault_injection_storage.h"
#include "ledger/hash.h"
#include "ledger/log.h"
#include "ledger/posix_storage.h"
#include "ledger/verifier.h"
#include "spdlog/spdlog.h"
#include "support/temp_dir.h"

using ledger::Attachment;
using ledger::FaultInjectionStorage;
using ledger::Log;
using ledger::LogOptions;
using ledger::NoteSigner;
using ledger::Status;
using ledger::testing::TempDir;

namespace {

struct Acked {
  uint64_t index;
  std::string entry;
  std::string content_name;  // empty if no attachment
  std::string content;
};

// A crash-test world: a store created on disk, opened through a FaultInjectionStorage.
struct LogCrashWorld {
  TempDir dir{"/dev/shm"};
  NoteSigner signer;
  std::unique_ptr<FaultInjectionStorage> faulty;
  std::unique_ptr<Log> log;

  LogCrashWorld() {
    REQUIRE(NoteSigner::Generate("example.com/crash-test", &signer).ok());
    std::unique_ptr<ledger::Storage> base;
    REQUIRE(ledger::OpenPosixStorage(dir.path(), true, &base).ok());
    REQUIRE(Log::Create(base.get(), signer).ok());
    faulty = std::make_unique<FaultInjectionStorage>(std::move(base));
  }
  void Open(LogOptions opts) {
    Status st = Log::Open(faulty.get(), signer, opts, &log);
    INFO(st.ToString());
    REQUIRE(st.ok());
  }
};

// Appends from `threads` threads until an append fails or `per_thread` are done; every third
// entry carries staged content, as a record does.
std::vector<Acked> RunWorkload(Log* log, ledger::Storage* storage, int threads, int per_thread,
                               uint64_t seed) {
  std::mutex mu;
  std::vector<Acked> acked;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::mt19937_64 rng(seed * 31 + t);
      for (int i = 0; i < per_thread; ++i) {
        Acked a;
        a.entry =
            "t" + std::to_string(t) + "/" + std::to_string(i) + " " + std::string(rng() % 300, 'x');
        std::vector<Attachment> atts;
        if (i % 3 == 0) {
          a.content = "content " + std::to_string(t) + "/" + std::to_string(i) +
                      std::string(rng() % 5000, 'c');
          std::unique_ptr<ledger::StorageWriter> w;
          if (!storage->CreateStaged(ledger::store_layout::kStagingDir, &w).ok()) return;
          if (!w->Append(a.content).ok() || !w->Sync().ok() || !w->Close().ok()) return;
          const std::string hex = ledger::HashToHex(ledger::Sha256(a.content));
          a.content_name = "content/" + hex.substr(0, 2) + "/" + hex;
          atts.push_back({w->name(), a.content_name});
        }
        if (!log->Append(a.entry, atts, &a.index).ok()) return;
        std::lock_guard<std::mutex> l(mu);
        acked.push_back(std::move(a));
      }
    });
  }
  for (auto& th : pool) th.join();
  return acked;
}

// Reopens the store on plain POSIX storage and checks every promise.
void CheckRecovered(const std::string& dir, const NoteSigner& signer,
                    const std::vector<Acked>& acked) {
  std::unique_ptr<ledger::Storage> storage;
  REQUIRE(ledger::OpenPosixStorage(dir, false, &storage).ok());
  std::unique_ptr<Log> log;
  LogOptions opts;
  opts.background_publish = false;
  Status st = Log::Open(storage.get(), signer, opts, &log);
  INFO(st.ToString());
  REQUIRE(st.ok());
  // Open republished everything committed: published == committed.
  CHECK(log->published_size() == log->committed_size());
  CHECK(log->committed_size() >= acked.size());
  std::vector<std::string> all;
  uint64_t next = 0;
  REQUIRE(log->ReadSince(0, log->committed_size(), &all, &next).ok());
  CHECK(all.size() == log->committed_size());  // dense: every index below the size reads back
  for (const Acked& a : acked) {
    REQUIRE(a.index < all.size());
    CHECK(all[a.index] == a.entry);
    if (!a.content_name.empty()) {
      std::string content;
      REQUIRE(storage->Read(a.content_name, &content).ok());
      CHECK(content == a.content);
    }
  }
  std::vector<std::string> staged;
  (void)storage->List(ledger::store_layout::kStagingDir, &staged);
  CHECK(staged.empty());
  log.reset();
  ledger::VerifyOptions vo;
  vo.vkeys = {signer.Verifier().ToString()};
  ledger::VerifyReport report;
  st = ledger::VerifyTree(*storage, vo, &report);
  INFO(st.ToString());
  CHECK(st.ok());
  CHECK(report.entries == all.size());
}

}  // namespace

TEST_CASE("crash at random storage operations during concurrent appends", "[crash][log]") {
  spdlog::set_level(spdlog::level::off);
  std::mt19937_64 rng(20261125);
  constexpr int kRounds = 100;
  int crashed_rounds = 0;
  for (int round = 0; round < kRounds; ++round) {
    LogCrashWorld w;
    LogOptions opts;
    opts.checkpoint_delay = std::chrono::milliseconds(8);  // publish often: crash inside it too
    opts.max_batch_entries = 16;
    w.Open(opts);
    const uint64_t crash_at = 1 + rng() % 600;
    const bool keep_random = round % 2 == 1;
    if (keep_random) {
      w.faulty->CrashAtOperation(crash_at, rng());
    } else {
      w.faulty->CrashAtOperation(crash_at);
    }
    INFO("round " << round << " crash at op " << crash_at << (keep_random ? " (keep some)" : ""));
    std::vector<Acked> acked = RunWorkload(w.log.get(), w.faulty.get(), 4, 60, round);
    // A crash point beyond the workload's last operation still crashes, at the end.
    if (w.faulty->crashed())
      crashed_rounds += 1;
    else
      w.faulty->SimulateCrash();
    w.log.reset();  // the dead process: its final publication fails against the crashed storage
    REQUIRE(w.faulty->rollback_status().ok());
    CheckRecovered(w.dir.path(), w.signer, acked);
  }
  spdlog::set_level(spdlog::level::info);
  // Most crash points fall inside the workload (it makes several hundred storage operations).
  CHECK(crashed_rounds > kRounds * 3 / 4);
}

TEST_CASE("an fsync failure stops the log; nothing acknowledged is lost", "[crash][log]") {
  spdlog::set_level(spdlog::level::off);
  LogCrashWorld w;
  LogOptions opts;
  opts.background_publish = false;
  w.Open(opts);
  std::vector<Acked> acked = RunWorkload(w.log.get(), w.faulty.get(), 2, 20, 1);
  REQUIRE(acked.size() == 40);
  w.faulty->FailSyncWith(EIO);
  uint64_t index = 0;
  Status st = w.log->Append("after EIO", &index);
  CHECK(st.code() == Status::Code::kIoError);
  CHECK_THAT(st.message(), Catch::Contains("commit log"));
  CHECK(!w.log->health().ok());
  // Once failed, it stays failed, even when the device recovers.
  w.faulty->ClearSyncFailure();
  st = w.log->Append("later", &index);
  CHECK(st.code() == Status::Code::kFailed);
  CHECK_THAT(st.message(), Catch::Contains("stopped accepting appends"));
  w.faulty->SimulateCrash();
  w.log.reset();
  spdlog::set_level(spdlog::level::info);
  CheckRecovered(w.dir.path(), w.signer, acked);
}

TEST_CASE("ENOSPC is returned to the caller and service resumes when space returns",
          "[crash][log]") {
  spdlog::set_level(spdlog::level::off);
  LogCrashWorld w;
  LogOptions opts;
  opts.background_publish = false;
  w.Open(opts);
  std::vector<Acked> acked = RunWorkload(w.log.get(), w.faulty.get(), 1, 10, 2);
  w.faulty->FailWritesWith(ENOSPC);
  uint64_t index = 0;
  Status st = w.log->Append("no room", &index);
  CHECK(st.code() == Status::Code::kNoSpace);
  CHECK(w.log->health().ok());
  // Publication also meets the full disk: it pauses, and appends are refused meanwhile.
  CHECK(w.log->Publish().code() == Status::Code::kNoSpace);
  w.faulty->ClearWriteFailure();
  REQUIRE(w.log->Publish().ok());
  Acked a;
  a.entry = "room again";
  REQUIRE(w.log->Append(a.entry, &a.index).ok());
  acked.push_back(a);
  CHECK(a.index == 10);
  w.log.reset();
  spdlog::set_level(spdlog::level::info);
  CheckRecovered(w.dir.path(), w.signer, acked);
}
