// RecordIndex::ReservePath / LookupPath and the pruning Unreserve (ledger/record_index.h), as the
// HTTP API uses them: whole record paths reserved with the folders they imply, conflicts, bad
// paths, implicit folders removed when a failed writer leaves them empty (and nothing else), one
// winner among racing writers, and a sealed reservation as LookupPath sees it. Digests and times
// are computed independently (OpenSSL, timegm).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ledger/log.h"
#include "ledger/note.h"
#include "ledger/posix_storage.h"
#include "ledger/record_index.h"
#include "ledger/records.h"
#include "support/independent.h"
#include "support/record_store.h"
#include "support/require_ok.h"
#include "support/temp_dir.h"
#include "support/test_data.h"

namespace {

using ledger::RecordIndex;
using ledger::RecordInfo;
using ledger::Status;
using ledger::testing::ExpectedMs;
using ledger::testing::Sha256Hex;
using Entry = RecordIndex::Entry;
using Listing = ledger::testing::RecordListing;
using ledger::testing::Names;
using NodeId = RecordIndex::NodeId;

std::vector<std::string> ChildNames(const RecordIndex& index, NodeId dir) {
  Listing l;
  REQUIRE_OK(index.List(dir, &l));
  return Names(l);
}

// LookupPath that must succeed.
Entry At(const RecordIndex& index, const std::string& path) {
  Entry e;
  INFO("LookupPath(\"" << path << "\")");
  REQUIRE(index.LookupPath(path, &e));
  return e;
}

bool Has(const RecordIndex& index, const std::string& path) {
  Entry e;
  return index.LookupPath(path, &e);
}

// An implicit folder: a folder no log entry stands for, like those Load makes.
void CheckImplicitFolder(const Entry& e) {
  CHECK(e.directory);
  CHECK(e.sealed);
  CHECK_FALSE(e.recorded);
}

}  // namespace

TEST_CASE("ReservePath takes a path and makes the folders it implies", "[record_index]") {
  RecordIndex index;
  NodeId id = 0;
  REQUIRE_OK(index.ReservePath("a/b/c.txt", &id));
  CHECK(id != 0);
  CHECK(id != RecordIndex::kRoot);
  CHECK(index.size() == 3);  // a, a/b, a/b/c.txt

  const Entry a = At(index, "a");
  const Entry b = At(index, "a/b");
  const Entry leaf = At(index, "a/b/c.txt");
  CheckImplicitFolder(a);
  CheckImplicitFolder(b);
  CHECK(leaf.id == id);
  CHECK_FALSE(leaf.directory);
  CHECK_FALSE(leaf.sealed);
  CHECK_FALSE(leaf.recorded);
  CHECK(index.PathOf(id) == "a/b/c.txt");
  CHECK(index.PathOf(b.id) == "a/b");

  // The same answers through Lookup and List.
  CHECK(ChildNames(index, RecordIndex::kRoot) == std::vector<std::string>{"a"});
  CHECK(ChildNames(index, a.id) == std::vector<std::string>{"b"});
  CHECK(ChildNames(index, b.id) == std::vector<std::string>{"c.txt"});
  Entry e;
  REQUIRE(index.Lookup(a.id, "b", &e));
  CHECK(e.id == b.id);
  REQUIRE(index.Lookup(b.id, "c.txt", &e));
  CHECK(e.id == id);

  // A second path reuses the folders that exist.
  NodeId id2 = 0;
  REQUIRE_OK(index.ReservePath("a/b/d.txt", &id2));
  CHECK(id2 != id);
  CHECK(index.size() == 4);
  CHECK(At(index, "a").id == a.id);
  CHECK(At(index, "a/b").id == b.id);
  CHECK(ChildNames(index, b.id) == std::vector<std::string>{"c.txt", "d.txt"});
  NodeId id3 = 0;
  REQUIRE_OK(index.ReservePath("a/e", &id3));
  CHECK(ChildNames(index, a.id) == std::vector<std::string>{"b", "e"});
  // A one-component path makes no folder.
  NodeId top = 0;
  REQUIRE_OK(index.ReservePath("top", &top));
  CHECK(index.size() == 6);
  CHECK(ChildNames(index, RecordIndex::kRoot) == std::vector<std::string>{"a", "top"});

  // LookupPath misses.
  for (const char* miss :
       {"", "x", "a/x", "a/b/c", "a/b/c.txt/x", "a/", "/a", "a//b", "a/b/", "/", "A"}) {
    INFO("\"" << miss << "\"");
    CHECK_FALSE(index.LookupPath(miss, &e));
  }
}

