// TileCache (http/tile_cache.h) on a real store written by the ledger API: full tiles and
// bundles are served byte for byte with ETag = the quoted SHA-256 of the body, a partial the
// publisher pruned is rebuilt as the prefix of its full tile (compared with the partial's bytes
// read before it went), unpublished tiles are NotFound, and the LRU bound holds while answers
// stay right. Leaf hashes, digests and bundle framing are computed here independently.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/tile_cache.h"
#include "ledger/log.h"
#include "ledger/note.h"
#include "ledger/posix_storage.h"
#include "ledger/tile_path.h"
#include "support/independent.h"
#include "support/require_ok.h"
#include "support/temp_dir.h"
#include "support/test_data.h"

namespace {

using ledger::Status;
using ledger::testing::ReadFile;
using ledger::testing::Sha256Hex;
using ledger::testing::Unhex;

// A log on PosixStorage in a temporary folder; nothing is published until Publish().
struct TileStore {
  ledger::testing::TempDir dir{"/dev/shm"};
  std::unique_ptr<ledger::Storage> storage;
  ledger::NoteSigner signer;
  std::unique_ptr<ledger::Log> log;
  std::vector<std::string> entries;  // every entry appended, in order

  TileStore() {
    REQUIRE_OK(ledger::OpenPosixStorage(dir.path(), true, &storage));
    REQUIRE_OK(ledger::NoteSigner::Generate("example.com/tile-cache-test", &signer));
    REQUIRE_OK(ledger::Log::Create(storage.get(), signer));
    ledger::LogOptions opts;
    opts.background_publish = false;
    REQUIRE_OK(ledger::Log::Open(storage.get(), signer, opts, &log));
  }
  ~TileStore() {
    log.reset();
    storage.reset();
  }

  // Appends entries until `n` are committed (short ones, so bundles stay small).
  void AppendUpTo(size_t n) {
    while (entries.size() < n) {
      const std::string e = "e" + std::to_string(entries.size());
      uint64_t index = 0;
      REQUIRE_OK(log->Append(e, &index));
      REQUIRE(index == entries.size());
      entries.push_back(e);
    }
  }
  void Publish() { REQUIRE_OK(log->Publish()); }

  bool FileExists(const std::string& name) const { return std::filesystem::exists(dir / name); }
  std::string File(const std::string& name) const { return ReadFile(dir / name); }
};

// RFC 6962 leaf hash of an entry, as raw bytes.
std::string LeafHash(const std::string& entry) {
  return Unhex(Sha256Hex(std::string(1, '\0') + entry));
}

// The level-0 hash tile of leaves [first, first+count), independently.
std::string ExpectedHashTile(const std::vector<std::string>& entries, size_t first, size_t count) {
  std::string out;
  for (size_t i = first; i < first + count; ++i) out += LeafHash(entries[i]);
  return out;
}

// An entry bundle of entries [first, first+count): each entry after its big-endian uint16 length.
std::string ExpectedBundle(const std::vector<std::string>& entries, size_t first, size_t count) {
  std::string out;
  for (size_t i = first; i < first + count; ++i) {
    out.push_back(static_cast<char>(entries[i].size() >> 8));
    out.push_back(static_cast<char>(entries[i].size() & 0xff));
    out += entries[i];
  }
  return out;
}

std::string QuotedSha256(const std::string& bytes) {
  return "\"" + Sha256Hex(bytes) + "\"";
}

// TileCache::Get for a tile named as on the wire.
Status Get(http::TileCache* cache, const std::string& name,
           std::shared_ptr<const http::CachedTile>* out) {
  std::optional<ledger::ParsedTilePath> parsed = ledger::ParseTilePath(name);
  INFO(name);
  REQUIRE(parsed.has_value());
  return cache->Get(name, *parsed, out);
}

// Get must succeed with exactly `bytes` and its ETag.
void ExpectServed(http::TileCache* cache, const std::string& name, const std::string& bytes) {
  INFO("tile " << name);
  std::shared_ptr<const http::CachedTile> t;
  REQUIRE_OK(Get(cache, name, &t));
  REQUIRE(t != nullptr);
  CHECK(t->bytes.size() == bytes.size());
  CHECK(t->bytes == bytes);
  CHECK(t->etag == QuotedSha256(bytes));
}

void ExpectNotFound(http::TileCache* cache, const std::string& name) {
  INFO("tile " << name);
  std::shared_ptr<const http::CachedTile> t;
  CHECK(Get(cache, name, &t).code() == Status::Code::kNotFound);
}

constexpr size_t kHashTileBytes = 256 * 32;

}  // namespace

