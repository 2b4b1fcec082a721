// Tests for PosixStorage: the Storage contract on a real directory.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ledger/posix_storage.h"
#include "support/require_ok.h"
#include "support/temp_dir.h"

namespace ledger {
namespace {

using testing::TempDir;

std::unique_ptr<Storage> Open(const std::string& root) {
  std::unique_ptr<Storage> s;
  REQUIRE_OK(OpenPosixStorage(root, true, &s));
  return s;
}

// Every entry actually in a directory, temp files included.
std::set<std::string> RawEntries(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    out.insert(e.path().filename().string());
  }
  return out;
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

TEST_CASE("ParentOf splits off the last component", "[storage]") {
  CHECK(ParentOf("tile/0/000") == "tile/0");
  CHECK(ParentOf("checkpoint") == "");
  CHECK(ParentOf("a/b") == "a");
}

TEST_CASE("OpenPosixStorage creates or refuses a missing root", "[storage]") {
  TempDir tmp;
  const std::string root = tmp.path() + "/x/y/store";
  std::unique_ptr<Storage> s;
  Status st = OpenPosixStorage(root, false, &s);
  CHECK(st.code() == Status::Code::kNotFound);
  CHECK(st.message().find(root) != std::string::npos);
  REQUIRE_OK(OpenPosixStorage(root + "/", true, &s));
  CHECK(s->Describe() == root);
  CHECK(std::filesystem::is_directory(root));
}

TEST_CASE("PutIfAbsent writes once, creates folders and refuses to overwrite", "[storage]") {
  TempDir tmp;
  auto s = Open(tmp.path());
  REQUIRE_OK(s->PutIfAbsent("tile/0/000", "hello"));
  CHECK(std::filesystem::is_directory(tmp.path() + "/tile/0"));
  std::string got;
  REQUIRE_OK(s->Read("tile/0/000", &got));
  CHECK(got == "hello");
  CHECK(ModeOf(tmp.path() + "/tile/0/000") == 0444);

  Status again = s->PutIfAbsent("tile/0/000", "other");
  CHECK(again.code() == Status::Code::kAlreadyExists);
  CHECK(again.error_number() == EEXIST);
  CHECK(again.message().find(tmp.path() + "/tile/0/000") != std::string::npos);
  REQUIRE_OK(s->Read("tile/0/000", &got));
  CHECK(got == "hello");

  uint64_t size = 0;
  REQUIRE_OK(s->Size("tile/0/000", &size));
  CHECK(size == 5);
  CHECK(s->Exists("tile/0/000"));
  CHECK(s->Exists("tile/0"));
  CHECK_FALSE(s->Exists("tile/0/001"));
  // No temp file is left behind, by success or by refusal.
  CHECK(RawEntries(tmp.path() + "/tile/0") == std::set<std::string>{"000"});

  REQUIRE_OK(s->PutIfAbsent("empty", ""));
  REQUIRE_OK(s->Read("empty", &got));
  CHECK(got.empty());
}

TEST_CASE("Replace swaps the whole object atomically", "[storage]") {
  TempDir tmp;
  auto s = Open(tmp.path());
  REQUIRE_OK(s->Replace("checkpoint", "one"));
  CHECK(ModeOf(tmp.path() + "/checkpoint") == 0644);
  REQUIRE_OK(s->Replace("checkpoint", std::string(100000, 'x')));
  std::string got;
  REQUIRE_OK(s->Read("checkpoint", &got));
  CHECK(got == std::string(100000, 'x'));
  // Replace also works over an immutable PutIfAbsent object (the folder, not the file, decides).
  REQUIRE_OK(s->PutIfAbsent("sealed", "a"));
  REQUIRE_OK(s->Replace("sealed", "b"));
  REQUIRE_OK(s->Read("sealed", &got));
  CHECK(got == "b");
  CHECK(RawEntries(tmp.path()) == std::set<std::string>{"checkpoint", "sealed"});
}

TEST_CASE("Read, ReadAt and Size report missing objects as NotFound", "[storage]") {
  TempDir tmp;
  auto s = Open(tmp.path());
  std::string got;
  Status st = s->Read("nope/x", &got);
  CHECK(st.code() == Status::Code::kNotFound);
  CHECK(st.error_number() == ENOENT);
  CHECK(st.message() == "open " + tmp.path() + "/nope/x: No such file or directory");
  uint64_t size;
  CHECK(s->Size("nope", &size).code() == Status::Code::kNotFound);
  CHECK(s->ReadAt("nope", 0, 1, &got).code() == Status::Code::kNotFound);
}

TEST_CASE("ReadAt returns fewer bytes only at the end", "[storage]") {
  TempDir tmp;
  auto s = Open(tmp.path());
  REQUIRE_OK(s->PutIfAbsent("obj", "0123456789"));
  std::string got;
  REQUIRE_OK(s->ReadAt("obj", 2, 3, &got));
  CHECK(got == "234");
  REQUIRE_OK(s->ReadAt("obj", 8, 10, &got));
  CHECK(got == "89");
  REQUIRE_OK(s->ReadAt("obj", 10, 4, &got));
  CHECK(got.empty());
  REQUIRE_OK(s->ReadAt("obj", 50, 4, &got));
  CHECK(got.empty());
}

TEST_CASE("List gives sorted immediate children and hides temp files", "[storage]") {
  TempDir tmp;
  auto s = Open(tmp.path());
  for (const char* n : {"b", "a", "c", "d/x", "d/y/z"}) REQUIRE_OK(s->PutIfAbsent(n, n));
  // A temp file left by a crash in the middle of a PutIfAbsent.
  std::ofstream(tmp.path() + "/.tmp.0123456789abcdef") << "half";
  std::vector<std::string> names;
  REQUIRE_OK(s->List("", &names));
  CHECK(names == std::vector<std::string>{"a", "b", "c", "d"});
  REQUIRE_OK(s->List("d", &names));
  CHECK(names == std::vector<std::string>{"x", "y"});
  CHECK(s->List("missing", &names).code() == Status::Code::kNotFound);
}

TEST_CASE("Bad object names are refused", "[storage]") {
  TempDir tmp;
  auto s = Open(tmp.path());
  const std::vector<std::string> bad = {
      "",         "/etc/passwd",         "a//b", "a/./b", "../x", "a/..", "a/", ".", ".tmp.x",
      "d/.tmp.y", std::string("a\0b", 3)};
  for (const auto& name : bad) {
    INFO("name: " << name);
    CHECK(s->PutIfAbsent(name, "x").code() == Status::Code::kInvalidArgument);
    CHECK(s->Replace(name, "x").code() == Status::Code::kInvalidArgument);
    std::string got;
    CHECK(s->Read(name, &got).code() == Status::Code::kInvalidArgument);
    CHECK(s->Rename("ok", name).code() == Status::Code::kInvalidArgument);
    std::unique_ptr<StorageWriter> w;
    CHECK(s->OpenAppendable(name, &w).code() == Status::Code::kInvalidArgument);
    CHECK_FALSE(s->Exists(name));
  }
  // Nothing escaped the store.
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(tmp.path()).parent_path() / "x"));
  CHECK(RawEntries(tmp.path()).empty());
}