TEST_CASE("ReservePath implicit folders look like those Load makes", "[record_index]") {
  ledger::testing::RecordStore s{"example.com/reserve-path-test"};
  s.File("p/q/loaded", "x");
  RecordIndex loaded;
  REQUIRE_OK(loaded.Load(s.log.get()));
  RecordIndex fresh;
  NodeId id = 0;
  REQUIRE_OK(fresh.ReservePath("p/q/reserved", &id));
  for (const char* path : {"p", "p/q"}) {
    INFO(path);
    const Entry l = At(loaded, path);
    const Entry r = At(fresh, path);
    CHECK(l.directory == r.directory);
    CHECK(l.sealed == r.sealed);
    CHECK(l.recorded == r.recorded);
    CheckImplicitFolder(r);
  }
}

TEST_CASE("ReservePath refuses taken paths and files where folders are needed", "[record_index]") {
  ledger::testing::RecordStore s{"example.com/reserve-path-test"};
  s.File("sealed.txt", "sealed");
  s.Dir("folder");
  s.File("folder/inner", "inner");
  s.File("imp/leaf", "leaf");  // imp is implicit
  RecordIndex index;
  REQUIRE_OK(index.Load(s.log.get()));
  REQUIRE(index.size() == 5);
  NodeId reserved = 0;
  REQUIRE_OK(index.ReservePath("pending/file", &reserved));  // not sealed yet
  REQUIRE(index.size() == 7);

  NodeId id = 12345;
  for (const char* taken :
       {"sealed.txt", "folder", "folder/inner", "imp", "imp/leaf", "pending", "pending/file"}) {
    INFO(taken);
    CHECK(index.ReservePath(taken, &id).code() == Status::Code::kAlreadyExists);
  }
  // A file (sealed or still being written) where the path needs a folder.
  for (const char* through_file :
       {"sealed.txt/x", "sealed.txt/x/y", "folder/inner/x", "imp/leaf/x/y/z", "pending/file/x"}) {
    INFO(through_file);
    CHECK(index.ReservePath(through_file, &id).code() == Status::Code::kAlreadyExists);
  }
  CHECK(id == 12345);
  CHECK(index.size() == 7);
  // Nothing changed underneath.
  const Entry sealed = At(index, "sealed.txt");
  CHECK(sealed.sealed);
  CHECK_FALSE(sealed.directory);
  CHECK(At(index, "pending/file").id == reserved);
  CHECK_FALSE(At(index, "pending/file").sealed);
  CHECK(ChildNames(index, At(index, "folder").id) == std::vector<std::string>{"inner"});
  CHECK(ChildNames(index, At(index, "imp").id) == std::vector<std::string>{"leaf"});

  // Paths next to the taken ones are free.
  REQUIRE_OK(index.ReservePath("folder/new", &id));
  REQUIRE_OK(index.ReservePath("imp/new/deeper", &id));
  REQUIRE_OK(index.ReservePath("sealed.txt2", &id));
  CHECK(index.size() == 11);
}