TEST_CASE("TileCache serves published tiles and bundles byte for byte with a SHA-256 ETag",
          "[http]") {
  TileStore s;
  s.AppendUpTo(261);  // one full tile of leaves and a partial of 5
  s.Publish();

  // What the publisher wrote is what the tree says (checked without ledger code) ...
  REQUIRE(s.File("tile/0/000") == ExpectedHashTile(s.entries, 0, 256));
  REQUIRE(s.File("tile/0/000").size() == kHashTileBytes);
  REQUIRE(s.File("tile/0/001.p/5") == ExpectedHashTile(s.entries, 256, 5));
  REQUIRE(s.File("tile/entries/000") == ExpectedBundle(s.entries, 0, 256));
  REQUIRE(s.File("tile/entries/001.p/5") == ExpectedBundle(s.entries, 256, 5));
  REQUIRE(s.FileExists("tile/1/000.p/1"));

  // ... and the cache serves each file as stored, twice (the second from memory).
  http::TileCache cache(s.storage.get(), 1 << 20);
  for (int round = 0; round < 2; ++round) {
    INFO("round " << round);
    for (const char* name : {"tile/0/000", "tile/0/001.p/5", "tile/1/000.p/1", "tile/entries/000",
                             "tile/entries/001.p/5"}) {
      ExpectServed(&cache, name, s.File(name));
    }
  }
  // An ETag is a quoted, lowercase 64-hex strong tag.
  std::shared_ptr<const http::CachedTile> t;
  REQUIRE_OK(Get(&cache, "tile/0/000", &t));
  REQUIRE(t->etag.size() == 66);
  CHECK(t->etag.front() == '"');
  CHECK(t->etag.back() == '"');
  CHECK(t->etag.find_first_not_of("0123456789abcdef", 1) == 65);
}

TEST_CASE("TileCache rebuilds a pruned partial as the prefix of its full tile", "[http]") {
  TileStore s;
  // Publish at sizes 5 and 77 and keep the partials' bytes before they go.
  s.AppendUpTo(5);
  s.Publish();
  const std::string hash5 = s.File("tile/0/000.p/5");
  const std::string bundle5 = s.File("tile/entries/000.p/5");
  s.AppendUpTo(77);
  s.Publish();
  const std::string hash77 = s.File("tile/0/000.p/77");
  const std::string bundle77 = s.File("tile/entries/000.p/77");
  CHECK(hash5.size() == 5 * 32);
  CHECK(hash77.size() == 77 * 32);
  CHECK(hash77 == ExpectedHashTile(s.entries, 0, 77));
  CHECK(bundle77 == ExpectedBundle(s.entries, 0, 77));

  // The cache has served the partial before the prune (and kept it).
  http::TileCache warm(s.storage.get(), 1 << 20);
  ExpectServed(&warm, "tile/0/000.p/77", hash77);

  s.AppendUpTo(300);
  s.Publish();
  REQUIRE(s.FileExists("tile/0/000"));
  REQUIRE(s.FileExists("tile/entries/000"));
  // The publisher prunes partials of full tiles; if it ever stops, prune them here.
  for (const char* name :
       {"tile/0/000.p/5", "tile/0/000.p/77", "tile/entries/000.p/5", "tile/entries/000.p/77"}) {
    if (s.FileExists(name)) REQUIRE_OK(s.storage->Remove(name));
    REQUIRE_FALSE(s.FileExists(name));
  }

  for (size_t max_bytes : {size_t{1} << 20, size_t{0}}) {
    INFO("max_bytes " << max_bytes);
    http::TileCache cache(s.storage.get(), max_bytes);
    for (int round = 0; round < 2; ++round) {
      INFO("round " << round);
      ExpectServed(&cache, "tile/0/000.p/5", hash5);
      ExpectServed(&cache, "tile/0/000.p/77", hash77);
      ExpectServed(&cache, "tile/entries/000.p/5", bundle5);
      ExpectServed(&cache, "tile/entries/000.p/77", bundle77);
      // The contract: the first W hashes, or the first W entries, of the full tile.
      ExpectServed(&cache, "tile/0/000.p/1", ExpectedHashTile(s.entries, 0, 1));
      ExpectServed(&cache, "tile/0/000.p/255", ExpectedHashTile(s.entries, 0, 255));
      ExpectServed(&cache, "tile/entries/000.p/1", ExpectedBundle(s.entries, 0, 1));
      ExpectServed(&cache, "tile/entries/000.p/255", ExpectedBundle(s.entries, 0, 255));
      // The full tiles themselves, and the current partials (300 = 256 + 44).
      ExpectServed(&cache, "tile/0/000", ExpectedHashTile(s.entries, 0, 256));
      ExpectServed(&cache, "tile/entries/000", ExpectedBundle(s.entries, 0, 256));
      ExpectServed(&cache, "tile/0/001.p/44", ExpectedHashTile(s.entries, 256, 44));
      ExpectServed(&cache, "tile/entries/001.p/44", ExpectedBundle(s.entries, 256, 44));
      // Beyond the tree's right edge there is nothing to take a prefix of.
      ExpectNotFound(&cache, "tile/0/001.p/45");
      ExpectNotFound(&cache, "tile/entries/001.p/45");
    }
  }
  // The cache warmed before the prune still answers with the same bytes.
  ExpectServed(&warm, "tile/0/000.p/77", hash77);
}

