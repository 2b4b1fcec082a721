// `ledgerfs init STORE --origin ORIGIN [--key FILE]`: creates a tenant store and its Ed25519 key,
// and prints the verifier key. The key file is written first (exclusively) and removed again if
// the store cannot be created, so a failed init leaves neither a keyless store nor a stray key.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "ledger/log.h"
#include "ledger/note.h"
#include "ledger/posix_storage.h"
#include "mount/cli_util.h"
#include "mount/commands.h"
#include "mount/key_file.h"

namespace ledgerfs {

namespace {

struct InitOptions {
  std::string store;
  std::string origin;
  std::string key;
};

int RunInit(const InitOptions& o) {
  SetLogStore(o.store);
  if (!ledger::IsValidKeyName(o.origin)) {
    return ReportUsage(
        "init", o.store,
        "--origin '" + o.origin + "' is not a valid key name (non-empty UTF-8, no spaces, no '+')");
  }
  std::string key_path = o.key;
  ledger::Status st;
  if (key_path.empty()) st = DefaultKeyPath(o.origin, &key_path);
  if (st.ok()) st = CheckKeyOutsideStore(key_path, o.store);
  if (!st.ok()) return ReportError("init", o.store, st);

  std::unique_ptr<ledger::Storage> storage;
  st = ledger::OpenPosixStorage(o.store, /*create=*/true, &storage);
  if (!st.ok()) return ReportError("init", o.store, st);
  std::vector<std::string> existing;
  st = storage->List("", &existing);
  if (!st.ok()) return ReportError("init", o.store, st);
  if (storage->Exists(ledger::store_layout::kIdentity) ||
      storage->Exists(ledger::store_layout::kCheckpoint)) {
    return ReportError("init", o.store,
                       ledger::Status::AlreadyExists("already holds a log; refusing to init it"));
  }
  if (!existing.empty()) {
    return ReportError(
        "init", o.store,
        ledger::Status::AlreadyExists("the folder is not empty; init needs a new or empty folder"));
  }

  ledger::NoteSigner signer;
  st = ledger::NoteSigner::Generate(o.origin, &signer);
  if (st.ok()) st = WriteNewKeyFile(key_path, signer);
  if (!st.ok()) return ReportError("init", o.store, st);
  st = ledger::Log::Create(storage.get(), signer);
  if (!st.ok()) {
    ::unlink(key_path.c_str());
    return ReportError("init", o.store, st);
  }
  std::cerr << "ledgerfs: init " << o.store << ": signing key written to " << key_path
            << " (mode 0600; keep it secret and back it up)" << std::endl;
  std::cout << signer.Verifier().ToString() << std::endl;
  return kExitOk;
}

}  // namespace

Command AddInitCommand(CLI::App& parent) {
  auto o = std::make_shared<InitOptions>();
  CLI::App* app = parent.add_subcommand(
      "init", "Create a tenant store and its Ed25519 signing key; print the verifier key");
  app->add_option("STORE", o->store, "Folder of the new store (created if missing; must be empty)")
      ->required();
  app->add_option("--origin", o->origin,
                  "The log's origin, e.g. ledger.example.com/acme (also the key's name)")
      ->required();
  app->add_option("--key", o->key,
                  "Where to write the signing key (default: $LEDGERFS_KEY_DIR/<origin>.key; "
                  "see docs/cli.md). Never inside the store.");
  return {app, [o] { return RunInit(*o); }};
}

}  // namespace ledgerfs
