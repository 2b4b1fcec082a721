#include "ledger/proof_builder.h"

#include <vector>

#include "ledger/hash.h"
#include "ledger/proof_text.h"
#include "ledger/tile_reader.h"
#include "ledger/tlog_math.h"

namespace ledger {

namespace {
constexpr char kRunVerify[] =
    " does not verify against the checkpoint; run `ledgerfs verify` to "
    "find the damaged file";
}  // namespace

Status BuildInclusionProof(Storage* tree, const Checkpoint& cp, const std::string& checkpoint,
                           uint64_t index, std::string* text) {
  if (index >= cp.size) {
    return Status::InvalidArgument("entry " + std::to_string(index) +
                                   " is not below the log size " + std::to_string(cp.size));
  }
  std::vector<std::string> entry;
  LEDGER_RETURN_IF_ERROR(ReadPublishedEntries(tree, cp.size, index, index + 1, &entry));
  StorageHashReader reader(tree);
  InclusionProofText proof;
  proof.index = index;
  proof.checkpoint = checkpoint;
  LEDGER_RETURN_IF_ERROR(InclusionProof(reader, index, cp.size, &proof.proof));
  if (!VerifyInclusion(LeafHash(entry[0]), index, cp.size, proof.proof, cp.root)) {
    return Status::Corruption("the inclusion proof of entry " + std::to_string(index) + kRunVerify);
  }
  *text = FormatInclusionProof(proof);
  return Status::Ok();
}

Status BuildConsistencyProof(Storage* tree, const Checkpoint& cp, const std::string& checkpoint,
                             uint64_t old_size, std::string* text) {
  if (old_size == 0 || old_size > cp.size) {
    return Status::InvalidArgument("size " + std::to_string(old_size) +
                                   " is not between 1 and the log size " + std::to_string(cp.size));
  }
  StorageHashReader reader(tree);
  ConsistencyProofText proof;
  proof.old_size = old_size;
  proof.checkpoint = checkpoint;
  Hash old_root;
  LEDGER_RETURN_IF_ERROR(TreeHash(reader, old_size, &old_root));
  LEDGER_RETURN_IF_ERROR(ConsistencyProof(reader, old_size, cp.size, &proof.proof));
  if (!VerifyConsistency(old_size, cp.size, old_root, cp.root, proof.proof)) {
    return Status::Corruption("the consistency proof from size " + std::to_string(old_size) +
                              kRunVerify);
  }
  *text = FormatConsistencyProof(proof);
  return Status::Ok();
}

}  // namespace ledger