TEST_CASE("TileCache: tiles that are not published are NotFound", "[http]") {
  TileStore s;
  http::TileCache cache(s.storage.get(), 1 << 20);
  // An empty log has no tiles at all.
  for (const char* name : {"tile/0/000", "tile/0/000.p/1", "tile/entries/000",
                           "tile/entries/000.p/1", "tile/1/000.p/1"}) {
    ExpectNotFound(&cache, name);
  }

  s.AppendUpTo(5);
  s.Publish();
  ExpectServed(&cache, "tile/0/000.p/5", ExpectedHashTile(s.entries, 0, 5));
  ExpectServed(&cache, "tile/entries/000.p/5", ExpectedBundle(s.entries, 0, 5));
  for (const char* name : {"tile/0/000", "tile/entries/000", "tile/0/000.p/6",
                           "tile/entries/000.p/6", "tile/0/000.p/4", "tile/entries/000.p/4",
                           "tile/0/001.p/1", "tile/1/000.p/1", "tile/0/x001/000"}) {
    ExpectNotFound(&cache, name);
  }

  // Committed but not yet published: still NotFound ...
  s.AppendUpTo(8);
  ExpectNotFound(&cache, "tile/0/000.p/8");
  ExpectNotFound(&cache, "tile/entries/000.p/8");
  // ... and served once published: a NotFound is not remembered.
  s.Publish();
  ExpectServed(&cache, "tile/0/000.p/8", ExpectedHashTile(s.entries, 0, 8));
  ExpectServed(&cache, "tile/entries/000.p/8", ExpectedBundle(s.entries, 0, 8));
  s.AppendUpTo(256);
  ExpectNotFound(&cache, "tile/0/000");
  s.Publish();
  ExpectServed(&cache, "tile/0/000", ExpectedHashTile(s.entries, 0, 256));
}

