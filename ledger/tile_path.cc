// tlog-tiles path spelling. Every path has exactly one spelling, so ParseTilePath checks the
// pieces and then insists that formatting the result gives back the input byte for byte.
#include "ledger/tile_path.h"

#include <limits>
#include <vector>

#include "ledger/encoding.h"

namespace ledger {

namespace {

std::string ThreeDigits(uint64_t group) {
  std::string s(3, '0');
  for (int i = 2; i >= 0; --i, group /= 10)
    s[static_cast<size_t>(i)] = static_cast<char>('0' + group % 10);
  return s;
}

std::string PartialSuffix(int width) {
  // Full tiles (256) have no suffix; 1..255 are partial.
  if (width >= 1 && width < static_cast<int>(kTileWidth)) return ".p/" + std::to_string(width);
  return "";
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

bool IsThreeDigits(std::string_view s) {
  if (s.size() != 3) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// index = index*1000 + group, refusing uint64 overflow.
bool Accumulate(uint64_t* index, std::string_view digits) {
  uint64_t group =
      static_cast<uint64_t>((digits[0] - '0') * 100 + (digits[1] - '0') * 10 + (digits[2] - '0'));
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  if (*index > (kMax - group) / 1000) return false;
  *index = *index * 1000 + group;
  return true;
}

}  // namespace

std::string TileIndexPath(uint64_t index) {
  std::vector<uint64_t> groups;
  do {
    groups.push_back(index % 1000);
    index /= 1000;
  } while (index > 0);
  std::string path;
  for (size_t i = groups.size(); i-- > 0;) {
    if (i > 0) {
      path += 'x';
      path += ThreeDigits(groups[i]);
      path += '/';
    } else {
      path += ThreeDigits(groups[i]);
    }
  }
  return path;
}

std::string HashTilePath(const TileId& tile) {
  return "tile/" + std::to_string(tile.level) + "/" + TileIndexPath(tile.index) +
         PartialSuffix(tile.width);
}

std::string EntryBundlePath(uint64_t index, int width) {
  return "tile/entries/" + TileIndexPath(index) + PartialSuffix(width);
}

std::optional<ParsedTilePath> ParseTilePath(std::string_view path) {
  std::vector<std::string_view> parts = Split(path, '/');
  if (parts.size() < 3 || parts[0] != "tile") return std::nullopt;

  ParsedTilePath parsed;
  if (parts[1] == "entries") {
    parsed.entries = true;
  } else {
    std::optional<uint64_t> level = ParseDecimal(parts[1]);
    if (!level || *level > static_cast<uint64_t>(kMaxTileLevel)) return std::nullopt;
    parsed.tile.level = static_cast<int>(*level);
  }

  // Index: zero or more "xDDD" segments, then "DDD" or "DDD.p" (the last never has an 'x').
  size_t i = 2;
  uint64_t index = 0;
  for (; i < parts.size() && !parts[i].empty() && parts[i][0] == 'x'; ++i) {
    std::string_view digits = parts[i].substr(1);
    if (!IsThreeDigits(digits) || !Accumulate(&index, digits)) return std::nullopt;
  }
  if (i >= parts.size()) return std::nullopt;
  std::string_view last = parts[i];
  bool partial = false;
  if (last.size() == 5 && last.substr(3) == ".p") {
    partial = true;
    last = last.substr(0, 3);
  }
  if (!IsThreeDigits(last) || !Accumulate(&index, last)) return std::nullopt;
  ++i;
  parsed.tile.index = index;
  parsed.tile.width = static_cast<int>(kTileWidth);
  if (partial) {
    if (i + 1 != parts.size()) return std::nullopt;
    std::optional<uint64_t> width = ParseDecimal(parts[i]);
    if (!width || *width < 1 || *width >= kTileWidth) return std::nullopt;
    parsed.tile.width = static_cast<int>(*width);
  } else if (i != parts.size()) {
    return std::nullopt;
  }

  // Refuse other spellings of the same tile, e.g. a redundant leading "x000/".
  std::string canonical =
      parsed.entries ? EntryBundlePath(index, parsed.tile.width) : HashTilePath(parsed.tile);
  if (canonical != path) return std::nullopt;
  return parsed;
}

}  // namespace ledger
