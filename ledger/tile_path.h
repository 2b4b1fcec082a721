// C2SP tlog-tiles resource paths: "tile/<L>/<N>[.p/<W>]" and "tile/entries/<N>[.p/<W>]", with N
// written in x-prefixed 3-digit groups (1234067 -> x001/x234/067). Parsing is strict (no leading
// zeros in L or W, exactly 3 digits per group, no uint64 overflow, W in 1..255).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/tlog_math.h"

namespace ledger {

std::string TileIndexPath(uint64_t index);          // "x001/x234/067"
std::string HashTilePath(const TileId& tile);       // "tile/0/x001/000.p/7"
std::string EntryBundlePath(uint64_t index, int width);  // "tile/entries/000" or ".../000.p/5"

struct ParsedTilePath {
  bool entries = false;  // true for tile/entries/...
  TileId tile;           // level is 0 for entries
};
// Parses a path relative to the log prefix (no leading '/'); nullopt if not a valid tile path.
std::optional<ParsedTilePath> ParseTilePath(std::string_view path);

}  // namespace ledger