TEST_CASE("ReservePath refuses paths that break the record path rules", "[record_index]") {
  RecordIndex index;
  NodeId keep = 0;
  REQUIRE_OK(index.ReservePath("ok/file", &keep));
  REQUIRE(index.size() == 2);
  std::string long_path;
  while (long_path.size() < 4097) long_path += std::string(99, 'l') + "/";
  long_path.resize(4097);
  if (long_path.back() == '/') long_path.back() = 'l';
  const std::vector<std::string> bad = {
      "",
      "/",
      "/abs",
      "/ok/x",
      "trailing/",
      "ok/",
      "a//b",
      "new//b",
      ".",
      "..",
      "a/.",
      "new/./b",
      "new/../b",
      "ok/..",
      std::string("nu\0l", 4),
      std::string("new/nu\0l", 8),
      std::string(256, 'n'),
      "new/" + std::string(256, 'n') + "/x",
      long_path,
  };
  for (const std::string& path : bad) {
    INFO("path of " << path.size() << " bytes: " << ledger::EscapeRecordPath(path));
    NodeId id = 777;
    CHECK(index.ReservePath(path, &id).code() == Status::Code::kInvalidArgument);
    CHECK(id == 777);
  }
  // No folder was made on the way to a refusal.
  CHECK(index.size() == 2);
  CHECK(ChildNames(index, RecordIndex::kRoot) == std::vector<std::string>{"ok"});
  // The limits themselves are fine.
  NodeId id = 0;
  REQUIRE_OK(index.ReservePath("new/" + std::string(255, 'n'), &id));
  std::string max_path = long_path.substr(0, 4096);
  if (max_path.back() == '/') max_path.back() = 'm';
  REQUIRE_OK(index.ReservePath(max_path, &id));
  CHECK(index.PathOf(id) == max_path);
}

TEST_CASE("Unreserve drops the leaf and the implicit folders it leaves empty", "[record_index]") {
  ledger::testing::RecordStore s{"example.com/reserve-path-test"};
  s.Dir("rec");                // a recorded folder
  s.File("imp/leaf", "leaf");  // imp: an implicit folder that Load made
  RecordIndex index;
  REQUIRE_OK(index.Load(s.log.get()));
  REQUIRE(index.size() == 3);
  const std::vector<std::string> top = {"imp", "rec"};
  REQUIRE(ChildNames(index, RecordIndex::kRoot) == top);

  SECTION("a chain of new folders goes with the leaf") {
    NodeId id = 0;
    REQUIRE_OK(index.ReservePath("x/y/z/f", &id));
    const Entry x = At(index, "x");
    const Entry z = At(index, "x/y/z");
    CHECK(index.size() == 7);
    index.Unreserve(id);
    CHECK(index.size() == 3);
    CHECK(ChildNames(index, RecordIndex::kRoot) == top);
    for (const char* gone : {"x", "x/y", "x/y/z", "x/y/z/f"}) {
      INFO(gone);
      CHECK_FALSE(Has(index, gone));
    }
    Entry e;
    CHECK_FALSE(index.Get(id, &e));
    CHECK_FALSE(index.Get(x.id, &e));
    CHECK_FALSE(index.Get(z.id, &e));
    // The path is free again, with new ids (ids are never reused).
    NodeId again = 0;
    REQUIRE_OK(index.ReservePath("x/y/z/f", &again));
    CHECK(again != id);
    CHECK(At(index, "x").id != x.id);
    CHECK(index.size() == 7);
  }

  SECTION("a recorded folder stays; the implicit ones below it go") {
    const Entry rec = At(index, "rec");
    NodeId id = 0;
    REQUIRE_OK(index.ReservePath("rec/i1/i2/f", &id));
    index.Unreserve(id);
    CHECK(index.size() == 3);
    const Entry after = At(index, "rec");
    CHECK(after.id == rec.id);
    CHECK(after.recorded);
    CHECK(ChildNames(index, rec.id).empty());
    CHECK_FALSE(Has(index, "rec/i1"));
    // Directly in the recorded folder.
    REQUIRE_OK(index.ReservePath("rec/f", &id));
    index.Unreserve(id);
    CHECK(Has(index, "rec"));
    CHECK(index.size() == 3);
  }

  SECTION("folders with other children stay") {
    NodeId f1 = 0, f2 = 0;
    REQUIRE_OK(index.ReservePath("s/t/f1", &f1));
    REQUIRE_OK(index.ReservePath("s/u/f2", &f2));
    CHECK(index.size() == 8);
    index.Unreserve(f1);
    CHECK_FALSE(Has(index, "s/t"));
    CHECK(Has(index, "s"));
    CHECK(Has(index, "s/u/f2"));
    CHECK(ChildNames(index, At(index, "s").id) == std::vector<std::string>{"u"});
    CHECK(index.size() == 6);
    index.Unreserve(f2);
    CHECK_FALSE(Has(index, "s"));
    CHECK(index.size() == 3);
  }

  SECTION("an implicit folder that Load made stays while it has its record") {
    NodeId id = 0;
    REQUIRE_OK(index.ReservePath("imp/new/f", &id));
    index.Unreserve(id);
    CHECK_FALSE(Has(index, "imp/new"));
    CHECK(ChildNames(index, At(index, "imp").id) == std::vector<std::string>{"leaf"});
    CHECK(index.size() == 3);
  }

  SECTION("a sibling that was sealed keeps the folder") {
    const RecordInfo info = s.File("k/kept", "kept");
    NodeId kept = 0, dropped = 0;
    REQUIRE_OK(index.ReservePath("k/kept", &kept));
    REQUIRE_OK(index.ReservePath("k/dropped", &dropped));
    index.Seal(kept, info);
    index.Unreserve(dropped);
    CHECK(Has(index, "k"));
    CHECK(ChildNames(index, At(index, "k").id) == std::vector<std::string>{"kept"});
    // Unreserve after Seal changes nothing.
    index.Unreserve(kept);
    CHECK(At(index, "k/kept").sealed);
    CHECK(index.size() == 5);
  }

  SECTION("a folder that got its directory record meanwhile stays") {
    NodeId id = 0;
    REQUIRE_OK(index.ReservePath("m/f", &id));
    const RecordInfo dir = s.Dir("m");
    REQUIRE(index.AddCommitted(dir));  // the implicit folder becomes the recorded one
    CHECK(At(index, "m").recorded);
    index.Unreserve(id);
    const Entry m = At(index, "m");
    CHECK(m.directory);
    CHECK(m.recorded);
    CHECK(m.index == dir.index);
    CHECK_FALSE(Has(index, "m/f"));
    CHECK(index.size() == 4);
  }

  SECTION("a child reserved with Reserve keeps the folder; its own Unreserve prunes it") {
    NodeId id = 0;
    REQUIRE_OK(index.ReservePath("v/w/f", &id));
    const Entry w = At(index, "v/w");
    NodeId other = 0;
    std::string other_path;
    REQUIRE_OK(index.Reserve(w.id, "g", false, &other, &other_path));
    CHECK(other_path == "v/w/g");
    index.Unreserve(id);
    CHECK(Has(index, "v/w/g"));
    CHECK_FALSE(Has(index, "v/w/f"));
    index.Unreserve(other);
    CHECK_FALSE(Has(index, "v"));
    CHECK(index.size() == 3);
  }

  // Whatever happened above, the loaded records are untouched.
  const Entry leaf = At(index, "imp/leaf");
  CHECK(leaf.sealed);
  CHECK(leaf.recorded);
  CHECK(At(index, "rec").recorded);
}

