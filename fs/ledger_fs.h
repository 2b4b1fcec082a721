// The FUSE low-level operations of one tenant's mount (PRODUCT §2, §4; docs/mount.md), over the
// core API: the record namespace (RecordIndex), Records for writing, the Log for reading
// committed records, and the published tile tree. Modelled on libfuse's passthrough_hp: inode
// numbers carry which part of the tree they belong to, every handler replies exactly once with
// an errno or a result, and no exception crosses into libfuse.
//
// Inode numbers: 1 is the root; otherwise (id << 2) | view, where view 1 is inbox/ and view 2
// is records/ (id = RecordIndex node, so the same name has one inode in each), and view 3 is the
// published checkpoint and tile/ tree (id = PublishedView id).
#pragma once

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 314
#endif
#include <fuse_lowlevel.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "fs/process_probe.h"
#include "fs/published_view.h"
#include "ledger/log.h"
#include "ledger/record_index.h"
#include "ledger/records.h"
#include "ledger/storage.h"

namespace fs {

class InboxFile;

struct MountConfig {
  std::string tenant;
  std::string store_path;  // a local path for statfs ("" if the storage is not a local folder)
  uid_t owner_uid = 0;     // owns inbox/ (the writer) ...
  gid_t owner_gid = 0;     // ... and its group reads records/, tile/, checkpoint
};

class LedgerFs {
 public:
  LedgerFs(ledger::Log* log, ledger::Storage* storage, ledger::RecordIndex* index,
           MountConfig config, std::unique_ptr<ProcessProbe> probe = NewProcfsProbe());
  ~LedgerFs();  // drops inbox files still open (never closed: no record)
  LedgerFs(const LedgerFs&) = delete;
  LedgerFs& operator=(const LedgerFs&) = delete;

  // The operation table; pass `this` as the session's userdata.
  static const fuse_lowlevel_ops* Ops();

  // Inbox files being written now (for the daemon's exit message).
  size_t open_inbox_files() const;

  class Ops_;  // the handlers (ledger_fs.cc)

 private:
  friend class Ops_;
  ledger::Log* const log_;
  ledger::Storage* const storage_;
  ledger::RecordIndex* const index_;
  const MountConfig config_;
  std::unique_ptr<ProcessProbe> probe_;
  ledger::Records records_;
  PublishedView published_;
  const int64_t mount_time_ms_;

  mutable std::mutex open_mu_;
  std::unordered_map<ledger::RecordIndex::NodeId, InboxFile*> open_files_;  // being written
};

}  // namespace fs
