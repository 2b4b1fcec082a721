// Read-only access to a published tree (a store, a mount or a copied tile tree) for the commands
// that need no signing key and take no lock (log, prove, verify): which verifier keys to trust, the
// signed checkpoint, whether a log is publishing into the tree, and records checked through a
// mount. Entries come from ledger::ReadPublishedEntries (tile_reader.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/checkpoint.h"
#include "ledger/records.h"
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

// Whether another process holds the store's lock (.ledger/lock), i.e. a running log (a mount's
// daemon, `ledgerfs append`) may be publishing into it. Asks /proc/locks, so the lock is never
// taken; if /proc/locks cannot be read, answers true (a live tree only makes failures wait).
bool StoreLockHeld(const std::string& store);

// Checks records through a mount's records/ folder (docs/mount.md): a file record's
// records/<path> is a regular file with the manifest's size and SHA-256, a directory record's is
// a folder. Give it the entries in index order (VerifyOptions::entry_check). A record whose path
// an earlier record took (the same path, a file where a folder is needed or the reverse; only
// `ledgerfs append` can make one) is not shown by the mount: it is counted as hidden, not failed.
// Entries that are not record manifests are accepted, as in a store.
class MountRecordChecker {
 public:
  // `mount` is the mount's root folder; `tree` reads its published files (tile/entries).
  MountRecordChecker(std::string mount, ledger::Storage* tree)
      : mount_(std::move(mount)), tree_(tree) {}

  ledger::Status Check(uint64_t index, std::string_view entry);
  void Reset();  // before a new pass

  uint64_t files_checked() const { return files_checked_; }
  // "record N (path) is hidden by record M (path)", one per hidden record.
  const std::vector<std::string>& hidden() const { return hidden_; }

 private:
  ledger::Status CheckShown(uint64_t index, const ledger::RecordInfo& info);
  // The earlier record that keeps `info` out of records/, if any: *by gets its description.
  ledger::Status FindEarlierHolder(uint64_t index, const ledger::RecordInfo& info, bool* found,
                                   std::string* by);

  std::string mount_;
  ledger::Storage* tree_;
  uint64_t files_checked_ = 0;
  std::vector<std::string> hidden_;
  // Entries of the current bundle before the one being checked (the earlier bundles are full,
  // so they are read back from tile/entries when needed).
  uint64_t bundle_ = UINT64_MAX;
  std::vector<std::string> bundle_entries_;
};

}  // namespace ledgerfs
