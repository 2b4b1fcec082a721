// Builds the proofs `ledgerfs prove` prints and the HTTP API serves, from a published tile tree
// and its signed checkpoint. Every proof is checked against the checkpoint's root before it is
// returned, so a damaged tile tree yields Corruption, never a wrong proof.
#pragma once

#include <cstdint>
#include <string>

#include "ledger/checkpoint.h"
#include "ledger/status.h"
#include "ledger/storage.h"

namespace ledger {

// C2SP tlog-proof text for entry `index` of the tree `checkpoint` (parsed as `cp`) commits to.
// InvalidArgument if index >= cp.size.
Status BuildInclusionProof(Storage* tree, const Checkpoint& cp, const std::string& checkpoint,
                           uint64_t index, std::string* text);

// Consistency proof text (ledger/proof_text.h) that the tree of `old_size` leaves is a prefix of
// the one `checkpoint` commits to. InvalidArgument unless 1 <= old_size <= cp.size.
Status BuildConsistencyProof(Storage* tree, const Checkpoint& cp, const std::string& checkpoint,
                             uint64_t old_size, std::string* text);

}  // namespace ledger