TEST_CASE("TileCache keeps within max_bytes, evicting the least recently used", "[http]") {
  TileStore s;
  s.AppendUpTo(261);
  s.Publish();
  const std::string a_name = "tile/0/000";            // 8192 bytes
  const std::string b_name = "tile/0/001.p/5";        // 160 bytes
  const std::string c_name = "tile/entries/001.p/5";  // 5 short entries
  const std::string a = s.File(a_name);
  const std::string b = s.File(b_name);
  const std::string c = s.File(c_name);
  REQUIRE(a.size() == kHashTileBytes);
  REQUIRE(b.size() == 160);
  REQUIRE(c.size() == 5 * (2 + 4));  // "e256".."e260"
  // Room for a and b together, not for all three.
  http::TileCache cache(s.storage.get(), a.size() + b.size());
  // What is still in memory answers after its file is gone; what was evicted does not (there is
  // no full tile to rebuild these from once the files are removed).
  auto remove_files = [&] {
    for (const std::string& n : {a_name, b_name, c_name}) REQUIRE_OK(s.storage->Remove(n));
  };

  SECTION("a cache without pressure keeps every tile") {
    ExpectServed(&cache, a_name, a);
    ExpectServed(&cache, b_name, b);
    remove_files();
    ExpectServed(&cache, a_name, a);
    ExpectServed(&cache, b_name, b);
    ExpectNotFound(&cache, c_name);
  }

  SECTION("the oldest tile goes first") {
    ExpectServed(&cache, a_name, a);
    ExpectServed(&cache, b_name, b);
    ExpectServed(&cache, c_name, c);  // over the bound: a (least recently used) goes
    remove_files();
    ExpectNotFound(&cache, a_name);
    ExpectServed(&cache, b_name, b);
    ExpectServed(&cache, c_name, c);
  }

  SECTION("a hit makes a tile the most recently used") {
    ExpectServed(&cache, a_name, a);
    ExpectServed(&cache, b_name, b);
    ExpectServed(&cache, a_name, a);  // a is now newer than b
    ExpectServed(&cache, c_name, c);  // b goes
    remove_files();
    ExpectServed(&cache, a_name, a);
    ExpectServed(&cache, c_name, c);
    ExpectNotFound(&cache, b_name);
  }

  SECTION("a tile larger than the whole cache is served but not kept") {
    http::TileCache tiny(s.storage.get(), 100);
    ExpectServed(&tiny, a_name, a);
    ExpectServed(&tiny, c_name, c);  // 30 bytes: fits
    ExpectServed(&tiny, a_name, a);
    remove_files();
    ExpectNotFound(&tiny, a_name);
    ExpectServed(&tiny, c_name, c);
  }

  SECTION("a zero-byte cache keeps nothing and still answers") {
    http::TileCache none(s.storage.get(), 0);
    for (int i = 0; i < 3; ++i) {
      ExpectServed(&none, a_name, a);
      ExpectServed(&none, b_name, b);
      ExpectServed(&none, c_name, c);
    }
    remove_files();
    ExpectNotFound(&none, a_name);
    ExpectNotFound(&none, b_name);
    ExpectNotFound(&none, c_name);
  }
}

TEST_CASE("TileCache answers concurrent readers correctly under eviction", "[http]") {
  TileStore s;
  s.AppendUpTo(300);
  s.Publish();
  struct Want {
    std::string name;
    std::string bytes;
  };
  std::vector<Want> wants = {
      {"tile/0/000", ExpectedHashTile(s.entries, 0, 256)},
      {"tile/entries/000", ExpectedBundle(s.entries, 0, 256)},
      {"tile/0/001.p/44", ExpectedHashTile(s.entries, 256, 44)},
      {"tile/entries/001.p/44", ExpectedBundle(s.entries, 256, 44)},
  };
  for (int w : {1, 7, 100, 200}) {  // pruned partials, rebuilt from the full tiles
    wants.push_back({"tile/0/000.p/" + std::to_string(w),
                     ExpectedHashTile(s.entries, 0, static_cast<size_t>(w))});
    wants.push_back({"tile/entries/000.p/" + std::to_string(w),
                     ExpectedBundle(s.entries, 0, static_cast<size_t>(w))});
  }
  std::vector<std::optional<ledger::ParsedTilePath>> parsed;
  for (const Want& w : wants) {
    parsed.push_back(ledger::ParseTilePath(w.name));
    REQUIRE(parsed.back().has_value());
  }
  http::TileCache cache(s.storage.get(), 10000);  // about one hash tile
  std::atomic<int> wrong{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < 8; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const size_t k = static_cast<size_t>(t * 7 + i * 3) % wants.size();
        std::shared_ptr<const http::CachedTile> tile;
        if (!cache.Get(wants[k].name, *parsed[k], &tile).ok() || tile == nullptr) {
          failed.fetch_add(1);
        } else if (tile->bytes != wants[k].bytes || tile->etag != QuotedSha256(wants[k].bytes)) {
          wrong.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  CHECK(failed.load() == 0);
  CHECK(wrong.load() == 0);
}
