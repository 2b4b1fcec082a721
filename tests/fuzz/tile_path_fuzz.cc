// Fuzzes ParseTilePath (ledger/tile_path.h), which the HTTP read path and the verifier apply to
// names from outside. Properties: a path that parses is the one canonical spelling of its tile
// with fields in range; and the other way, any tile built from the input's bytes formats to a
// path that parses back to that tile.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/tile_path.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

void CheckParse(std::string_view in) {
  std::optional<ledger::ParsedTilePath> p = ledger::ParseTilePath(in);
  if (!p) return;
  FUZZ_CHECK(p->tile.width >= 1 && p->tile.width <= static_cast<int>(ledger::kTileWidth));
  FUZZ_CHECK(p->tile.level >= 0 && p->tile.level <= ledger::kMaxTileLevel);
  if (p->entries) {
    FUZZ_CHECK(p->tile.level == 0);
    FUZZ_CHECK(ledger::EntryBundlePath(p->tile.index, p->tile.width) == in);
  } else {
    FUZZ_CHECK(ledger::HashTilePath(p->tile) == in);
  }
}

void CheckFormat(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  ledger::ParsedTilePath want;
  want.entries = fdp.ConsumeBool();
  want.tile.level = want.entries ? 0 : fdp.ConsumeIntegralInRange<int>(0, ledger::kMaxTileLevel);
  want.tile.width = fdp.ConsumeIntegralInRange<int>(1, static_cast<int>(ledger::kTileWidth));
  want.tile.index = fdp.ConsumeIntegral<uint64_t>();
  const std::string path = want.entries ? ledger::EntryBundlePath(want.tile.index, want.tile.width)
                                        : ledger::HashTilePath(want.tile);
  std::optional<ledger::ParsedTilePath> got = ledger::ParseTilePath(path);
  FUZZ_CHECK(got.has_value());
  FUZZ_CHECK(got->entries == want.entries && got->tile == want.tile);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  CheckParse(fuzz::AsView(data, size));
  CheckFormat(data, size);
  return 0;
}
