// Fuzzes the parsers of tile file contents: entry bundles (ledger/bundle.h: ParseBundle,
// SplitBundle) and hash tiles (ledger/tlog_math.h: ParseTileBytes), as read back from a store, a
// mount or a copied tree. Properties: an accepted bundle re-framed entry by entry is the input,
// the two bundle parsers agree and a refusal leaves nothing behind; a hash tile is accepted
// exactly at 32·width bytes and serialises back to the input.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/bundle.h"
#include "ledger/tlog_math.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

void CheckBundle(std::string_view in) {
  // Stale views in the vector must not survive: SplitBundle promises to clear it first.
  std::vector<std::string_view> views{"stale"};
  const bool ok = ledger::SplitBundle(in, &views).ok();
  std::vector<std::string> copies{"stale"};
  const bool copy_ok = ledger::ParseBundle(in, &copies).ok();
  FUZZ_CHECK(ok == copy_ok);
  if (!ok) {
    FUZZ_CHECK(views.empty());
    return;
  }
  FUZZ_CHECK(views.size() == copies.size());
  std::string reframed;
  for (size_t i = 0; i < views.size(); ++i) {
    FUZZ_CHECK(views[i] == copies[i]);
    FUZZ_CHECK(views[i].size() <= ledger::kMaxEntrySize);
    // A view, not a copy: it must lie inside the input.
    FUZZ_CHECK(views[i].data() >= in.data() &&
               views[i].data() + views[i].size() <= in.data() + in.size());
    FUZZ_CHECK(ledger::AppendToBundle(views[i], &reframed).ok());
  }
  FUZZ_CHECK(reframed == in);
}

void CheckTile(std::string_view in, int width) {
  std::vector<ledger::Hash> hashes;
  const bool ok = ledger::ParseTileBytes(in, width, &hashes).ok();
  const bool fits = width >= 1 && width <= static_cast<int>(ledger::kTileWidth) &&
                    in.size() == static_cast<size_t>(width) * sizeof(ledger::Hash);
  FUZZ_CHECK(ok == fits);
  if (ok) {
    FUZZ_CHECK(hashes.size() == static_cast<size_t>(width));
    FUZZ_CHECK(ledger::TileBytes(hashes) == in);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in = fuzz::AsView(data, size);
  CheckBundle(in);
  // The width a reader would expect for this size, and one taken from the data (usually wrong).
  CheckTile(in, static_cast<int>(size / sizeof(ledger::Hash)));
  if (size > 0) CheckTile(in, static_cast<int>(data[0]) - 8);
  return 0;
}
