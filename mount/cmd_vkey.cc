// `ledgerfs vkey STORE`: prints the store's verifier key (from its identity file; no secret read).
#include <iostream>
#include <memory>

#include "ledger/log.h"
#include "ledger/posix_storage.h"
#include "mount/cli_util.h"
#include "mount/commands.h"

namespace ledgerfs {

namespace {

int RunVkey(const std::string& store) {
  SetLogStore(store);
  std::unique_ptr<ledger::Storage> storage;
  ledger::Status st = ledger::OpenPosixStorage(store, /*create=*/false, &storage);
  std::string origin, vkey;
  if (st.ok()) st = ledger::Log::ReadIdentity(storage.get(), &origin, &vkey);
  if (!st.ok()) return ReportError("vkey", store, st);
  std::cout << vkey << std::endl;
  return kExitOk;
}

}  // namespace

Command AddVkeyCommand(CLI::App& parent) {
  auto store = std::make_shared<std::string>();
  CLI::App* app = parent.add_subcommand("vkey", "Print the store's verifier key");
  app->add_option("STORE", *store, "The store folder")->required();
  return {app, [store] { return RunVkey(*store); }};
}

}  // namespace ledgerfs