TEST_CASE("Remove and RemoveTree delete objects and folder trees", "[storage]") {
  TempDir tmp;
  auto s = Open(tmp.path());
  REQUIRE_OK(s->PutIfAbsent("keep", "k"));
  REQUIRE_OK(s->PutIfAbsent("tile/0/000.p/1", "a"));
  REQUIRE_OK(s->PutIfAbsent("tile/0/000.p/2", "b"));
  REQUIRE_OK(s->PutIfAbsent("tile/1/x", "c"));
  REQUIRE_OK(s->Remove("keep"));
  CHECK_FALSE(s->Exists("keep"));
  CHECK(s->Remove("keep").code() == Status::Code::kNotFound);

  REQUIRE_OK(s->RemoveTree("tile/0/000.p"));
  CHECK_FALSE(s->Exists("tile/0/000.p"));
  CHECK(s->Exists("tile/1/x"));
  REQUIRE_OK(s->RemoveTree("tile"));
  CHECK(RawEntries(tmp.path()).empty());
  CHECK(s->RemoveTree("tile").code() == Status::Code::kNotFound);
  CHECK(s->RemoveTree("").code() == Status::Code::kInvalidArgument);
}

TEST_CASE("OpenAppendable appends, reopens at the end and writes at offsets", "[storage]") {
  TempDir tmp;
  auto s = Open(tmp.path());
  std::unique_ptr<StorageWriter> w;
  REQUIRE_OK(s->OpenAppendable(".ledger/wal/log", &w));
  CHECK(w->name() == ".ledger/wal/log");
  CHECK(w->size() == 0);
  REQUIRE_OK(w->Append("abc"));
  REQUIRE_OK(w->Append("def"));
  CHECK(w->size() == 6);
  REQUIRE_OK(w->Sync());
  REQUIRE_OK(w->Close());
  CHECK(w->Append("x").code() == Status::Code::kInvalidArgument);

  REQUIRE_OK(s->OpenAppendable(".ledger/wal/log", &w));
  CHECK(w->size() == 6);
  REQUIRE_OK(w->Append("ghi"));
  REQUIRE_OK(w->WriteAt(1, "BC"));
  REQUIRE_OK(w->WriteAt(9, "jk"));  // at the end: extends
  CHECK(w->size() == 11);
  Status past = w->WriteAt(12, "z");
  CHECK(past.code() == Status::Code::kInvalidArgument);
  std::string got;
  REQUIRE_OK(s->Read(".ledger/wal/log", &got));
  CHECK(got == "aBCdefghijk");

  REQUIRE_OK(w->Truncate(4));
  CHECK(w->size() == 4);
  REQUIRE_OK(w->Append("!"));
  REQUIRE_OK(w->Sync());
  REQUIRE_OK(s->Read(".ledger/wal/log", &got));
  CHECK(got == "aBCd!");
  CHECK(ModeOf(tmp.path() + "/.ledger/wal/log") == 0644);
}

