// The commit log (write-ahead log): the single commit point of the ledger. A batch of entries is
// real once its frames are appended to the current segment and that append is fsync'd; everything
// published (tiles, bundles, checkpoint, content names) is derived from these frames and can be
// redone after a crash.
//
// Segment:  .ledger/wal/<20-digit index of its first frame>
// Frame:    "SFL1" | u64 index | u32 entry_len | entry | u8 n | n × (u16 len, staged name,
//           u16 len, final name) | SHA-256 of all preceding bytes of the frame   (big-endian)
// A torn or corrupt frame at the tail of the newest segment is an unacknowledged batch and is cut
// off at open; anywhere else it is corruption.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/log.h"
#include "ledger/status.h"
#include "ledger/storage.h"

namespace ledger {

struct CommitRecord {
  uint64_t index = 0;
  std::string entry;
  std::vector<Attachment> attachments;
};

void EncodeCommitRecord(uint64_t index, std::string_view entry,
                        const std::vector<Attachment>& attachments, std::string* out);
// Decodes the frame at data[*pos]; advances *pos. Returns false (with *why) if the bytes there are
// not one whole, intact frame.
bool DecodeCommitRecord(std::string_view data, size_t* pos, CommitRecord* out, std::string* why);

class CommitLog {
 public:
  // Opens the commit log, returning every committed record with index >= published_size and the
  // committed size (>= published_size). Cuts a torn tail.
  static Status Open(Storage* storage, uint64_t published_size, uint64_t segment_bytes,
                     std::vector<CommitRecord>* unpublished, uint64_t* committed_size,
                     std::unique_ptr<CommitLog>* out);

  // Appends encoded frames and fsyncs them: the commit point. On failure *fatal says whether the
  // log's state is unknown (a failed fsync, or a failed append that could not be undone).
  Status Commit(std::string_view frames, bool* fatal);

  // Starts a new segment at `next_index` if the current one is over the size limit, and removes
  // segments whose every entry is below `published_size`.
  Status MaybeRotate(uint64_t next_index, uint64_t published_size);

 private:
  CommitLog(Storage* storage, uint64_t segment_bytes)
      : storage_(storage), segment_bytes_(segment_bytes) {}
  Status StartSegment(uint64_t first_index);
  Status RemovePublishedSegments(uint64_t published_size);

  Storage* storage_;
  uint64_t segment_bytes_;
  std::unique_ptr<StorageWriter> writer_;
  std::vector<uint64_t> segments_;  // first index of each segment, ascending
};

}  // namespace ledger
