// Every crash point: a fixed workload is run once to count its storage operations, then once per
// operation k with a power cut at k, and the store is reopened on what survived.
//
// Why two tests. Crashing "at op k" only means the same thing in every run if the workload makes
// the same storage calls in the same order each time. Appends from several threads, and a
// background publisher, interleave differently from run to run (group commit batches them
// differently, so even the number of operations changes). So:
//  - "every crash point" runs a deterministic workload: one appender thread, no background
//    publisher, explicit Publish() calls, file records with content (staged -> content/ rename,
//    empty files, one content shared by many records), directory records and plain entries, 300
//    in all (tile 0 and bundle 0 complete, tile/1/000.p/1 appears). The first run records the call
//    sequence; every crash run checks, through FaultInjectionStorage's operation observer, that
//    it makes the same calls up to k, so each k really is a distinct point of the same workload.
//    Each k is tried twice: (a) everything not durable is lost, (b) a seeded random part of it
//    (unsynced bytes, renames, removes) survives, as partial writeback leaves it.
//  - "random crash points under concurrent appends" runs 4 appender threads plus the background
//    publisher plus explicit Publish() calls, crashing at a random op (seeded, both modes), and
//    in half the rounds crashes once more during recovery before recovering for good.
// After every crash the same promises are checked (CheckRecovered): every acknowledged record is
// present at its index with its manifest and content, indices are dense, the tree verifies with
// the project's verifier (record contents included) as an extension of the last checkpoint
// published before the crash, every full tile and bundle published before the crash still has
// the same bytes, nothing is left in staging, and the log takes and publishes a new record.
//
// Knobs (environment): LEDGER_CRASH_STRIDE=n tries every n-th crash point (1 = all),
// LEDGER_CRASH_ONLY=k tries only point k, LEDGER_CRASH_SEEDS=n sets the rounds of the concurrent
// test. Defaults keep CI within about a minute per build: a release build tries every crash
// point (2,210 runs, ~30 s) and 200 rounds; CI's sanitizer builds are Debug builds 5-20 times
// slower, so ASan tries every 3rd point and TSan every 16th, with 50 rounds. Failures name the
// crash point, the mode and the operation, so a failing case reruns alone with
// LEDGER_CRASH_ONLY.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ledger/fault_injection_storage.h"
#include "ledger/hash.h"
#include "ledger/log.h"
#include "ledger/posix_storage.h"
#include "ledger/records.h"
#include "ledger/tile_path.h"
#include "ledger/verifier.h"
#include "spdlog/spdlog.h"
#include "support/temp_dir.h"

namespace ledger {
namespace {

using testing::TempDir;

constexpr char kOrigin[] = "example.com/crash-points";

// Default stride of the enumeration and rounds of the random test, by build (see above).
#if defined(__SANITIZE_THREAD__)
constexpr uint64_t kDefaultStride = 16, kDefaultRounds = 50;
#elif defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kDefaultStride = 3, kDefaultRounds = 50;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr uint64_t kDefaultStride = 16, kDefaultRounds = 50;
#elif __has_feature(address_sanitizer)
constexpr uint64_t kDefaultStride = 3, kDefaultRounds = 50;
#else
constexpr uint64_t kDefaultStride = 1, kDefaultRounds = 200;
#endif
#else
constexpr uint64_t kDefaultStride = 1, kDefaultRounds = 200;
#endif

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::strtoull(v, nullptr, 10);
}

// An entry the workload was told is durable (Append or Commit returned OK).
struct Acked {
  uint64_t index = 0;
  std::string entry;
  std::string content_name;  // file records only
  std::string content;
};

// What one run of a workload saw before the crash.
struct RunLog {
  std::mutex mu;
  std::vector<Acked> acked;
  // Every full tile and bundle present after a Publish() returned OK, with its bytes then.
  std::map<std::string, std::string> full_files;
  // The newest checkpoint a Publish() returned with (empty: none yet).
  std::string checkpoint;
  uint64_t checkpoint_size = 0;

