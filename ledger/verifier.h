// The full verifier behind `ledgerfs verify`: given any copy of a published tree (a store, a mount,
// a mirrored tile tree), it recomputes every leaf hash, every hash tile and the root from the entry
// bundles, checks the checkpoint signature, and accounts for every file under tile/. It promises:
// Ok only if all holds; otherwise Corruption/NotFound whose message starts with the relative path
// of the damaged file and says why (a --since failure says "checkpoint is not an extension of the
// --since checkpoint"). Memory stays bounded (one tile per level) at any log size.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/checkpoint.h"
#include "ledger/status.h"
#include "ledger/storage.h"

namespace ledger {

struct VerifyOptions {
  // Verifier keys (vkey text); at least one is required. The checkpoint must open with one of them
  // and its origin must be that key's name.
  std::vector<std::string> vkeys;
  // An older signed checkpoint note (text) this tree must extend: same origin, size <= N and a root
  // equal to the recomputed root of the first `size` entries.
  std::optional<std::string> since_checkpoint;
  // Called once per entry, in index order, with the raw entry bytes (e.g. to check that a record's
  // content exists and matches its digest). A failure stops the verification.
  std::function<Status(uint64_t index, std::string_view entry)> entry_check;
  // Called as entries are verified (about every 1 %, and at the end).
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct VerifyReport {
  Checkpoint checkpoint;           // the verified checkpoint
  uint64_t entries = 0;            // entries recomputed (= checkpoint.size on success)
  uint64_t tiles_checked = 0;      // hash tile files compared (full, right-edge and older partials)
  uint64_t bundles_checked = 0;    // entry bundle files parsed/compared (including older partials)
  uint64_t files_checked = 0;      // every file read and verified, checkpoints included
  std::vector<std::string> notes;  // things worth saying that are not errors
};

// Verifies the tree rooted at `tree`, using only Read/ReadAt/Size/Exists/List. At the root,
// `checkpoint`, archived `checkpoint.*` notes and `tile/` are checked; `.ledger/` and `content/`
// are ignored (content is the entry_check's business); anything else is only noted.
// `report` may be null; on failure it holds what was learned so far.
Status VerifyTree(Storage& tree, const VerifyOptions& options, VerifyReport* report);

}  // namespace ledger