TEST_CASE("CreateStaged hands out unique durable names and hides its pool", "[storage]") {
  TempDir tmp;
  auto s = Open(tmp.path());
  std::set<std::string> names;
  std::vector<std::unique_ptr<StorageWriter>> writers;
  for (int i = 0; i < 70; ++i) {  // more than two pool batches
    std::unique_ptr<StorageWriter> w;
    REQUIRE_OK(s->CreateStaged(".ledger/staged", &w));
    CHECK(w->size() == 0);
    REQUIRE(w->name().rfind(".ledger/staged/", 0) == 0);
    const std::string base = w->name().substr(15);
    CHECK(base.size() == 16);
    CHECK(base.find_first_not_of("0123456789abcdef") == std::string::npos);
    names.insert(w->name());
    REQUIRE_OK(w->Append("record " + std::to_string(i)));
    REQUIRE_OK(w->Sync());
    writers.push_back(std::move(w));
  }
  CHECK(names.size() == 70);
  std::string got;
  REQUIRE_OK(s->Read(writers[42]->name(), &got));
  CHECK(got == "record 42");

  // The pool holds pre-created files on disk that List does not show until handed out.
  std::vector<std::string> listed;
  REQUIRE_OK(s->List(".ledger/staged", &listed));
  CHECK(listed.size() == 70);
  CHECK(RawEntries(tmp.path() + "/.ledger/staged").size() > 70);

  // The store root works as a staging folder too.
  std::unique_ptr<StorageWriter> w;
  REQUIRE_OK(s->CreateStaged("", &w));
  CHECK(w->name().find('/') == std::string::npos);

  // Removing the folder also forgets the pool, so later calls still get real files.
  writers.clear();
  REQUIRE_OK(s->RemoveTree(".ledger/staged"));
  REQUIRE_OK(s->CreateStaged(".ledger/staged", &w));
  REQUIRE_OK(w->Append("after"));
  REQUIRE_OK(s->Read(w->name(), &got));
  CHECK(got == "after");
}

TEST_CASE("Rename moves, creates folders and replaces the target", "[storage]") {
  TempDir tmp;
  auto s = Open(tmp.path());
  REQUIRE_OK(s->Replace("a", "A"));
  REQUIRE_OK(s->Rename("a", "x/y/b"));
  CHECK_FALSE(s->Exists("a"));
  std::string got;
  REQUIRE_OK(s->Read("x/y/b", &got));
  CHECK(got == "A");
  REQUIRE_OK(s->Replace("c", "C"));
  REQUIRE_OK(s->Rename("c", "x/y/b"));
  REQUIRE_OK(s->Read("x/y/b", &got));
  CHECK(got == "C");
  Status st = s->Rename("missing", "z");
  CHECK(st.code() == Status::Code::kNotFound);
  CHECK(st.message().find(tmp.path() + "/missing") != std::string::npos);
  REQUIRE_OK(s->SyncDir("x/y"));
  REQUIRE_OK(s->SyncDir(""));
  CHECK(s->SyncDir("nope").code() == Status::Code::kNotFound);
}

