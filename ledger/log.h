// Layer 2: the core state API of one tenant's ledger.
//   Append(entry)          -> index, once the entry is durable (one fsync'd commit-log append)
//   ReadSince(cursor, n)   -> a page of committed entries and the next cursor
//   LatestCheckpoint()     -> the newest signed checkpoint
//   CheckpointAt(size)     -> a signed checkpoint of an earlier size, remade from the tiles
// Concurrent appends share one commit (group commit). Tiles, bundles and the checkpoint are
// derived from committed state by a publisher and written in batches; a signed checkpoint covers
// every entry at most `checkpoint_delay` after its Append returned. After a crash, Open recovers
// every acknowledged entry from the commit log and republishes.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/checkpoint.h"
#include "ledger/note.h"
#include "ledger/status.h"
#include "ledger/storage.h"

namespace ledger {

struct LogOptions {
  // Upper bound from an Append returning to a signed checkpoint that covers it.
  std::chrono::milliseconds checkpoint_delay{1000};
  // Publish in a background thread. When false, nothing is published until Publish() is called
  // (tests that need one checkpoint per entry, tools).
  bool background_publish = true;
  // Entries committed in one commit-log append at most.
  size_t max_batch_entries = 1024;
  // Committed-but-unpublished entries held in memory before appends wait for the publisher.
  size_t max_unpublished_entries = 1 << 16;
  // A commit-log segment is closed and a new one started past this size.
  uint64_t wal_segment_bytes = 64ull << 20;
};

// An object the publisher moves into place before publishing the entry that names it (a record's
// staged content -> its content-addressed name). The move is recorded in the commit log with the
// entry, so it is redone after a crash.
struct Attachment {
  std::string staged;  // a Storage name whose content is already durable (Storage::CreateStaged)
  std::string final_name;
};

class Log {
 public:
  // Creates an empty log in `storage` for `signer` (origin = key name) and publishes the size-0
  // checkpoint. AlreadyExists if the storage already holds a log.
  static Status Create(Storage* storage, const NoteSigner& signer);
  // Opens an existing log, takes the store lock (Busy if another process has it), recovers and
  // publishes anything committed but unpublished. `storage` must outlive the Log.
  static Status Open(Storage* storage, const NoteSigner& signer, const LogOptions& options,
                     std::unique_ptr<Log>* out);
  // Reads the store's public identity (origin and verifier key) without opening the log.
  static Status ReadIdentity(Storage* storage, std::string* origin, std::string* vkey);

  ~Log();  // publishes what is committed (best effort) and stops the publisher
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Appends one entry (at most 65,535 bytes). Returns only once the entry (and, before it, every
  // attachment's content) is durable. Thread-safe; concurrent callers share one commit.
  Status Append(std::string_view entry, uint64_t* index) { return Append(entry, {}, index); }
  Status Append(std::string_view entry, std::vector<Attachment> attachments, uint64_t* index);

  // Up to `limit` committed entries from index `cursor`; *next is the cursor after the page.
  // A cursor equal to the size gives an empty page; beyond it is InvalidArgument.
  Status ReadSince(uint64_t cursor, size_t limit, std::vector<std::string>* entries,
                   uint64_t* next);

  // The newest signed checkpoint note, and its parsed form.
  Status LatestCheckpoint(std::string* note, Checkpoint* parsed = nullptr);

  // A signed checkpoint of the first `size` entries, for any size up to the latest checkpoint's:
  // the latest itself, or one signed now over the tree hash recomputed from the published tiles.
  // A checkpoint holds no time and Ed25519 signatures are deterministic, so this is, byte for
  // byte, the checkpoint once published at that size, if there was one; the daemon keeps no
  // older checkpoints because it can always remake them. InvalidArgument beyond the latest.
  Status CheckpointAt(uint64_t size, std::string* note, Checkpoint* parsed = nullptr);

  // Publishes everything committed now (tiles, bundles, attachments, checkpoint); returns once the
  // new checkpoint is durable.
  Status Publish();

  uint64_t committed_size() const;
  uint64_t published_size() const;
  const std::string& origin() const;
  // Non-OK once the log has stopped accepting appends (an fsync or write failed); says why.
  Status health() const;

  // Where the content attached to a committed entry can be read now: its staged name until the
  // publisher has moved it, then its final name.
  Status ResolveAttachment(const std::string& final_name, std::string* readable_name) const;

  class Impl;

 private:
  explicit Log(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Names of the store's files (docs/format.md describes each).
namespace store_layout {
inline constexpr char kPrivateDir[] = ".ledger";
inline constexpr char kIdentity[] = ".ledger/identity";
inline constexpr char kLockName[] = ".ledger/lock";
inline constexpr char kWalDir[] = ".ledger/wal";
inline constexpr char kStagingDir[] = ".ledger/staging";
inline constexpr char kCheckpoint[] = "checkpoint";
}  // namespace store_layout

}  // namespace ledger
