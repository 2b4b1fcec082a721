// Tests for FaultInjectionStorage: what survives a simulated crash, and injected errors.
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ledger/fault_injection_storage.h"
#include "ledger/posix_storage.h"
#include "support/require_ok.h"

namespace ledger {
namespace {

// A fresh store directory wrapped in a FaultInjectionStorage; removed at the end of the test.
class Fixture {
 public:
  Fixture() {
    char tmpl[] = "/tmp/ledger-fault-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path_ = tmpl;
    std::unique_ptr<Storage> base;
    REQUIRE_OK(OpenPosixStorage(path_, false, &base));
    fs_ = std::make_unique<FaultInjectionStorage>(std::move(base));
  }
  ~Fixture() {
    fs_.reset();
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  FaultInjectionStorage& fs() { return *fs_; }
  // A new storage over the same directory: what a restarted process would see.
  std::unique_ptr<Storage> Reopen() {
    std::unique_ptr<Storage> s;
    REQUIRE_OK(OpenPosixStorage(path_, false, &s));
    return s;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<FaultInjectionStorage> fs_;
};

std::string ReadOrDie(Storage& s, const std::string& name) {
  std::string got;
  REQUIRE_OK(s.Read(name, &got));
  return got;
}

bool IsCrashError(const Status& s) {
  return s.code() == Status::Code::kIoError && s.error_number() == EIO &&
         s.message().find("simulated crash") != std::string::npos;
}

TEST_CASE("Crash drops unsynced appends and keeps synced ones", "[storage]") {
  Fixture f;
  std::unique_ptr<StorageWriter> w;
  REQUIRE_OK(f.fs().OpenAppendable("wal/log", &w));
  REQUIRE_OK(w->Append("aaa"));
  REQUIRE_OK(w->Sync());
  REQUIRE_OK(w->Append("bbb"));
  CHECK(ReadOrDie(f.fs(), "wal/log") == "aaabbb");

  f.fs().SimulateCrash();
  CHECK(f.fs().crashed());
  REQUIRE_OK(f.fs().rollback_status());
  // Everything fails afterwards, old writers included.
  CHECK(IsCrashError(w->Append("ccc")));
  CHECK(IsCrashError(w->Sync()));
  CHECK(IsCrashError(f.fs().PutIfAbsent("x", "x")));
  std::string got;
  CHECK(IsCrashError(f.fs().Read("wal/log", &got)));
  CHECK_FALSE(f.fs().Exists("wal/log"));

  auto after = f.Reopen();
  CHECK(ReadOrDie(*after, "wal/log") == "aaa");
}

TEST_CASE("Crash keeps pre-existing bytes and whole-object writes", "[storage]") {
  Fixture f;
  {
    auto s = f.Reopen();
    std::unique_ptr<StorageWriter> w;
    REQUIRE_OK(s->OpenAppendable("log", &w));
    REQUIRE_OK(w->Append("old"));
  }
  REQUIRE_OK(f.fs().PutIfAbsent("tile/0/000", "tile"));
  REQUIRE_OK(f.fs().Replace("checkpoint", "v1"));
  REQUIRE_OK(f.fs().Replace("checkpoint", "v2"));
  std::unique_ptr<StorageWriter> w;
  REQUIRE_OK(f.fs().OpenAppendable("log", &w));
  REQUIRE_OK(w->Append("new"));
  f.fs().SimulateCrash();
  auto after = f.Reopen();
  CHECK(ReadOrDie(*after, "tile/0/000") == "tile");
  CHECK(ReadOrDie(*after, "checkpoint") == "v2");
  CHECK(ReadOrDie(*after, "log") == "old");
}

TEST_CASE("Staged names survive a crash; their content only once synced", "[storage]") {
  Fixture f;
  std::unique_ptr<StorageWriter> synced, unsynced;
  REQUIRE_OK(f.fs().CreateStaged("staged", &synced));
  REQUIRE_OK(f.fs().CreateStaged("staged", &unsynced));
  CHECK(synced->name() != unsynced->name());
  REQUIRE_OK(synced->Append("content"));
  REQUIRE_OK(synced->Sync());
  REQUIRE_OK(unsynced->Append("lost"));
  f.fs().SimulateCrash();
  auto after = f.Reopen();
  CHECK(ReadOrDie(*after, synced->name()) == "content");
  uint64_t size = 99;
  REQUIRE_OK(after->Size(unsynced->name(), &size));
  CHECK(size == 0);
}

TEST_CASE("Renames are undone unless both folders were synced", "[storage]") {
  Fixture f;
  auto stage = [&](const std::string& content) {
    std::unique_ptr<StorageWriter> w;
    REQUIRE_OK(f.fs().CreateStaged("staged", &w));
    REQUIRE_OK(w->Append(content));
    REQUIRE_OK(w->Sync());
    return w->name();
  };
  const std::string a = stage("A"), b = stage("B"), c = stage("C");
  REQUIRE_OK(f.fs().Rename(a, "records/a"));
  REQUIRE_OK(f.fs().Rename(b, "records/b"));
  REQUIRE_OK(f.fs().SyncDir("records"));  // only the destination
  REQUIRE_OK(f.fs().Rename(c, "records/c"));
  REQUIRE_OK(f.fs().SyncDir("records"));
  REQUIRE_OK(f.fs().SyncDir("staged"));  // now both sides of all three renames are synced
  REQUIRE_OK(f.fs().Rename("records/a", "records/a2"));  // never synced
  f.fs().SimulateCrash();
  REQUIRE_OK(f.fs().rollback_status());
  auto after = f.Reopen();
  CHECK(ReadOrDie(*after, "records/a") == "A");
  CHECK_FALSE(after->Exists("records/a2"));
  CHECK(ReadOrDie(*after, "records/b") == "B");
  CHECK(ReadOrDie(*after, "records/c") == "C");
  CHECK_FALSE(after->Exists(a));
}

TEST_CASE("A rename synced on one side only is undone", "[storage]") {
  Fixture f;
  std::unique_ptr<StorageWriter> w;
  REQUIRE_OK(f.fs().CreateStaged("staged", &w));
  REQUIRE_OK(w->Append("data"));
  REQUIRE_OK(w->Sync());
  const std::string staged = w->name();
  REQUIRE_OK(f.fs().Rename(staged, "records/r"));
  REQUIRE_OK(f.fs().SyncDir("records"));
  f.fs().SimulateCrash();
  auto after = f.Reopen();
  CHECK_FALSE(after->Exists("records/r"));
  CHECK(ReadOrDie(*after, staged) == "data");
}

TEST_CASE("An undone rename brings back the object it replaced", "[storage]") {
  Fixture f;
  REQUIRE_OK(f.fs().Replace("state", "old"));
  REQUIRE_OK(f.fs().Replace("state.new", "new"));
  REQUIRE_OK(f.fs().Rename("state.new", "state"));
  CHECK(ReadOrDie(f.fs(), "state") == "new");
  f.fs().SimulateCrash();
  auto after = f.Reopen();
  CHECK(ReadOrDie(*after, "state") == "old");
  CHECK(ReadOrDie(*after, "state.new") == "new");
}

TEST_CASE("Removes are undone until the folder is synced", "[storage]") {
  Fixture f;
  REQUIRE_OK(f.fs().PutIfAbsent("d/gone", "G"));
  REQUIRE_OK(f.fs().PutIfAbsent("d/back", "B"));
  REQUIRE_OK(f.fs().Remove("d/gone"));
  REQUIRE_OK(f.fs().SyncDir("d"));
  REQUIRE_OK(f.fs().Remove("d/back"));
  CHECK_FALSE(f.fs().Exists("d/back"));
  f.fs().SimulateCrash();
  auto after = f.Reopen();
  CHECK_FALSE(after->Exists("d/gone"));
  CHECK(ReadOrDie(*after, "d/back") == "B");
}

TEST_CASE("PutIfAbsent in a folder makes earlier changes there durable", "[storage]") {
  Fixture f;
  REQUIRE_OK(f.fs().PutIfAbsent("d/x", "X"));
  REQUIRE_OK(f.fs().Remove("d/x"));
  REQUIRE_OK(f.fs().PutIfAbsent("d/x", "X2"));  // same name again: no resurrection of "X"
  REQUIRE_OK(f.fs().Replace("e/old", "O"));
  REQUIRE_OK(f.fs().Rename("e/old", "e/new"));
  REQUIRE_OK(f.fs().Replace("e/other", "Z"));  // fsyncs folder e
  f.fs().SimulateCrash();
  auto after = f.Reopen();
  CHECK(ReadOrDie(*after, "d/x") == "X2");
  CHECK(ReadOrDie(*after, "e/new") == "O");
  CHECK_FALSE(after->Exists("e/old"));
}

TEST_CASE("Partial-writeback crashes keep a random but consistent part", "[storage]") {
  std::set<size_t> lengths;
  std::set<std::string> rename_outcomes;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    Fixture f;
    std::unique_ptr<StorageWriter> w;
    REQUIRE_OK(f.fs().OpenAppendable("log", &w));
    REQUIRE_OK(w->Append("01234"));
    REQUIRE_OK(w->Sync());
    REQUIRE_OK(w->Append("56789"));
    // A chain of renames of one object: whatever is kept must be a prefix of the chain.
    REQUIRE_OK(f.fs().PutIfAbsent("a", "payload"));
    REQUIRE_OK(f.fs().Rename("a", "b"));
    REQUIRE_OK(f.fs().Rename("b", "c"));
    f.fs().SimulateCrash(seed);
    REQUIRE_OK(f.fs().rollback_status());
    auto after = f.Reopen();
    const std::string log = ReadOrDie(*after, "log");
    CHECK(log.size() >= 5);
    CHECK(std::string("0123456789").rfind(log, 0) == 0);
    lengths.insert(log.size());
    std::string where;
    for (const char* n : {"a", "b", "c"}) {
      if (after->Exists(n)) {
        where += n;
        CHECK(ReadOrDie(*after, n) == "payload");
      }
    }
    CHECK(where.size() == 1);  // exactly one copy, never lost or duplicated
    rename_outcomes.insert(where);
  }
  CHECK(lengths.size() > 2);
  CHECK(rename_outcomes.size() > 1);
}

// A small append-then-index workload: record i is appended to the log and synced before
// index/i is written, so after any crash every index entry must point into the durable log.
Status Workload(Storage& s, int records) {
  std::unique_ptr<StorageWriter> log;
  LEDGER_RETURN_IF_ERROR(s.OpenAppendable("wal/log", &log));
  for (int i = 0; i < records; ++i) {
    LEDGER_RETURN_IF_ERROR(log->Append("r" + std::to_string(i) + ";"));
    LEDGER_RETURN_IF_ERROR(log->Sync());
    LEDGER_RETURN_IF_ERROR(s.PutIfAbsent("index/" + std::to_string(i), std::to_string(i)));
  }
  return Status::Ok();
}

TEST_CASE("CrashAtOperation crashes exactly at the n-th mutating call", "[storage]") {
  constexpr int kRecords = 4;
  uint64_t total;
  {
    Fixture f;
    REQUIRE_OK(Workload(f.fs(), kRecords));
    total = f.fs().operation_count();
    CHECK(total == 1 + 3 * kRecords);
  }
  for (uint64_t n = 1; n <= total; ++n) {
    for (bool partial : {false, true}) {
      INFO("crash at " << n << (partial ? " (partial)" : ""));
      Fixture f;
      if (partial) {
        f.fs().CrashAtOperation(n, n * 7);
      } else {
        f.fs().CrashAtOperation(n);
      }
      Status st = Workload(f.fs(), kRecords);
      CHECK(IsCrashError(st));
      CHECK(f.fs().crashed());
      CHECK(f.fs().operation_count() == n);
      REQUIRE_OK(f.fs().rollback_status());
      auto after = f.Reopen();
      std::string log;
      if (after->Exists("wal/log")) log = ReadOrDie(*after, "wal/log");
      std::vector<std::string> index;
      if (after->Exists("index")) REQUIRE_OK(after->List("index", &index));
      for (const auto& i : index) {
        CHECK(log.find("r" + i + ";") != std::string::npos);
      }
      // Without partial writeback the log holds exactly the synced records. Operations are:
      // 1 open, then per record i: 2+3i append, 3+3i sync, 4+3i put; ops 1..n-1 ran.
      if (!partial) {
        const uint64_t synced = n >= 4 ? (n - 4) / 3 + 1 : 0;
        std::string want;
        for (uint64_t i = 0; i < synced; ++i) want += "r" + std::to_string(i) + ";";
        CHECK(log == want);
      }
    }
  }
}

TEST_CASE("Injected sync errors surface as kIoError and make nothing durable", "[storage]") {
  Fixture f;
  std::unique_ptr<StorageWriter> w;
  REQUIRE_OK(f.fs().OpenAppendable("log", &w));
  REQUIRE_OK(w->Append("abc"));
  f.fs().FailSyncWith(EIO, /*only_next=*/true);
  Status st = w->Sync();
  CHECK(st.code() == Status::Code::kIoError);
  CHECK(st.error_number() == EIO);
  CHECK(st.message() == "fsync " + f.path() + "/log: Input/output error");
  REQUIRE_OK(w->Sync());  // only the next one failed

  REQUIRE_OK(w->Append("def"));
  f.fs().FailSyncWith(EIO);
  CHECK(w->Sync().error_number() == EIO);
  CHECK(w->Sync().error_number() == EIO);
  CHECK(f.fs().SyncDir("").code() == Status::Code::kIoError);
  f.fs().ClearSyncFailure();
  REQUIRE_OK(f.fs().SyncDir(""));

  f.fs().SimulateCrash();
  CHECK(ReadOrDie(*f.Reopen(), "log") == "abc");
}

TEST_CASE("Injected write errors surface as kNoSpace and write nothing", "[storage]") {
  Fixture f;
  std::unique_ptr<StorageWriter> w;
  REQUIRE_OK(f.fs().OpenAppendable("log", &w));
  f.fs().FailWritesWith(ENOSPC);
  Status st = w->Append("abc");
  CHECK(st.code() == Status::Code::kNoSpace);
  CHECK(st.error_number() == ENOSPC);
  CHECK(st.ToErrno() == ENOSPC);
  CHECK(w->WriteAt(0, "x").code() == Status::Code::kNoSpace);
  CHECK(f.fs().PutIfAbsent("obj", "x").code() == Status::Code::kNoSpace);
  CHECK(f.fs().Replace("obj", "x").code() == Status::Code::kNoSpace);
  CHECK_FALSE(f.fs().Exists("obj"));
  CHECK(w->size() == 0);
  f.fs().ClearWriteFailure();
  REQUIRE_OK(w->Append("abc"));
  REQUIRE_OK(f.fs().PutIfAbsent("obj", "x"));

  f.fs().FailWritesWith(EIO, /*only_next=*/true);
  CHECK(f.fs().Replace("obj2", "y").code() == Status::Code::kIoError);
  REQUIRE_OK(f.fs().Replace("obj2", "y"));
}

TEST_CASE("A crash releases locks; ResetAfterCrash restarts the storage", "[storage]") {
  Fixture f;
  std::unique_ptr<StorageLock> lock;
  REQUIRE_OK(f.fs().Lock(".ledger/lock", &lock));
  auto other = f.Reopen();
  std::unique_ptr<StorageLock> second;
  CHECK(other->Lock(".ledger/lock", &second).code() == Status::Code::kBusy);
  std::unique_ptr<StorageWriter> w;
  REQUIRE_OK(f.fs().OpenAppendable("log", &w));
  REQUIRE_OK(w->Append("x"));

  f.fs().SimulateCrash();
  REQUIRE_OK(other->Lock(".ledger/lock", &second));
  second.reset();

  f.fs().ResetAfterCrash();
  CHECK_FALSE(f.fs().crashed());
  CHECK(f.fs().operation_count() == 0);
  CHECK(IsCrashError(w->Append("y")));  // a writer of the dead "process" stays dead
  lock.reset();
  REQUIRE_OK(f.fs().Lock(".ledger/lock", &lock));
  std::unique_ptr<StorageWriter> w2;
  REQUIRE_OK(f.fs().OpenAppendable("log", &w2));
  CHECK(w2->size() == 0);
  REQUIRE_OK(w2->Append("z"));
  REQUIRE_OK(w2->Sync());
  f.fs().SimulateCrash();
  CHECK(ReadOrDie(*f.Reopen(), "log") == "z");
}

TEST_CASE("Concurrent writers and a crash: every synced object survives", "[storage]") {
  Fixture f;
  constexpr int kThreads = 8;
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> durable;  // name, content
  std::atomic<int> done_before_crash{0};
  std::atomic<int> threads_done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0;; ++i) {
        const std::string tag = std::to_string(t) + "-" + std::to_string(i);
        std::unique_ptr<StorageWriter> w;
        Status st = f.fs().CreateStaged("staged", &w);
        if (st.ok()) st = w->Append(tag);
        if (st.ok()) st = w->Sync();
        if (st.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          durable.emplace_back(w->name(), tag);
        }
        if (st.ok()) st = f.fs().PutIfAbsent("obj/" + tag, tag);
        if (st.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          durable.emplace_back("obj/" + tag, tag);
        }
        if (!st.ok()) {  // the crash (or a failure, which the checks below will show)
          ++threads_done;
          return;
        }
        ++done_before_crash;
      }
    });
  }
  while (done_before_crash < 200 && threads_done == 0) std::this_thread::yield();
  CHECK(threads_done == 0);  // nobody failed before the crash
  f.fs().SimulateCrash();
  for (auto& th : threads) th.join();
  REQUIRE_OK(f.fs().rollback_status());
  auto after = f.Reopen();
  REQUIRE(durable.size() >= 200);
  for (const auto& [name, content] : durable) {
    INFO(name);
    CHECK(ReadOrDie(*after, name) == content);
  }
}

}  // namespace
}  // namespace ledger
