// RecordIndex: the record namespace rebuilt from a real log (files, directory records, implicit
// folders, duplicates, non-manifest entries), lookups and listings, reservations (conflicts, bad
// names, path limits, concurrent writers racing for one name), and manifest times. Digests and
// times are computed independently (OpenSSL, timegm), not with ledger code.
#include <openssl/evp.h>
#include <time.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
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

using ledger::testing::ExpectedMs;
using ledger::testing::ManifestField;
using ledger::testing::Sha256Hex;

using ledger::Log;
using ledger::RecordIndex;
using ledger::RecordInfo;
using ledger::Status;
using Entry = RecordIndex::Entry;
using Listing = ledger::testing::RecordListing;
using Store = ledger::testing::RecordStore;
using ledger::testing::Names;

ledger::Hash DigestOf(std::string_view data) {
  return ledger::testing::HexHash(Sha256Hex(data));
}

// Walks a '/'-separated path with Lookup; the test fails if a component is missing.
Entry Resolve(const RecordIndex& index, const std::string& path) {
  Entry e;
  REQUIRE(index.Get(RecordIndex::kRoot, &e));
  size_t start = 0;
  while (start <= path.size() && !path.empty()) {
    const size_t slash = path.find('/', start);
    const std::string name =
        path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    INFO("resolving " << path << " at " << name);
    Entry child;
    REQUIRE(index.Lookup(e.id, name, &child));
    e = child;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return e;
}

// A sealed file entry matches the manifest at its index and the content.
void CheckFile(const Entry& e, const std::string& manifest, uint64_t index,
               std::string_view content) {
  CHECK_FALSE(e.directory);
  CHECK(e.sealed);
  CHECK(e.recorded);
  CHECK(e.index == index);
  CHECK(e.size == content.size());
  CHECK(e.sha256 == DigestOf(content));
  CHECK(ManifestField(manifest, "sha256") == Sha256Hex(content));
  CHECK(e.received_ms == ExpectedMs(ManifestField(manifest, "received")));
}

void CheckRecordedDir(const Entry& e, const std::string& manifest, uint64_t index) {
  CHECK(e.directory);
  CHECK(e.sealed);
  CHECK(e.recorded);
  CHECK(e.index == index);
  CHECK(e.received_ms == ExpectedMs(ManifestField(manifest, "received")));
}

// A path of exactly `len` bytes made of components of at most 100 bytes.
std::string PathOfLength(size_t len) {
  std::string p;
  char c = 'a';
  while (p.size() + 101 < len) {
    p += std::string(100, c) + "/";
    c = c == 'z' ? 'a' : static_cast<char>(c + 1);
  }
  p += std::string(len - p.size(), 'q');
  return p;
}

}  // namespace