TEST_CASE("Unreserve leaves alone a folder another writer reserved with Reserve",
          "[record_index]") {
  // The mount's mkdir reserves a folder (Reserve, directory=true), then appends its directory
  // record and seals it. A POST into that folder in between must not remove the folder when the
  // POST fails: the folder is that other writer's reservation, not an implicit folder.
  RecordIndex index;
  NodeId dir = 0;
  std::string dir_path;
  REQUIRE_OK(index.Reserve(RecordIndex::kRoot, "d", /*directory=*/true, &dir, &dir_path));
  NodeId leaf = 0;
  REQUIRE_OK(index.ReservePath("d/x", &leaf));
  index.Unreserve(leaf);
  Entry e;
  CHECK(index.Get(dir, &e));
  CHECK(index.LookupPath("d", &e));
  CHECK(e.id == dir);
  CHECK(index.size() == 1);
}

TEST_CASE("Concurrent ReservePath of one path: exactly one writer wins",
          "[record_index][threads]") {
  RecordIndex index;
  constexpr int kThreads = 8;
  constexpr int kRounds = 40;
  for (int round = 0; round < kRounds; ++round) {
    const std::string base = "race" + std::to_string(round);
    const std::string path = base + "/deep/er/name";
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<Status> shared_result(kThreads);
    std::vector<NodeId> ids(kThreads, 0);
    std::vector<Status> own_result(kThreads);
    std::vector<std::thread> pool;
    for (int t = 0; t < kThreads; ++t) {
      pool.emplace_back([&, t] {
        ready.fetch_add(1);
        while (!go.load()) std::this_thread::yield();
        shared_result[t] = index.ReservePath(path, &ids[t]);
        NodeId mine = 0;
        own_result[t] = index.ReservePath(base + "/deep/own" + std::to_string(t), &mine);
      });
    }
    while (ready.load() < kThreads) std::this_thread::yield();
    go.store(true);
    for (auto& th : pool) th.join();

    INFO("round " << round);
    const NodeId winner = ledger::testing::RaceWinner(shared_result, ids, own_result);
    const Entry e = At(index, path);
    CHECK(e.id == winner);
    CHECK_FALSE(e.sealed);
    // The folders exist once: race<r>/deep holds "er" and the 8 own files.
    const Entry deep = At(index, base + "/deep");
    CHECK(ChildNames(index, deep.id).size() == static_cast<size_t>(kThreads + 1));
    CHECK(ChildNames(index, At(index, base).id) == std::vector<std::string>{"deep"});
  }
  // race<r>, deep, er, name and 8 own files per round.
  CHECK(index.size() == static_cast<uint64_t>(kRounds * (4 + kThreads)));
  CHECK(ChildNames(index, RecordIndex::kRoot).size() == static_cast<size_t>(kRounds));
}

