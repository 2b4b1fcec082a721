// Read-only access to a published tree (a store, a mount or a copied tile tree) for the commands
// that need no signing key and take no lock (log, prove, verify): which verifier keys to trust, the
// signed checkpoint. Entries come from ledger::ReadPublishedEntries (tile_reader.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ledger/checkpoint.h"
#include "ledger/status.h"
#include "ledger/storage.h"

namespace ledgerfs {

// The keys to trust: `given` (--vkey) if not empty, else the store's own identity key
// (*from_identity = true). InvalidArgument if there is neither.
ledger::Status TrustedKeys(ledger::Storage* tree, const std::vector<std::string>& given,
                           std::vector<std::string>* keys, bool* from_identity);

// Reads `checkpoint` and opens it with the first of `vkeys` whose name is its origin.
ledger::Status ReadVerifiedCheckpoint(ledger::Storage* tree, const std::vector<std::string>& vkeys,
                                      std::string* note, ledger::Checkpoint* cp);

// Parses `checkpoint` without checking its signature (for listing a tree with no known key).
ledger::Status ReadUnverifiedCheckpoint(ledger::Storage* tree, ledger::Checkpoint* cp);

}  // namespace ledgerfs