TEST_CASE("Lock excludes a second holder, in this process and in another", "[storage]") {
  TempDir tmp;
  auto s = Open(tmp.path());
  std::unique_ptr<StorageLock> lock;
  REQUIRE_OK(s->Lock(".ledger/lock", &lock));

  // A second open file description in the same process conflicts as well.
  auto other = Open(tmp.path());
  std::unique_ptr<StorageLock> second;
  Status busy = other->Lock(".ledger/lock", &second);
  CHECK(busy.code() == Status::Code::kBusy);
  CHECK(busy.message() ==
        tmp.path() + ": store is in use by another process (lock .ledger/lock held)");

  // A child process sees the lock held; exit code 0 means "got Busy".
  auto try_in_child = [&] {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      std::unique_ptr<Storage> cs;
      std::unique_ptr<StorageLock> cl;
      if (!OpenPosixStorage(tmp.path(), false, &cs).ok()) ::_exit(2);
      Status cst = cs->Lock(".ledger/lock", &cl);
      ::_exit(cst.code() == Status::Code::kBusy ? 0 : cst.ok() ? 1 : 3);
    }
    int wstatus = 0;
    REQUIRE(::waitpid(pid, &wstatus, 0) == pid);
    REQUIRE(WIFEXITED(wstatus));
    return WEXITSTATUS(wstatus);
  };
  CHECK(try_in_child() == 0);

  lock.reset();  // released on destruction
  CHECK(try_in_child() == 1);
  REQUIRE_OK(other->Lock(".ledger/lock", &second));
}

TEST_CASE("OS errors name the path and the operation", "[storage]") {
  TempDir tmp;
  auto s = Open(tmp.path());
  // An object used as a folder: ENOTDIR, which root meets too.
  REQUIRE_OK(s->PutIfAbsent("plain", "x"));
  std::string out;
  Status notdir = s->Read("plain/y", &out);
  CHECK(notdir.code() == Status::Code::kIoError);
  CHECK(notdir.error_number() == ENOTDIR);
  CHECK(notdir.message().find(tmp.path() + "/plain/y") != std::string::npos);
  CHECK(notdir.message().find("Not a directory") != std::string::npos);
  if (::geteuid() == 0) return;  // root ignores the permission bits the rest relies on
  REQUIRE_OK(s->PutIfAbsent("ro/x", "x"));
  REQUIRE(::chmod((tmp.path() + "/ro").c_str(), 0555) == 0);
  Status st = s->PutIfAbsent("ro/y", "y");
  CHECK(st.code() == Status::Code::kIoError);
  CHECK(st.error_number() == EACCES);
  CHECK(st.message().find(tmp.path() + "/ro/.tmp.") != std::string::npos);
  CHECK(st.message().find("Permission denied") != std::string::npos);
  REQUIRE(::chmod((tmp.path() + "/ro").c_str(), 0755) == 0);
}

TEST_CASE("Concurrent staged objects and puts stay unique and intact", "[storage]") {
  TempDir tmp;
  auto s = Open(tmp.path());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::vector<std::vector<std::string>> staged(kThreads);
  std::vector<int> race_wins(kThreads, 0);
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string tag = std::to_string(t) + "-" + std::to_string(i);
        std::unique_ptr<StorageWriter> w;
        Status st = s->CreateStaged("staged", &w);
        if (st.ok()) st = w->Append(tag);
        if (st.ok()) st = w->Sync();
        if (st.ok()) st = w->Close();
        if (st.ok()) staged[t].push_back(w->name());
        if (st.ok()) st = s->PutIfAbsent("obj/" + std::to_string(t) + "/" + std::to_string(i), tag);
        if (st.ok()) {
          // Every thread races for the same names; exactly one may win each.
          Status race = s->PutIfAbsent("race/" + std::to_string(i), tag);
          if (race.ok()) {
            ++race_wins[t];
          } else if (race.code() != Status::Code::kAlreadyExists) {
            st = race;
          }
        }
        if (!st.ok()) {
          failures[t] = st.ToString();
          return;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& f : failures) CHECK(f.empty());
  std::set<std::string> all;
  for (int t = 0; t < kThreads; ++t) {
    REQUIRE(staged[t].size() == kPerThread);
    for (int i = 0; i < kPerThread; ++i) {
      all.insert(staged[t][i]);
      std::string got;
      REQUIRE_OK(s->Read(staged[t][i], &got));
      CHECK(got == std::to_string(t) + "-" + std::to_string(i));
    }
  }
  CHECK(all.size() == kThreads * kPerThread);
  int wins = 0;
  for (int w : race_wins) wins += w;
  CHECK(wins == kPerThread);
  std::vector<std::string> names;
  REQUIRE_OK(s->List("race", &names));
  CHECK(names.size() == kPerThread);
}

}  // namespace
}  // namespace ledger
