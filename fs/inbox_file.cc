#include "fs/inbox_file.h"

#include <fcntl.h>
#include <linux/falloc.h>

#include <utility>

#include "spdlog/spdlog.h"

namespace fs {

InboxFile::InboxFile(ledger::RecordIndex* index, ProcessProbe* probe,
                     ledger::RecordIndex::NodeId node, std::string path,
                     std::unique_ptr<ledger::RecordWriter> writer, pid_t opener)
    : index_(index),
      probe_(probe),
      node_(node),
      path_(std::move(path)),
      shown_(ledger::EscapeRecordPath(path_)),
      opener_(opener),
      writer_(std::move(writer)) {}

InboxFile::~InboxFile() {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ == State::kWriting) DropLocked("its handle was destroyed before release");
}

int InboxFile::Read(uint64_t, size_t, std::string*) {
  return EACCES;
}

int InboxFile::Write(uint64_t offset, std::string_view data) {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ == State::kSealed) return EPERM;  // sealed at an earlier close: WORM
  if (state_ == State::kGone) return failed_errno_ != 0 ? failed_errno_ : EIO;
  ledger::Status st = writer_->WriteAt(offset, data);
  if (!st.ok()) {
    spdlog::error("inbox/{}: write of {} bytes at {} failed: {}", shown_, data.size(), offset,
                  st.ToString());
    return st.ToErrno();
  }
  written_ = true;
  size_.store(writer_->size(), std::memory_order_relaxed);
  return 0;
}

int InboxFile::Resize(uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ != State::kWriting) return EPERM;
  const uint64_t current = writer_->size();
  if (size < current) return EPERM;
  if (size == current) return 0;
  ledger::Status st = writer_->WriteAt(size, {});  // fills the gap with zeros
  if (!st.ok()) {
    spdlog::error("inbox/{}: growing to {} bytes failed: {}", shown_, size, st.ToString());
    return st.ToErrno();
  }
  size_.store(writer_->size(), std::memory_order_relaxed);
  return 0;
}

int InboxFile::Allocate(int mode, uint64_t offset, uint64_t length) {
  if (mode == FALLOC_FL_KEEP_SIZE) {
    std::lock_guard<std::mutex> lock(mu_);
    return state_ == State::kWriting ? 0 : EPERM;
  }
  if (mode != 0) return EOPNOTSUPP;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != State::kWriting) return EPERM;
    if (offset + length <= writer_->size()) return 0;
  }
  return Resize(offset + length);
}

int InboxFile::Flush(pid_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ == State::kSealed) return 0;
  if (state_ == State::kGone) return failed_errno_;
  const CallerInfo caller = probe_->Inspect(pid);
  if (caller.tgid == 0 || caller.tgid != opener_) return 0;  // another process: not the end
  if (caller.signalled) {
    killed_ = true;  // the writer died mid-way: RELEASE drops the file
    return 0;
  }
  if (!written_) return 0;  // dd, shell redirections and touch close once before writing
  return SealLocked();
}

void InboxFile::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ != State::kWriting) return;
  if (killed_) {
    DropLocked("its writer was killed by a signal");
    return;
  }
  // Never written, or last closed by another process: sealed now, with nobody to tell about an
  // error but the log.
  SealLocked();
}

int InboxFile::SealLocked() {
  ledger::RecordInfo info;
  ledger::Status st = writer_->Commit(&info);
  if (!st.ok()) {
    failed_errno_ = st.ToErrno();
    state_ = State::kGone;
    writer_.reset();
    index_->Unreserve(node_);
    spdlog::error("inbox/{}: not sealed, no record made: {}", shown_, st.ToString());
    return failed_errno_;
  }
  index_->Seal(node_, info);
  state_ = State::kSealed;
  size_.store(info.size, std::memory_order_relaxed);
  writer_.reset();
  spdlog::debug("inbox/{}: sealed as record {} ({} bytes, sha256 {})", shown_, info.index,
                info.size, info.sha256_hex);
  return 0;
}

void InboxFile::DropLocked(const char* why) {
  writer_->Abort();
  writer_.reset();
  state_ = State::kGone;
  index_->Unreserve(node_);
  spdlog::warn("inbox/{}: dropped, no record made: {}", shown_, why);
}

}  // namespace fs
