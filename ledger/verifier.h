// The full verifier behind `ledgerfs verify`: given any copy of a published tree (a store, a mount,
// a mirrored tile tree), it recomputes every leaf hash, every hash tile and the root from the entry
// bundles, checks the checkpoint signature, and accounts for every file under tile/. It promises:
// Ok only if all holds; otherwise Corruption/NotFound whose message starts with the relative path
// of the damaged file and says why (a --since failure says "checkpoint is not an extension of the
// --since checkpoint"). Memory stays bounded (one tile per level) at any log size.
#pragma once

#include <chrono>
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
  // VerifyLiveTree only: verification runs made, and whether the checkpoint changed during the
  // last one (then a failure it reports is not known to hold for any one checkpoint).
  int attempts = 1;
  bool checkpoint_moved = false;
};

// Verifies the tree rooted at `tree`, using only Read/ReadAt/Size/Exists/List. At the root,
// `checkpoint`, archived `checkpoint.*` notes and `tile/` are checked; `.ledger/` and `content/`
// are ignored (content is the entry_check's business); anything else is only noted.
// `report` may be null; on failure it holds what was learned so far.
Status VerifyTree(Storage& tree, const VerifyOptions& options, VerifyReport* report);

// A tree that a log is publishing into while it is read (the store of a running log, a mount)
// is not one snapshot: the publisher writes the tiles and bundles of the next size before it
// replaces `checkpoint`, and prunes partials after. VerifyLiveTree verifies the checkpoint a pass
// reads first (size N), with every check of VerifyTree, except that:
//  - a file under tile/ beyond N is left out of the walk (and counted in a note) if a checkpoint
//    that covers it and opens with the keys replaces `checkpoint` within `settle`; a file no
//    checkpoint comes to cover is still refused;
//  - a partial the pass needs but finds pruned reads as the prefix of its full tile (the bytes are
//    still checked; a tree at rest cannot show this, since its walk refuses that full tile).
// A pass that fails anyway is run again, against the new checkpoint, if `checkpoint` changed
// meanwhile (or within `settle` after the failure). It fails only with a failure seen against a
// checkpoint that stayed the same from before the pass to `settle` after it, or once
// `max_attempts` passes have failed. On a tree at rest it answers exactly as VerifyTree.
struct LiveVerifyOptions {
  int max_attempts = 5;
  // How long to wait for a checkpoint that covers files beyond the pass's, or for a new one after
  // a failed pass: at least the time one publication takes (its files are written before its
  // checkpoint). Zero for a tree nothing publishes into (a failure then is reported at once).
  std::chrono::milliseconds settle{0};
  std::chrono::milliseconds poll_interval{10};
  // Called before each further pass with its number (2, 3, ...) and the failure before it.
  std::function<void(int attempt, const Status& failure)> on_retry;
};

Status VerifyLiveTree(Storage& tree, const VerifyOptions& options, const LiveVerifyOptions& live,
                      VerifyReport* report);

}  // namespace ledger
