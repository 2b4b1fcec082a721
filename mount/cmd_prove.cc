// `ledgerfs prove PATH --index N [--since SIZE] [--vkey KEY]...`: an inclusion proof for entry N
// (and a consistency proof from SIZE) against the current signed checkpoint, in the C2SP
// tlog-proof text format. Read-only; every proof is checked against the checkpoint's root before
// it is printed, so a damaged tile tree yields an error, never a wrong proof.
#include <iostream>
#include <memory>
#include <optional>

#include "ledger/hash.h"
#include "ledger/posix_storage.h"
#include "ledger/proof_text.h"
#include "ledger/tile_reader.h"
#include "ledger/tlog_math.h"
#include "mount/cli_util.h"
#include "mount/commands.h"
#include "mount/published_tree.h"

namespace ledgerfs {

namespace {

struct ProveOptions {
  std::string path;
  uint64_t index = 0;
  std::optional<uint64_t> since;
  std::vector<std::string> vkeys;
};

ledger::Status MakeInclusion(ledger::Storage* tree, const ledger::Checkpoint& cp,
                             const std::string& note, uint64_t index, std::string* text) {
  if (index >= cp.size) {
    return ledger::Status::InvalidArgument("--index " + std::to_string(index) +
                                           " is not below the log size " + std::to_string(cp.size));
  }
  std::vector<std::string> entry;
  LEDGER_RETURN_IF_ERROR(ledger::ReadPublishedEntries(tree, cp.size, index, index + 1, &entry));
  ledger::StorageHashReader reader(tree);
  ledger::InclusionProofText proof;
  proof.index = index;
  proof.checkpoint = note;
  LEDGER_RETURN_IF_ERROR(ledger::InclusionProof(reader, index, cp.size, &proof.proof));
  if (!ledger::VerifyInclusion(ledger::LeafHash(entry[0]), index, cp.size, proof.proof, cp.root)) {
    return ledger::Status::Corruption("the inclusion proof of entry " + std::to_string(index) +
                                      " does not verify against the checkpoint; run "
                                      "`ledgerfs verify` to find the damaged file");
  }
  *text = ledger::FormatInclusionProof(proof);
  return ledger::Status::Ok();
}

ledger::Status MakeConsistency(ledger::Storage* tree, const ledger::Checkpoint& cp,
                               const std::string& note, uint64_t old_size, std::string* text) {
  if (old_size == 0 || old_size > cp.size) {
    return ledger::Status::InvalidArgument("--since " + std::to_string(old_size) +
                                           " must be between 1 and the log size " +
                                           std::to_string(cp.size));
  }
  ledger::StorageHashReader reader(tree);
  ledger::ConsistencyProofText proof;
  proof.old_size = old_size;
  proof.checkpoint = note;
  ledger::Hash old_root;
  LEDGER_RETURN_IF_ERROR(ledger::TreeHash(reader, old_size, &old_root));
  LEDGER_RETURN_IF_ERROR(ledger::ConsistencyProof(reader, old_size, cp.size, &proof.proof));
  if (!ledger::VerifyConsistency(old_size, cp.size, old_root, cp.root, proof.proof)) {
    return ledger::Status::Corruption("the consistency proof from size " +
                                      std::to_string(old_size) +
                                      " does not verify against the checkpoint; run "
                                      "`ledgerfs verify` to find the damaged file");
  }
  *text = ledger::FormatConsistencyProof(proof);
  return ledger::Status::Ok();
}

int RunProve(const ProveOptions& o) {
  SetLogStore(o.path);
  std::unique_ptr<ledger::Storage> tree;
  ledger::Status st = ledger::OpenPosixStorage(o.path, /*create=*/false, &tree);
  if (!st.ok()) return ReportError("prove", o.path, st);
  std::vector<std::string> keys;
  bool from_identity = false;
  st = TrustedKeys(tree.get(), o.vkeys, &keys, &from_identity);
  if (!st.ok()) return ReportUsage("prove", o.path, st.message());

  std::string note;
  ledger::Checkpoint cp;
  st = ReadVerifiedCheckpoint(tree.get(), keys, &note, &cp);
  std::string inclusion, consistency;
  if (st.ok()) st = MakeInclusion(tree.get(), cp, note, o.index, &inclusion);
  if (st.ok() && o.since) st = MakeConsistency(tree.get(), cp, note, *o.since, &consistency);
  if (!st.ok()) return ReportError("prove", o.path, st);
  std::cout << inclusion;
  if (o.since) std::cout << "\n" << consistency;
  std::cout.flush();
  return kExitOk;
}

}  // namespace

Command AddProveCommand(CLI::App& parent) {
  auto o = std::make_shared<ProveOptions>();
  CLI::App* app = parent.add_subcommand(
      "prove", "Print an inclusion proof (and a consistency proof) in C2SP tlog-proof text");
  app->add_option("PATH", o->path, "A store, a mount or a copied tile tree")->required();
  app->add_option("--index", o->index, "The entry to prove")->required();
  app->add_option("--since", o->since,
                  "Also prove that the tree of this size is a prefix of the current one");
  app->add_option("--vkey", o->vkeys,
                  "A verifier key for the checkpoint (repeatable; default for a store: its own)")
      ->allow_extra_args(false);
  return {app, [o] { return RunProve(*o); }};
}

}  // namespace ledgerfs
