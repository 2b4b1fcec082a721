// `ledgerfs prove PATH --index N [--since SIZE] [--vkey KEY]...`: an inclusion proof for entry N
// (and a consistency proof from SIZE) against the current signed checkpoint, in the C2SP
// tlog-proof text format. Read-only; every proof is checked against the checkpoint's root before
// it is printed, so a damaged tile tree yields an error, never a wrong proof.
#include <iostream>
#include <memory>
#include <optional>

#include "ledger/posix_storage.h"
#include "ledger/proof_builder.h"
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
  if (st.ok()) st = ledger::BuildInclusionProof(tree.get(), cp, note, o.index, &inclusion);
  if (st.ok() && o.since)
    st = ledger::BuildConsistencyProof(tree.get(), cp, note, *o.since, &consistency);
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
