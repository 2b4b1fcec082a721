// A file being written through inbox/: the rule that turns it into exactly one record
// (PRODUCT §4, docs/mount.md "When a file is sealed", research/fuse.md §2).
//
//   Writing --FLUSH by the creating process after data--> seal: content fsync'd, manifest
//            committed; close() waits and gets the outcome                      --> Sealed
//   Writing --FLUSH by another process, or before any data--> nothing (stays Writing)
//   Writing --FLUSH by the creating process dying of a signal--> marked killed
//   Writing --RELEASE (last descriptor gone)--> seal, or drop if killed           --> Sealed/Gone
//   Sealed  --WRITE--> EPERM;  any FLUSH --> 0
// A seal that fails (ENOSPC, EIO) makes no record and frees the name (Gone); every later FLUSH
// reports the same errno, so no descriptor of the file closes with a false success.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "fs/handle.h"
#include "fs/process_probe.h"
#include "ledger/record_index.h"
#include "ledger/records.h"

namespace fs {

class InboxFile final : public Handle {
 public:
  // `writer` streams the content for record path `path`, whose name `node` is reserved in
  // `index`. `opener` is the creating process (thread group id).
  InboxFile(ledger::RecordIndex* index, ProcessProbe* probe, ledger::RecordIndex::NodeId node,
            std::string path, std::unique_ptr<ledger::RecordWriter> writer, pid_t opener);
  ~InboxFile() override;  // drops the content unless sealed

  int Read(uint64_t offset, size_t n, std::string* out) override;  // EACCES: write-only
  int Write(uint64_t offset, std::string_view data) override;
  int Flush(pid_t pid) override;
  void Release() override;

  // ftruncate by the writer: growing fills with zeros, the same size is accepted, shrinking is
  // EPERM (the bytes may already be hashed; a WORM inbox never takes data back).
  int Resize(uint64_t size);
  // fallocate: mode 0 grows like Resize; FALLOC_FL_KEEP_SIZE does nothing; others EOPNOTSUPP.
  int Allocate(int mode, uint64_t offset, uint64_t length);

  uint64_t size() const { return size_.load(std::memory_order_relaxed); }
  ledger::RecordIndex::NodeId node() const { return node_; }
  const std::string& path() const { return path_; }

 private:
  enum class State { kWriting, kSealed, kGone };
  int SealLocked();
  void DropLocked(const char* why);

  ledger::RecordIndex* const index_;
  ProcessProbe* const probe_;
  const ledger::RecordIndex::NodeId node_;
  const std::string path_;
  const std::string shown_;  // path_ escaped for log lines
  const pid_t opener_;

  mutable std::mutex mu_;
  std::unique_ptr<ledger::RecordWriter> writer_;
  State state_ = State::kWriting;
  bool written_ = false;  // a WRITE arrived through this open file
  bool killed_ = false;   // the creating process closed it while dying of a signal
  int failed_errno_ = 0;  // why the seal failed (kGone after a failed seal)
  // Bytes written so far, readable without waiting for a seal in progress (stat of the file).
  std::atomic<uint64_t> size_{0};
};

}  // namespace fs