TEST_CASE("Load builds files, directory records and implicit folders from the log",
          "[record_index]") {
  Store s;
  const uint64_t junk = s.Raw("not a manifest");
  const RecordInfo top = s.File("top.txt", "top");
  s.Dir("docs");
  s.File("docs/readme.md", "read me\n");
  s.File("a/b/c", "deep content");
  s.Dir("a");  // the implicit folder "a" gets its record later
  s.File("empty", "");
  s.File("odd dir/x%y z.txt", "odd");
  s.File("B upper", "B");
  s.Raw("service-fs/record/v1\nkind file\n");  // looks like a manifest, but is not one
  CHECK(junk == 0);
  CHECK(top.index == 1);

  const std::vector<std::string> entries = s.Entries();
  REQUIRE(entries.size() == 10);

  RecordIndex index;
  REQUIRE_OK(index.Load(s.log.get()));
  CHECK(index.duplicates() == 0);
  // top.txt, docs, docs/readme.md, a, a/b, a/b/c, empty, odd dir, odd dir/x%y z.txt, B upper
  CHECK(index.size() == 10);

  Entry root;
  REQUIRE(index.Get(RecordIndex::kRoot, &root));
  CHECK(root.id == RecordIndex::kRoot);
  CHECK(root.directory);
  CHECK_FALSE(root.recorded);
  CHECK(index.PathOf(RecordIndex::kRoot).empty());

  Listing top_level;
  REQUIRE_OK(index.List(RecordIndex::kRoot, &top_level));
  const std::vector<std::string> expect = {"B upper", "a", "docs", "empty", "odd dir", "top.txt"};
  CHECK(Names(top_level) == expect);

  for (const auto& [name, e] : top_level) {
    INFO(name);
    Entry looked;
    REQUIRE(index.Lookup(RecordIndex::kRoot, name, &looked));
    CHECK(looked.id == e.id);
    Entry got;
    REQUIRE(index.Get(e.id, &got));
    CHECK(got.id == e.id);
    CHECK(got.directory == e.directory);
    CHECK(got.index == e.index);
    CHECK(got.sha256 == e.sha256);
    CHECK(index.PathOf(e.id) == name);
  }

  CheckFile(top_level[5].second, entries[1], 1, "top");
  CheckFile(top_level[3].second, entries[6], 6, "");
  CHECK(
      top_level[3].second.sha256 ==
      ledger::testing::HexHash("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  CheckFile(top_level[0].second, entries[8], 8, "B");
  CheckRecordedDir(top_level[2].second, entries[2], 2);
  CheckRecordedDir(top_level[1].second, entries[5], 5);  // "a": implicit, then recorded

  const Entry rm = Resolve(index, "docs/readme.md");
  CheckFile(rm, entries[3], 3, "read me\n");
  CHECK(index.PathOf(rm.id) == "docs/readme.md");

  const Entry b = Resolve(index, "a/b");  // never recorded: an implicit folder
  CHECK(b.directory);
  CHECK(b.sealed);
  CHECK_FALSE(b.recorded);
  CHECK(index.PathOf(b.id) == "a/b");
  Listing in_b;
  REQUIRE_OK(index.List(b.id, &in_b));
  REQUIRE(in_b.size() == 1);
  CHECK(in_b[0].first == "c");
  CheckFile(in_b[0].second, entries[4], 4, "deep content");
  CHECK(index.PathOf(in_b[0].second.id) == "a/b/c");

  const Entry o = Resolve(index, "odd dir");
  CHECK(o.directory);
  CHECK_FALSE(o.recorded);
  const Entry ox = Resolve(index, "odd dir/x%y z.txt");  // escaped in the manifest, raw here
  CheckFile(ox, entries[7], 7, "odd");
  CHECK(index.PathOf(ox.id) == "odd dir/x%y z.txt");

  // Misses.
  Entry e;
  CHECK_FALSE(index.Lookup(RecordIndex::kRoot, "missing", &e));
  CHECK_FALSE(index.Lookup(RecordIndex::kRoot, "top", &e));
  CHECK_FALSE(index.Lookup(RecordIndex::kRoot, "c", &e));      // only under a/b
  CHECK_FALSE(index.Lookup(top_level[5].second.id, "x", &e));  // a file has no children
  CHECK_FALSE(index.Lookup(987654, "top.txt", &e));
  CHECK_FALSE(index.Get(987654, &e));
  Listing l;
  CHECK(index.List(top_level[5].second.id, &l).code() == Status::Code::kNotFound);
  CHECK(index.List(987654, &l).code() == Status::Code::kNotFound);
}

TEST_CASE("Load keeps the first record of a path and counts the others", "[record_index]") {
  Store s;
  s.File("dup", "first");         // 0
  s.File("dup", "second");        // 1: same path
  s.File("x", "file x");          // 2
  s.File("x/y", "under a file");  // 3: "x" is a file where a folder is needed
  s.Dir("x");                     // 4: a folder record where a file is
  s.Dir("d");                     // 5
  s.Dir("d");                     // 6: the folder recorded twice
  s.File("d", "file d");          // 7: a file where a folder is
  s.File("i/j", "j");             // 8: implicit "i"
  s.File("i", "file i");          // 9: a file where the implicit folder is
  s.Dir("i");                     // 10: the implicit folder gets its record: not a duplicate
  s.Dir("i");                     // 11: now it is one
  s.File("x/y/z", "deeper");      // 12: still under the file "x"
  const std::vector<std::string> entries = s.Entries();
  REQUIRE(entries.size() == 13);

  RecordIndex index;
  REQUIRE_OK(index.Load(s.log.get()));
  CHECK(index.duplicates() == 8);
  CHECK(index.size() == 5);  // dup, x, d, i, i/j

  Listing top;
  REQUIRE_OK(index.List(RecordIndex::kRoot, &top));
  CHECK(Names(top) == std::vector<std::string>{"d", "dup", "i", "x"});

  CheckFile(Resolve(index, "dup"), entries[0], 0, "first");
  const Entry x = Resolve(index, "x");
  CheckFile(x, entries[2], 2, "file x");
  Entry e;
  CHECK_FALSE(index.Lookup(x.id, "y", &e));
  CheckRecordedDir(Resolve(index, "d"), entries[5], 5);
  const Entry i = Resolve(index, "i");
  CheckRecordedDir(i, entries[10], 10);
  Listing in_i;
  REQUIRE_OK(index.List(i.id, &in_i));
  REQUIRE(in_i.size() == 1);
  CheckFile(in_i[0].second, entries[8], 8, "j");

  // AddCommitted follows the same rule.
  RecordInfo again;
  again.kind = RecordInfo::Kind::kFile;
  again.path = "dup";
  again.size = 1;
  again.sha256_hex = Sha256Hex("z");
  again.received = "2026-11-25T21:54:35.123Z";
  again.index = 99;
  CHECK_FALSE(index.AddCommitted(again));
  again.path = "x/inside";
  CHECK_FALSE(index.AddCommitted(again));
  again.path = "new/file";
  CHECK(index.AddCommitted(again));
  const Entry added = Resolve(index, "new/file");
  CHECK(added.sealed);
  CHECK(added.index == 99);
  CHECK(added.size == 1);
  CHECK(added.sha256 == DigestOf("z"));
  CHECK(added.received_ms == ExpectedMs("2026-11-25T21:54:35.123Z"));
  CHECK(index.duplicates() == 8);  // AddCommitted's refusals are not Load's duplicates
  CHECK(Resolve(index, "dup").index == 0);
}

TEST_CASE("Load reads a log longer than one page with the right indices", "[record_index]") {
  Store s;
  constexpr int kEntries = 4100;
  for (int i = 0; i < kEntries; ++i) {
    if (i % 2 == 0) {
      s.Raw("service-fs/record/v1\nkind directory\npath dir" + std::to_string(i) +
            "\nreceived 2026-01-02T03:04:05.006Z\n");
    } else {
      s.Raw("plain entry " + std::to_string(i));
    }
  }
  RecordIndex index;
  REQUIRE_OK(index.Load(s.log.get()));
  CHECK(index.size() == kEntries / 2);
  CHECK(index.duplicates() == 0);
  for (int i : {0, 4094, 4096, 4098}) {
    INFO(i);
    const Entry e = Resolve(index, "dir" + std::to_string(i));
    CHECK(e.directory);
    CHECK(e.recorded);
    CHECK(e.index == static_cast<uint64_t>(i));
    CHECK(e.received_ms == ExpectedMs("2026-01-02T03:04:05.006Z"));
  }
}

TEST_CASE("Reserve takes a free name; Seal and Unreserve settle it", "[record_index]") {
  Store s;
  s.File("sealed.txt", "sealed");
  s.Dir("folder");
  s.File("folder/inner", "inner");
  s.File("imp/leaf", "leaf");
  RecordIndex index;
  REQUIRE_OK(index.Load(s.log.get()));
  REQUIRE(index.size() == 5);
  const Entry folder = Resolve(index, "folder");
  const Entry sealed = Resolve(index, "sealed.txt");

  RecordIndex::NodeId id = 0;
  std::string path;
  REQUIRE_OK(index.Reserve(RecordIndex::kRoot, "new.txt", false, &id, &path));
  CHECK(path == "new.txt");
  CHECK(id != 0);
  CHECK(index.size() == 6);
  Entry e;
  REQUIRE(index.Lookup(RecordIndex::kRoot, "new.txt", &e));
  CHECK(e.id == id);
  CHECK_FALSE(e.sealed);
  CHECK_FALSE(e.directory);
  CHECK_FALSE(e.recorded);
  CHECK(index.PathOf(id) == "new.txt");
  Listing l;
  REQUIRE_OK(index.List(RecordIndex::kRoot, &l));
  CHECK(Names(l) == std::vector<std::string>{"folder", "imp", "new.txt", "sealed.txt"});

  RecordIndex::NodeId other = 0;
  std::string other_path;
  SECTION("names that exist are refused") {
    for (const char* name : {"new.txt", "sealed.txt", "folder", "imp"}) {
      INFO(name);
      for (bool dir : {false, true}) {
        const Status st = index.Reserve(RecordIndex::kRoot, name, dir, &other, &other_path);
        CHECK(st.code() == Status::Code::kAlreadyExists);
      }
    }
    CHECK(index.Reserve(folder.id, "inner", false, &other, &other_path).code() ==
          Status::Code::kAlreadyExists);
    CHECK(index.size() == 6);
  }

  SECTION("the parent must be a folder") {
    CHECK(index.Reserve(987654, "x", false, &other, &other_path).code() == Status::Code::kNotFound);
    CHECK(index.Reserve(sealed.id, "x", false, &other, &other_path).code() ==
          Status::Code::kNotFound);
    CHECK(index.Reserve(id, "x", false, &other, &other_path).code() ==  // a reserved file
          Status::Code::kNotFound);
    CHECK(index.size() == 6);
  }

  SECTION("names that break the path rules are refused") {
    const std::vector<std::string> bad = {
        "", "/", "a/b", "/x", "x/", ".", "..", std::string("nu\0l", 4), std::string(256, 'n'),
    };
    for (RecordIndex::NodeId parent : {RecordIndex::kRoot, folder.id}) {
      for (const std::string& name : bad) {
        INFO(ledger::EscapeRecordPath(name) << " in " << parent);
        const Status st = index.Reserve(parent, name, false, &other, &other_path);
        CHECK(st.code() == Status::Code::kInvalidArgument);
      }
    }
    CHECK(index.size() == 6);
    REQUIRE_OK(index.Reserve(folder.id, std::string(255, 'n'), false, &other, &other_path));
    CHECK(other_path == "folder/" + std::string(255, 'n'));
    REQUIRE_OK(index.Reserve(folder.id, "...", false, &other, &other_path));
    CHECK(other_path == "folder/...");
  }

  SECTION("a reserved folder is sealed by its directory record and takes children") {
    REQUIRE_OK(index.Reserve(folder.id, "sub", true, &other, &other_path));
    CHECK(other_path == "folder/sub");
    REQUIRE(index.Get(other, &e));
    CHECK(e.directory);
    CHECK_FALSE(e.sealed);
    const RecordInfo info = s.Dir(other_path);
    index.Seal(other, info);
    REQUIRE(index.Get(other, &e));
    CHECK(e.directory);
    CHECK(e.sealed);
    CHECK(e.recorded);
    CHECK(e.index == info.index);
    CHECK(e.received_ms == ExpectedMs(info.received));
    RecordIndex::NodeId leaf = 0;
    std::string leaf_path;
    REQUIRE_OK(index.Reserve(other, "leaf", false, &leaf, &leaf_path));
    CHECK(leaf_path == "folder/sub/leaf");
    CHECK(index.PathOf(leaf) == "folder/sub/leaf");
  }

  SECTION("Seal makes the record visible; Unreserve leaves it alone") {
    std::unique_ptr<ledger::RecordWriter> w;
    REQUIRE_OK(s.records->BeginFile(path, &w));
    REQUIRE_OK(w->Write("new content"));
    RecordInfo info;
    REQUIRE_OK(w->Commit(&info));
    index.Seal(id, info);
    REQUIRE(index.Lookup(RecordIndex::kRoot, "new.txt", &e));
    CHECK(e.id == id);
    const std::vector<std::string> entries = s.Entries();
    REQUIRE(entries.size() == 5);
    CheckFile(e, entries[4], 4, "new content");

    index.Unreserve(id);  // sealed: nothing happens
    REQUIRE(index.Lookup(RecordIndex::kRoot, "new.txt", &e));
    CHECK(e.sealed);
    CHECK(index.size() == 6);
    CHECK(index.Reserve(RecordIndex::kRoot, "new.txt", false, &other, &other_path).code() ==
          Status::Code::kAlreadyExists);
    Entry probe;
    index.Unreserve(sealed.id);  // a loaded record: nothing happens either
    CHECK(index.Lookup(RecordIndex::kRoot, "sealed.txt", &probe));
    index.Unreserve(RecordIndex::kRoot);
    CHECK(index.Get(RecordIndex::kRoot, &probe));
    index.Unreserve(987654);
    CHECK(index.size() == 6);

    // A fresh index loaded from the log agrees with the sealed reservation.
    RecordIndex reloaded;
    REQUIRE_OK(reloaded.Load(s.log.get()));
    const Entry r = Resolve(reloaded, "new.txt");
    CHECK(r.sealed);
    CHECK(r.index == e.index);
    CHECK(r.size == e.size);
    CHECK(r.sha256 == e.sha256);
    CHECK(r.received_ms == e.received_ms);
  }

  SECTION("Unreserve frees the name") {
    index.Unreserve(id);
    CHECK_FALSE(index.Lookup(RecordIndex::kRoot, "new.txt", &e));
    CHECK_FALSE(index.Get(id, &e));
    CHECK(index.size() == 5);
    REQUIRE_OK(index.List(RecordIndex::kRoot, &l));
    CHECK(Names(l) == std::vector<std::string>{"folder", "imp", "sealed.txt"});
    REQUIRE_OK(index.Reserve(RecordIndex::kRoot, "new.txt", true, &other, &other_path));
    CHECK(other_path == "new.txt");
    REQUIRE(index.Lookup(RecordIndex::kRoot, "new.txt", &e));
    CHECK(e.id == other);
    CHECK(e.directory);
  }
}

TEST_CASE("Reserve enforces the 4096-byte path limit", "[record_index]") {
  Store s;
  const std::string parent = PathOfLength(3900);
  REQUIRE(parent.size() == 3900);
  REQUIRE_OK(ledger::ValidateRecordPath(parent));
  s.Dir(parent);
  RecordIndex index;
  REQUIRE_OK(index.Load(s.log.get()));
  const Entry p = Resolve(index, parent);
  REQUIRE(p.directory);
  CHECK(index.PathOf(p.id) == parent);

  RecordIndex::NodeId id = 0;
  std::string path;
  // 3900 + '/' + 196 = 4097 bytes.
  CHECK(index.Reserve(p.id, std::string(196, 'x'), false, &id, &path).code() ==
        Status::Code::kInvalidArgument);
  CHECK(index.Reserve(p.id, std::string(250, 'x'), true, &id, &path).code() ==
        Status::Code::kInvalidArgument);
  // 3900 + '/' + 195 = 4096 bytes: the limit itself is allowed.
  REQUIRE_OK(index.Reserve(p.id, std::string(195, 'x'), false, &id, &path));
  CHECK(path.size() == 4096);
  CHECK(path == parent + "/" + std::string(195, 'x'));
  CHECK(index.PathOf(id) == path);
}

TEST_CASE("Concurrent Reserve of one name: exactly one writer wins", "[fs][threads]") {
  RecordIndex index;
  constexpr int kThreads = 8;
  constexpr int kRounds = 50;
  for (int round = 0; round < kRounds; ++round) {
    const std::string name = "race" + std::to_string(round);
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<Status> shared_result(kThreads);
    std::vector<RecordIndex::NodeId> ids(kThreads, 0);
    std::vector<Status> own_result(kThreads);
    std::vector<std::thread> pool;
    for (int t = 0; t < kThreads; ++t) {
      pool.emplace_back([&, t] {
        ready.fetch_add(1);
        while (!go.load()) std::this_thread::yield();
        std::string path;
        shared_result[t] = index.Reserve(RecordIndex::kRoot, name, t % 2 == 0, &ids[t], &path);
        RecordIndex::NodeId mine = 0;
        own_result[t] =
            index.Reserve(RecordIndex::kRoot, name + "-" + std::to_string(t), false, &mine, &path);
      });
    }
    while (ready.load() < kThreads) std::this_thread::yield();
    go.store(true);
    for (auto& th : pool) th.join();

    INFO("round " << round);
    const RecordIndex::NodeId winner = ledger::testing::RaceWinner(shared_result, ids, own_result);
    Entry e;
    REQUIRE(index.Lookup(RecordIndex::kRoot, name, &e));
    CHECK(e.id == winner);
    CHECK_FALSE(e.sealed);
  }
  CHECK(index.size() == static_cast<uint64_t>(kRounds * (kThreads + 1)));
  std::vector<std::pair<std::string, Entry>> l;
  REQUIRE_OK(index.List(RecordIndex::kRoot, &l));
  CHECK(l.size() == static_cast<size_t>(kRounds * (kThreads + 1)));
  CHECK(std::is_sorted(l.begin(), l.end(),
                       [](const auto& x, const auto& y) { return x.first < y.first; }));
}

TEST_CASE("ParseReceivedMs reads the manifest time", "[record_index]") {
  struct tm t {};
  t.tm_year = 2026 - 1900;
  t.tm_mon = 11 - 1;
  t.tm_mday = 25;
  t.tm_hour = 21;
  t.tm_min = 54;
  t.tm_sec = 35;
  const int64_t expect = static_cast<int64_t>(timegm(&t)) * 1000 + 123;
  CHECK(ledger::ParseReceivedMs("2026-11-25T21:54:35.123Z") == expect);
  CHECK(expect == 1795643675123);
  CHECK(ledger::ParseReceivedMs("1970-01-01T00:00:01.001Z") == 1001);
  CHECK(ledger::ParseReceivedMs("2024-02-29T23:59:59.999Z") == 1709251199999);
  const std::string now = ledger::Rfc3339Now();
  CHECK(ledger::ParseReceivedMs(now) == ExpectedMs(now));
}

TEST_CASE("ParseReceivedMs gives 0 for malformed times", "[record_index]") {
  const std::vector<std::string> malformed = {
      "",
      "garbage",
      "2026-11-25T21:54:35Z",       // no milliseconds
      "2026-11-25T21:54:35.1234Z",  // too many digits
      "2026-11-25T21:54:35.123",    // no zone
      " 2026-11-25T21:54:35.123Z",  // leading space
      "2026-11-25T21:54:35.12xZ",   // not a digit
      "2026-1x-25T21:54:35.123Z",   //
      "2026-11-2xT21:54:35.123Z",   //
      "2026-11-25T2x:54:35.123Z",   //
      "2026-11-25T21:5x:35.123Z",   //
      "2026-11-25T21:54:3x.123Z",   //
      "20x6-11-25T21:54:35.123Z",   // the year is a number too
      "abcd-11-25T21:54:35.123Z",   //
      "2026/11/25T21:54:35.123Z",   // wrong separators
      "2026-11-25 21:54:35.123Z",   //
      "2026-11-25T21-54-35.123Z",   //
      "2026-11-25T21:54:35,123Z",   //
      "2026-11-25T21:54:35.123+",   //
      "2026-11-25T21:54:35.123z",   //
      "2026-13-25T21:54:35.123Z",   // out of range
      "2026-00-25T21:54:35.123Z",   //
      "2026-11-00T21:54:35.123Z",   //
      "2026-11-31T21:54:35.123Z",   //
      "2026-11-25T24:54:35.123Z",   //
      "2026-11-25T21:60:35.123Z",   //
      "2026-11-25T21:54:61.123Z",   //
  };
  for (const std::string& m : malformed) {
    INFO('"' << m << '"');
    CHECK(ledger::ParseReceivedMs(m) == 0);
  }
}
