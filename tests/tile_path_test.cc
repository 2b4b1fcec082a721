// tlog-tiles path spelling: the spec's and Tessera's examples, round trips, and every way a path
// can be malformed.
#include <catch2/catch.hpp>

#include <string>

#include "ledger/tile_path.h"

namespace {

using ledger::TileId;

}  // namespace

TEST_CASE("tile indexes use x-prefixed 3-digit groups", "[tile_path]") {
  CHECK(ledger::TileIndexPath(1234067) == "x001/x234/067");
  CHECK(ledger::TileIndexPath(0) == "000");
  CHECK(ledger::TileIndexPath(999) == "999");
  CHECK(ledger::TileIndexPath(1000) == "x001/000");
  CHECK(ledger::TileIndexPath(123456789) == "x123/x456/789");
  CHECK(ledger::TileIndexPath(455667) == "x455/667");
  CHECK(ledger::TileIndexPath(5) == "005");
  CHECK(ledger::TileIndexPath(UINT64_MAX) == "x018/x446/x744/x073/x709/x551/615");
}

TEST_CASE("hash tile and bundle paths match the spec and Tessera", "[tile_path]") {
  CHECK(ledger::HashTilePath(TileId{15, 123456789, 41}) == "tile/15/x123/x456/789.p/41");
  CHECK(ledger::HashTilePath(TileId{0, 1000, 7}) == "tile/0/x001/000.p/7");
  CHECK(ledger::HashTilePath(TileId{0, 0, 256}) == "tile/0/000");
  CHECK(ledger::HashTilePath(TileId{1, 0, 1}) == "tile/1/000.p/1");
  CHECK(ledger::HashTilePath(TileId{0, 273, 112}) == "tile/0/273.p/112");
  // Tessera: index 256 at size 257 is bundle 1, width 1; index 251 at size 255 is bundle 0.
  CHECK(ledger::EntryBundlePath(256 / 256, 257 % 256) == "tile/entries/001.p/1");
  CHECK(ledger::EntryBundlePath(251 / 256, 255 % 256) == "tile/entries/000.p/255");
  CHECK(ledger::EntryBundlePath(0, 256) == "tile/entries/000");
  CHECK(ledger::EntryBundlePath(1234067, 256) == "tile/entries/x001/x234/067");
}

TEST_CASE("valid tile paths parse to their tile", "[tile_path]") {
  struct Case {
    const char* path;
    bool entries;
    TileId tile;
  };
  const Case cases[] = {
      {"tile/0/000", false, {0, 0, 256}},
      {"tile/0/000.p/1", false, {0, 0, 1}},
      {"tile/0/000.p/255", false, {0, 0, 255}},
      {"tile/15/x123/x456/789.p/41", false, {15, 123456789, 41}},
      {"tile/63/999", false, {63, 999, 256}},
      {"tile/2/x001/000", false, {2, 1000, 256}},
      {"tile/entries/000", true, {0, 0, 256}},
      {"tile/entries/001.p/1", true, {0, 1, 1}},
      {"tile/entries/000.p/255", true, {0, 0, 255}},
      {"tile/entries/x455/667", true, {0, 455667, 256}},
      {"tile/0/x018/x446/x744/x073/x709/x551/615", false, {0, UINT64_MAX, 256}},
  };
  for (const Case& c : cases) {
    INFO(c.path);
    auto parsed = ledger::ParseTilePath(c.path);
    REQUIRE(parsed.has_value());
    CHECK(parsed->entries == c.entries);
    CHECK(parsed->tile == c.tile);
  }
}

TEST_CASE("formatting and parsing are inverse", "[tile_path]") {
  uint64_t index = 0;
  for (int i = 0; i < 2000; ++i) {
    // Indexes of every digit count, including group boundaries like 999/1000.
    index = i < 1100 ? static_cast<uint64_t>(i) : index * 7 + 999;
    int width = 1 + i % 256;  // 1..256
    TileId tile{i % 64, index, width};
    auto parsed = ledger::ParseTilePath(ledger::HashTilePath(tile));
    REQUIRE(parsed.has_value());
    CHECK_FALSE(parsed->entries);
    CHECK(parsed->tile == tile);
    auto bundle = ledger::ParseTilePath(ledger::EntryBundlePath(index, width));
    REQUIRE(bundle.has_value());
    CHECK(bundle->entries);
    CHECK(bundle->tile == TileId{0, index, width});
  }
}

TEST_CASE("malformed tile paths are refused", "[tile_path]") {
  const char* bad[] = {
      "",
      "tile",
      "tile/",
      "tile/0",
      "tile/0/",
      "/tile/0/000",  // leading slash
      "tile/0/000/",  // trailing slash
      "tiles/0/000",
      "tile/00/000",  // leading zero in L
      "tile/01/000",
      "tile/64/000",  // L out of range
      "tile/-1/000",
      "tile/+1/000",
      "tile/a/000",
      "tile/0/00",    // 2-digit group
      "tile/0/0000",  // 4-digit group
      "tile/0/x01/000",
      "tile/0/x0001/000",
      "tile/0/1",
      "tile/0/abc",
      "tile/0/x001",  // 'x' on the last segment
      "tile/0/x001.p/5",
      "tile/entries/x000",
      "tile/0/001/002",                            // only the last group may lack 'x'
      "tile/0/x000/001",                           // non-canonical: redundant leading group
      "tile/0/x018/x446/x744/x073/x709/x551/616",  // uint64 overflow
      "tile/0/x999/x999/x999/x999/x999/x999/x999/999",
      "tile/0/000.p/256",  // full tiles have no suffix
      "tile/0/000.p/0",
      "tile/0/000.p/01",  // leading zero in W
      "tile/0/000.p/",
      "tile/0/000.p",
      "tile/0/000.p/5/6",
      "tile/0/000.q/5",
      "tile/0/000p/5",
      "tile/0/000.p/-1",
      "tile/0/000.p/1000",
      "tile/entries/000.p/256",
      "tile/entries/000.p/0",
      "tile/entries",
      "tile/entries/",
      "tile/3/5/x123/x456/078.p/2",  // Go sumdb form (height in the path)
      "tile/1/data/x003/x057/500",   // Go sumdb data tile
      "tile/8/0/000",
      "tile/0/X001/000",
      "tile/0/000\n",
      "tile//000",
  };
  for (const char* p : bad) {
    INFO("path: \"" << p << "\"");
    CHECK_FALSE(ledger::ParseTilePath(p).has_value());
  }
}