  void Ack(Acked a) {
    std::lock_guard<std::mutex> l(mu);
    acked.push_back(std::move(a));
  }
};

// Lists every file under `dir` (recursively) into `out`; folders that vanish meanwhile (pruned
// partials) are skipped.
void ListFiles(Storage& storage, const std::string& dir, std::vector<std::string>* out) {
  std::vector<std::string> names;
  if (!storage.List(dir, &names).ok()) return;
  for (const std::string& name : names) {
    const std::string path = dir + "/" + name;
    std::vector<std::string> children;
    if (storage.List(path, &children).ok()) {
      ListFiles(storage, path, out);
    } else {
      out->push_back(path);
    }
  }
}

// After a Publish() returned OK: remembers the checkpoint and the bytes of every full tile and
// bundle, which must never change again. `base` is read directly so this costs no counted
// operation and is not refused after a crash in another thread.
void NotePublished(Log* log, Storage* base, RunLog* run) {
  std::string note;
  Checkpoint cp;
  if (!log->LatestCheckpoint(&note, &cp).ok()) return;
  std::vector<std::string> files;
  ListFiles(*base, "tile", &files);
  std::lock_guard<std::mutex> l(run->mu);
  if (cp.size >= run->checkpoint_size) {
    run->checkpoint = note;
    run->checkpoint_size = cp.size;
  }
  for (const std::string& f : files) {
    std::optional<ParsedTilePath> parsed = ParseTilePath(f);
    if (!parsed || parsed->tile.width != static_cast<int>(kTileWidth)) continue;
    if (run->full_files.count(f) > 0) continue;
    std::string bytes;
    if (base->Read(f, &bytes).ok()) run->full_files[f] = std::move(bytes);
  }
}

// Content of record `i`: deterministic, mostly distinct; every 30th is empty and a few repeat one
// shared content (the publisher then drops the second staged copy instead of renaming it).
std::string ContentOf(uint64_t i) {
  if (i % 30 == 0) return "";
  if (i % 9 == 3) return "content shared by several records\n";
  std::mt19937_64 rng(i);
  std::string s(1 + rng() % 1500, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Appends workload item `i` (of thread `t`): a file record with content, a directory record, or
// a plain entry. Returns false once an append fails (the crash).
bool AppendItem(Log* log, Storage* storage, int t, uint64_t i, RunLog* run) {
  Records records(log, storage);
  const std::string tag = std::to_string(t) + "-" + std::to_string(i);
  Acked a;
  RecordInfo info;
  switch (i % 3) {
    case 0: {
      a.content = ContentOf(i);
      std::unique_ptr<RecordWriter> w;
      if (!records.BeginFile("files/" + tag + ".bin", &w).ok()) return false;
      if (!a.content.empty() && !w->Write(a.content).ok()) return false;
      if (!w->Commit(&info).ok()) return false;
      a.index = info.index;
      a.entry = FormatManifest(info);
      a.content_name = ContentName(info.sha256_hex);
      break;
    }
    case 1:
      if (!records.AppendDirectory("dirs/" + tag, &info).ok()) return false;
      a.index = info.index;
      a.entry = FormatManifest(info);
      break;
    default:
      a.entry = "plain entry " + tag + " " + std::string(i % 200, 'p');
      if (!log->Append(a.entry, &a.index).ok()) return false;
      break;
  }
  run->Ack(std::move(a));
  return true;
}

// A store on /dev/shm (real files, cheap fsyncs), created by a healthy process, then served
// through a FaultInjectionStorage by the process that will crash.
struct CrashPointWorld {
  TempDir dir{"/dev/shm"};
  const NoteSigner& signer;
  std::unique_ptr<FaultInjectionStorage> faulty;

  explicit CrashPointWorld(const NoteSigner& s) : signer(s) {
    std::unique_ptr<Storage> base;
    REQUIRE(OpenPosixStorage(dir.path(), true, &base).ok());
    REQUIRE(Log::Create(base.get(), signer).ok());
    faulty = std::make_unique<FaultInjectionStorage>(std::move(base));
  }
};

// The deterministic workload: 300 items from one thread, Publish() after every 25th.
constexpr uint64_t kItems = 300;
constexpr uint64_t kPublishEvery = 25;

void DeterministicWorkload(CrashPointWorld& w, RunLog* run) {
  LogOptions opts;
  opts.background_publish = false;
  std::unique_ptr<Log> log;
  if (!Log::Open(w.faulty.get(), w.signer, opts, &log).ok()) return;
  for (uint64_t i = 0; i < kItems; ++i) {
    if (!AppendItem(log.get(), w.faulty.get(), 0, i, run)) return;
    if ((i + 1) % kPublishEvery == 0) {
      if (!log->Publish().ok()) return;
      NotePublished(log.get(), w.faulty->base(), run);
    }
  }
}

// Reopens the store at `dir` as a restarted process would and checks every promise; returns ""
// if all hold, else what failed.
std::string CheckRecovered(const std::string& dir, const NoteSigner& signer, RunLog& run) {
  std::unique_ptr<Storage> storage;
  Status st = OpenPosixStorage(dir, false, &storage);
  if (!st.ok()) return "open storage: " + st.ToString();
  LogOptions opts;
  opts.background_publish = false;
  std::unique_ptr<Log> log;
  st = Log::Open(storage.get(), signer, opts, &log);
  if (!st.ok()) return "reopen: " + st.ToString();
  const uint64_t size = log->committed_size();
  if (log->published_size() != size) {
    return "reopen published " + std::to_string(log->published_size()) + " of " +
           std::to_string(size) + " committed entries";
  }
  if (size < run.acked.size()) {
    return std::to_string(run.acked.size()) + " acknowledged, only " + std::to_string(size) +
           " recovered";
  }
  if (size < run.checkpoint_size) {
    return "size " + std::to_string(size) + " is below the checkpoint published before the crash";
  }
  std::vector<std::string> all;
  uint64_t next = 0;
  st = log->ReadSince(0, size, &all, &next);
  if (!st.ok()) return "read back: " + st.ToString();
  if (all.size() != size || next != size) {
    return "indices not dense: read " + std::to_string(all.size()) + " of " + std::to_string(size);
  }
  for (const Acked& a : run.acked) {
    if (a.index >= size || all[a.index] != a.entry) {
      return "acknowledged entry " + std::to_string(a.index) + " is missing or changed";
    }
    if (a.content_name.empty()) continue;
    std::string content;
    st = storage->Read(a.content_name, &content);
    if (!st.ok() || content != a.content) {
      return "content of entry " + std::to_string(a.index) + " (" + a.content_name +
             "): " + (st.ok() ? "changed" : st.ToString());
    }
  }
  for (const auto& [path, bytes] : run.full_files) {
    std::string now;
    st = storage->Read(path, &now);
    if (!st.ok() || now != bytes) {
      return path + ", published before the crash, " + (st.ok() ? "changed" : st.ToString());
    }
  }
  std::vector<std::string> staged;
  (void)storage->List(store_layout::kStagingDir, &staged);
  if (!staged.empty()) return staged.front() + " left in staging";

  VerifyOptions vo;
  vo.vkeys = {signer.Verifier().ToString()};
  Storage* s = storage.get();
  vo.entry_check = [s](uint64_t index, std::string_view entry) {
    return Records::CheckEntryContent(s, index, entry);
  };
  if (!run.checkpoint.empty()) vo.since_checkpoint = run.checkpoint;
  VerifyReport report;
  st = VerifyTree(*storage, vo, &report);
  if (!st.ok()) return "verify: " + st.ToString();
  if (report.entries != size) return "verify saw " + std::to_string(report.entries) + " entries";

  // Service resumes: a new record gets the next index and a checkpoint that extends the old one.
  std::string before;
  REQUIRE(log->LatestCheckpoint(&before).ok());
  Records records(log.get(), storage.get());
  std::unique_ptr<RecordWriter> w;
  RecordInfo info;
  st = records.BeginFile("after-the-crash.txt", &w);
  if (st.ok()) st = w->Write("written after recovery\n");
  if (st.ok()) st = w->Commit(&info);
  if (st.ok()) st = log->Publish();
  if (!st.ok()) return "append after recovery: " + st.ToString();
  if (info.index != size) return "append after recovery got index " + std::to_string(info.index);
  log.reset();
  vo.since_checkpoint = before;
  st = VerifyTree(*storage, vo, &report);
  if (!st.ok()) return "verify after the new append: " + st.ToString();
  if (report.entries != size + 1) return "the new append is not in the verified tree";
  return "";
}

// Collects failures as text so a broken promise reports a few crash points, not thousands.
struct Tally {
  uint64_t tried = 0;
  uint64_t passed = 0;
  std::vector<std::string> failures;
  void Add(const std::string& what, const std::string& failure) {
    ++tried;
    if (failure.empty()) {
      ++passed;
    } else if (failures.size() < 10) {
      failures.push_back(what + ": " + failure);
    }
  }
  std::string Summary() const {
    std::string s = std::to_string(passed) + " of " + std::to_string(tried) + " passed";
    for (const std::string& f : failures) s += "\n  " + f;
    return s;
  }
};

struct Op {
  std::string op;
  std::string name;
};

TEST_CASE("the operation observer sees each mutating call, numbered, the crashing one too",
          "[crash][storage]") {
  TempDir dir("/dev/shm");
  std::unique_ptr<Storage> base;
  REQUIRE(OpenPosixStorage(dir.path(), true, &base).ok());
  FaultInjectionStorage fs(std::move(base));
  std::vector<std::string> seen;
  fs.SetOperationObserver([&](uint64_t n, std::string_view op, const std::string& name) {
    seen.push_back(std::to_string(n) + " " + std::string(op) + " " + name);
  });
  fs.CrashAtOperation(7);
  REQUIRE(fs.PutIfAbsent("a/x", "x").ok());
  std::string bytes;
  REQUIRE(fs.Read("a/x", &bytes).ok());  // reads are not counted
  std::unique_ptr<StorageWriter> w;
  REQUIRE(fs.OpenAppendable("wal/1", &w).ok());
  REQUIRE(w->Append("frame").ok());
  REQUIRE(w->Sync().ok());
  REQUIRE(fs.Rename("a/x", "b/y").ok());
  REQUIRE(fs.SyncDir("b").ok());
  CHECK(!fs.Remove("b/y").ok());  // op 7: the crash
  CHECK(fs.crashed());
  const std::vector<std::string> want = {"1 PutIfAbsent a/x", "2 OpenAppendable wal/1",
                                         "3 Append wal/1",    "4 Sync wal/1",
                                         "5 Rename b/y",      "6 SyncDir b",
                                         "7 Remove b/y"};
  CHECK(seen == want);
}

TEST_CASE("every crash point of a deterministic workload recovers every acknowledged record",
          "[crash][log]") {
  spdlog::set_level(spdlog::level::off);
  NoteSigner signer;
  REQUIRE(NoteSigner::Generate(kOrigin, &signer).ok());

  // The counting run: the sequence of mutating calls, and what an uncrashed run acknowledges.
  std::vector<Op> trace;
  {
    CrashPointWorld w(signer);
    w.faulty->SetOperationObserver([&](uint64_t, std::string_view op, const std::string& name) {
      trace.push_back({std::string(op), name});
    });
    RunLog run;
    DeterministicWorkload(w, &run);
    REQUIRE(run.acked.size() == kItems);
    REQUIRE(run.checkpoint_size == kItems);
    // The workload reaches what it is meant to: tile 0 and bundle 0 full, a level-1 partial.
    REQUIRE(run.full_files.count("tile/0/000") == 1);
    REQUIRE(run.full_files.count("tile/entries/000") == 1);
    REQUIRE(w.faulty->base()->Exists("tile/1/000.p/1"));
    REQUIRE(w.faulty->operation_count() == trace.size());
    w.faulty->SimulateCrash();  // beyond the last operation: nothing may be lost either
    const std::string failure = CheckRecovered(w.dir.path(), signer, run);
    INFO(failure);
    REQUIRE(failure.empty());
  }
  const uint64_t total = trace.size();
  std::map<std::string, uint64_t> by_kind;
  for (const Op& op : trace) ++by_kind[op.op];
  std::string kinds;
  for (const auto& [op, n] : by_kind) kinds += " " + op + "=" + std::to_string(n);
  WARN("deterministic workload: " << total << " storage operations:" << kinds);

  const uint64_t only = EnvNumber("LEDGER_CRASH_ONLY", 0);
  const uint64_t stride = std::max<uint64_t>(1, EnvNumber("LEDGER_CRASH_STRIDE", kDefaultStride));
  Tally tally;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t k = 1; k <= total; ++k) {
    if (only != 0 ? k != only : (k - 1) % stride != 0) continue;
    for (const bool partial : {false, true}) {
      const std::string what = "crash at op " + std::to_string(k) + " (" + trace[k - 1].op + " " +
                               trace[k - 1].name + ")" +
                               (partial ? ", keeping a random part of unsynced state" : "");
      CrashPointWorld w(signer);
      std::string divergence;
      w.faulty->SetOperationObserver([&](uint64_t n, std::string_view op, const std::string&) {
        if (divergence.empty() && n <= k && (n > total || trace[n - 1].op != op)) {
          divergence = "op " + std::to_string(n) + " is " + std::string(op) +
                       ", the counting run's was " + (n > total ? "none" : trace[n - 1].op);
        }
      });
      if (partial) {
        w.faulty->CrashAtOperation(k, 0x5eed0000 + k);
      } else {
        w.faulty->CrashAtOperation(k);
      }
      RunLog run;
      DeterministicWorkload(w, &run);
      std::string failure;
      if (!divergence.empty()) {
        failure = "the workload is not deterministic: " + divergence;
      } else if (!w.faulty->crashed()) {
        failure = "the workload ended before the crash point";
      } else if (!w.faulty->rollback_status().ok()) {
        failure = "rollback: " + w.faulty->rollback_status().ToString();
      } else {
        failure = CheckRecovered(w.dir.path(), signer, run);
      }
      tally.Add(what, failure);
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WARN("every crash point: " << tally.tried << " crash runs (" << total << " points, stride "
                             << stride << ", 2 modes) in " << secs << " s; " << tally.Summary());
  INFO(tally.Summary());
  CHECK(tally.failures.empty());
  CHECK(tally.passed == tally.tried);
  spdlog::set_level(spdlog::level::info);
}

// Appends from 4 threads (records with content, directory records, plain entries) while the
// background publisher runs and thread 0 also calls Publish() every 20 items.
void ConcurrentWorkload(CrashPointWorld& w, int threads, uint64_t per_thread, RunLog* run) {
  LogOptions opts;
  opts.checkpoint_delay = std::chrono::milliseconds(8);  // publish often: crash inside it too
  opts.max_batch_entries = 16;
  std::unique_ptr<Log> log;
  if (!Log::Open(w.faulty.get(), w.signer, opts, &log).ok()) return;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (uint64_t i = 0; i < per_thread; ++i) {
        if (!AppendItem(log.get(), w.faulty.get(), t, i, run)) return;
        if (t == 0 && (i + 1) % 20 == 0) {
          if (!log->Publish().ok()) return;
          NotePublished(log.get(), w.faulty->base(), run);
        }
      }
    });
  }
  for (std::thread& th : pool) th.join();
}

TEST_CASE("random crash points under concurrent appends, and crashes during recovery",
          "[crash][log]") {
  spdlog::set_level(spdlog::level::off);
  NoteSigner signer;
  REQUIRE(NoteSigner::Generate(kOrigin, &signer).ok());
  constexpr int kThreads = 4;
  constexpr uint64_t kPerThread = 80;  // 320 items: tile 0 completes

  // How many operations a whole run makes (it varies with the interleaving; roughly).
  uint64_t total = 0;
  {
    CrashPointWorld w(signer);
    RunLog run;
    ConcurrentWorkload(w, kThreads, kPerThread, &run);
    REQUIRE(run.acked.size() == kThreads * kPerThread);
    total = w.faulty->operation_count();
    w.faulty->SimulateCrash();
    const std::string failure = CheckRecovered(w.dir.path(), signer, run);
    INFO(failure);
    REQUIRE(failure.empty());
  }

  const uint64_t rounds = EnvNumber("LEDGER_CRASH_SEEDS", kDefaultRounds);
  std::mt19937_64 rng(20261201);
  Tally tally;
  uint64_t crashed_in_workload = 0, crashed_in_recovery = 0;
  for (uint64_t round = 0; round < rounds; ++round) {
    const uint64_t crash_at = 1 + rng() % total;
    const bool partial = round % 2 == 1;
    const bool crash_recovery = round % 4 >= 2;
    const uint64_t seed = rng();
    const uint64_t recovery_crash_at = 1 + rng() % 60;
    std::string what = "round " + std::to_string(round) + ": crash at op " +
                       std::to_string(crash_at) + (partial ? " keeping some" : "");
    CrashPointWorld w(signer);
    if (partial) {
      w.faulty->CrashAtOperation(crash_at, seed);
    } else {
      w.faulty->CrashAtOperation(crash_at);
    }
    RunLog run;
    ConcurrentWorkload(w, kThreads, kPerThread, &run);
    if (w.faulty->crashed()) {
      ++crashed_in_workload;
    } else {
      w.faulty->SimulateCrash();
    }
    std::string failure;
    if (!w.faulty->rollback_status().ok()) {
      failure = "rollback: " + w.faulty->rollback_status().ToString();
    }
    if (failure.empty() && crash_recovery) {
      // A second power cut while the restarted process recovers (republishing, cleaning up).
      what += ", then at op " + std::to_string(recovery_crash_at) + " of the recovery";
      w.faulty->ResetAfterCrash();
      w.faulty->CrashAtOperation(recovery_crash_at, seed + 1);
      {
        LogOptions opts;
        opts.background_publish = false;
        std::unique_ptr<Log> log;
        if (Log::Open(w.faulty.get(), signer, opts, &log).ok()) (void)log->Publish();
      }
      if (w.faulty->crashed()) {
        ++crashed_in_recovery;
      } else {
        w.faulty->SimulateCrash();
      }
      if (!w.faulty->rollback_status().ok()) {
        failure = "rollback: " + w.faulty->rollback_status().ToString();
      }
    }
    if (failure.empty()) failure = CheckRecovered(w.dir.path(), signer, run);
    tally.Add(what, failure);
  }
  WARN("random crash points: " << tally.tried << " rounds (about " << total
                               << " operations per run; " << crashed_in_workload
                               << " crashed inside the workload, " << crashed_in_recovery
                               << " again inside recovery); " << tally.Summary());
  INFO(tally.Summary());
  CHECK(tally.failures.empty());
  CHECK(crashed_in_workload > rounds * 3 / 4);
  spdlog::set_level(spdlog::level::info);
}

}  // namespace
}  // namespace ledger
