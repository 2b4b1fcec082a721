// Where a tenant's Ed25519 signing key lives, and how it is written and read. The key file holds
// the "PRIVATE+KEY+…" text and a newline, mode 0600, created exclusively (an existing key is never
// overwritten). It never lives inside the store, which is public data.
// Default location (docs/cli.md): $LEDGERFS_KEY_DIR/<sanitised origin>.key, where
// LEDGERFS_KEY_DIR defaults to /etc/ledgerfs/keys for root and
// ${XDG_CONFIG_HOME:-$HOME/.config}/ledgerfs/keys for anyone else.
#pragma once

#include <string>
#include <string_view>

#include "ledger/note.h"
#include "ledger/status.h"
#include "ledger/storage.h"

namespace ledgerfs {

// The origin as a file name: every byte outside [A-Za-z0-9._-] becomes '_' (and a leading '.'
// too, so the file is never hidden), e.g. "ledger.example.com/acme" -> "ledger.example.com_acme".
std::string SanitiseOrigin(std::string_view origin);

// The key folder by the rules above; InvalidArgument if no home folder can be found.
ledger::Status DefaultKeyDir(std::string* dir);
// DefaultKeyDir() + "/" + SanitiseOrigin(origin) + ".key".
ledger::Status DefaultKeyPath(std::string_view origin, std::string* path);

// InvalidArgument if `key_path` is the store folder or anything under it (symlinks in the
// existing part of either path are resolved).
ledger::Status CheckKeyOutsideStore(const std::string& key_path, const std::string& store_path);

// Creates `path` (O_EXCL, mode 0600, parent folders made as needed, the last one mode 0700) with
// the signer's text and a newline, fsync'd. AlreadyExists if the file exists.
ledger::Status WriteNewKeyFile(const std::string& path, const ledger::NoteSigner& signer);
// Reads and parses a key file; warns (log) if group or others may read it.
ledger::Status ReadKeyFile(const std::string& path, ledger::NoteSigner* signer);

// The signing key of the store in `storage`: `key_flag` if given, else the default location for
// the store's origin (commands that open the log: append, mount, serve).
ledger::Status LoadStoreSigner(ledger::Storage* storage, const std::string& key_flag,
                               ledger::NoteSigner* signer);

}  // namespace ledgerfs