TEST_CASE("Concurrent ReservePath and Unreserve keep folders consistent",
          "[record_index][threads]") {
  RecordIndex index;
  NodeId keep = 0;
  REQUIRE_OK(index.ReservePath("shared/keep", &keep));
  constexpr int kThreads = 8;
  constexpr int kIterations = 300;
  std::atomic<int> failures{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < kIterations; ++i) {
        NodeId id = 0;
        // Half the threads churn under the kept folder, half in a folder of their own that
        // comes and goes.
        const std::string path = t % 2 == 0 ? "shared/t" + std::to_string(t) + "/f"
                                            : "own" + std::to_string(t) + "/a/b/f";
        if (!index.ReservePath(path, &id).ok()) {
          failures.fetch_add(1);
          continue;
        }
        Entry e;
        if (!index.LookupPath(path, &e) || e.id != id) failures.fetch_add(1);
        index.Unreserve(id);
        if (index.LookupPath(path, &e)) failures.fetch_add(1);
      }
    });
  }
  for (auto& th : pool) th.join();
  CHECK(failures.load() == 0);
  // Only the kept reservation and its folder are left.
  CHECK(index.size() == 2);
  CHECK(ChildNames(index, RecordIndex::kRoot) == std::vector<std::string>{"shared"});
  CHECK(At(index, "shared/keep").id == keep);
}

TEST_CASE("A sealed ReservePath shows its record through LookupPath", "[record_index]") {
  ledger::testing::RecordStore s{"example.com/reserve-path-test"};
  RecordIndex index;
  REQUIRE_OK(index.Load(s.log.get()));
  NodeId id = 0;
  const std::string path = "invoices/2026/0042.pdf";
  REQUIRE_OK(index.ReservePath(path, &id));
  const std::string content = "%PDF-1.7 fake invoice\n";
  const RecordInfo info = s.File(path, content);
  index.Seal(id, info);

  const Entry e = At(index, path);
  CHECK(e.id == id);
  CHECK_FALSE(e.directory);
  CHECK(e.sealed);
  CHECK(e.recorded);
  CHECK(e.size == content.size());
  CHECK(e.sha256 == ledger::testing::HexHash(Sha256Hex(content)));
  CHECK(e.index == 0);
  CHECK(e.received_ms == ExpectedMs(info.received));
  // The folders stay implicit: no log entry stands for them.
  CheckImplicitFolder(At(index, "invoices"));
  CheckImplicitFolder(At(index, "invoices/2026"));
  index.Unreserve(id);  // sealed: nothing happens
  CHECK(Has(index, path));
  CHECK(index.size() == 3);

  // An index loaded from the log agrees.
  RecordIndex reloaded;
  REQUIRE_OK(reloaded.Load(s.log.get()));
  const Entry r = At(reloaded, path);
  CHECK(r.sealed);
  CHECK(r.size == e.size);
  CHECK(r.sha256 == e.sha256);
  CHECK(r.index == e.index);
  CHECK(r.received_ms == e.received_ms);
  CheckImplicitFolder(At(reloaded, "invoices/2026"));
  CHECK(reloaded.size() == 3);
}
