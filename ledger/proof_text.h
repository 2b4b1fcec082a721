// C2SP tlog-proof ("spicy signature") text: an offline, self-contained inclusion proof.
//   c2sp.org/tlog-proof@v1\n[extra <base64>\n]index <N>\n<base64 hash>\n...\n\n<checkpoint note>
// Consistency proofs are printed by `ledgerfs prove --since` in the same spirit (see docs/cli.md):
//   c2sp.org/tlog-consistency@v1 (service-fs) lines "old <M>", hashes, blank line, checkpoint.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/hash.h"
#include "ledger/status.h"

namespace ledger {

struct InclusionProofText {
  std::optional<std::string> extra;  // raw bytes of the optional "extra" line
  uint64_t index = 0;
  std::vector<Hash> proof;
  std::string checkpoint;  // the signed checkpoint note, verbatim
};

std::string FormatInclusionProof(const InclusionProofText& p);
Status ParseInclusionProof(std::string_view text, InclusionProofText* out);

struct ConsistencyProofText {
  uint64_t old_size = 0;
  std::vector<Hash> proof;
  std::string checkpoint;  // the newer signed checkpoint, verbatim
};
std::string FormatConsistencyProof(const ConsistencyProofText& p);
Status ParseConsistencyProof(std::string_view text, ConsistencyProofText* out);

}  // namespace ledger
