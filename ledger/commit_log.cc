#include "ledger/commit_log.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "ledger/encoding.h"
#include "ledger/hash.h"
#include "spdlog/spdlog.h"

namespace ledger {
namespace {

constexpr std::string_view kMagic = "SFL1";
constexpr size_t kReadChunk = 1 << 20;

void PutBigEndian(uint64_t v, int bytes, std::string* out) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool GetBigEndian(std::string_view data, size_t* pos, int bytes, uint64_t* v) {
  if (data.size() - *pos < static_cast<size_t>(bytes)) return false;
  uint64_t r = 0;
  for (int i = 0; i < bytes; ++i) r = (r << 8) | static_cast<uint8_t>(data[*pos + i]);
  *pos += bytes;
  *v = r;
  return true;
}

bool GetString(std::string_view data, size_t* pos, size_t len, std::string* out) {
  if (data.size() - *pos < len) return false;
  out->assign(data.substr(*pos, len));
  *pos += len;
  return true;
}

std::string SegmentName(uint64_t first_index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(first_index));
  return std::string(store_layout::kWalDir) + "/" + buf;
}

}  // namespace

void EncodeCommitRecord(uint64_t index, std::string_view entry,
                        const std::vector<Attachment>& attachments, std::string* out) {
  const size_t start = out->size();
  out->append(kMagic);
  PutBigEndian(index, 8, out);
  PutBigEndian(entry.size(), 4, out);
  out->append(entry);
  PutBigEndian(attachments.size(), 1, out);
  for (const Attachment& a : attachments) {
    PutBigEndian(a.staged.size(), 2, out);
    out->append(a.staged);
    PutBigEndian(a.final_name.size(), 2, out);
    out->append(a.final_name);
  }
  Hash sum = Sha256(std::string_view(*out).substr(start));
  out->append(HashBytes(sum));
}

bool DecodeCommitRecord(std::string_view data, size_t* pos, CommitRecord* out, std::string* why) {
  size_t p = *pos;
  uint64_t v = 0;
  if (data.size() - p < kMagic.size() || data.substr(p, kMagic.size()) != kMagic) {
    *why = "bad frame magic";
    return false;
  }
  p += kMagic.size();
  if (!GetBigEndian(data, &p, 8, &out->index) || !GetBigEndian(data, &p, 4, &v) ||
      !GetString(data, &p, v, &out->entry) || !GetBigEndian(data, &p, 1, &v)) {
    *why = "truncated frame";
    return false;
  }
  out->attachments.assign(v, Attachment{});
  for (Attachment& a : out->attachments) {
    uint64_t len = 0;
    if (!GetBigEndian(data, &p, 2, &len) || !GetString(data, &p, len, &a.staged) ||
        !GetBigEndian(data, &p, 2, &len) || !GetString(data, &p, len, &a.final_name)) {
      *why = "truncated frame";
      return false;
    }
  }
  if (data.size() - p < 32) {
    *why = "truncated frame checksum";
    return false;
  }
  Hash sum = Sha256(data.substr(*pos, p - *pos));
  if (data.substr(p, 32) != HashBytes(sum)) {
    *why = "frame checksum mismatch";
    return false;
  }
  *pos = p + 32;
  return true;
}

Status CommitLog::Open(Storage* storage, uint64_t published_size, uint64_t segment_bytes,
                       std::vector<CommitRecord>* unpublished, uint64_t* committed_size,
                       std::unique_ptr<CommitLog>* out) {
  std::unique_ptr<CommitLog> log(new CommitLog(storage, segment_bytes));
  std::vector<std::string> names;
  Status st = storage->List(store_layout::kWalDir, &names);
  if (!st.ok() && st.code() != Status::Code::kNotFound) return st;
  for (const std::string& n : names) {
    // Segment names are the first entry index, zero-padded to 20 digits.
    const bool digits = n.size() == 20 && n.find_first_not_of("0123456789") == std::string::npos;
    errno = 0;
    const unsigned long long first = digits ? std::strtoull(n.c_str(), nullptr, 10) : 0;
    if (!digits || errno == ERANGE) {
      return Status::Corruption(std::string(store_layout::kWalDir) + "/" + n +
                                ": not a commit-log segment name");
    }
    log->segments_.push_back(first);
  }
  std::sort(log->segments_.begin(), log->segments_.end());

  // Only segments that may hold entries >= published_size need reading: the last one starting at
  // or before it, and all later ones.
  size_t first_needed = 0;
  for (size_t i = 0; i < log->segments_.size(); ++i) {
    if (log->segments_[i] <= published_size) first_needed = i;
  }
  uint64_t expected = log->segments_.empty() ? published_size : log->segments_[first_needed];
  if (expected > published_size) {
    return Status::Corruption(SegmentName(expected) + ": commit log starts at entry " +
                              std::to_string(expected) + " but the checkpoint covers only " +
                              std::to_string(published_size));
  }
  unpublished->clear();
  for (size_t i = first_needed; i < log->segments_.size(); ++i) {
    const std::string name = SegmentName(log->segments_[i]);
    const bool newest = i + 1 == log->segments_.size();
    if (log->segments_[i] != expected) {
      return Status::Corruption(name + ": segment starts at entry " +
                                std::to_string(log->segments_[i]) + ", expected " +
                                std::to_string(expected));
    }
    uint64_t size = 0;
    LEDGER_RETURN_IF_ERROR(storage->Size(name, &size));
    // Stream the segment in chunks. A frame that fails to decode may just continue past the
    // buffer, so read more before calling it torn.
    std::string buf;
    uint64_t buf_off = 0;   // offset of buf[0] in the segment
    uint64_t read_off = 0;  // next offset to read
    size_t pos = 0;
    Status read_status;
    auto read_more = [&]() {
      if (read_off >= size) return false;
      buf.erase(0, pos);
      buf_off += pos;
      pos = 0;
      std::string chunk;
      read_status = storage->ReadAt(name, read_off, kReadChunk, &chunk);
      if (!read_status.ok() || chunk.empty()) return false;
      read_off += chunk.size();
      buf += chunk;
      return true;
    };
    std::string why;
    bool torn = false;
    while (true) {
      if (pos == buf.size() && !read_more()) break;
      CommitRecord rec;
      size_t p = pos;
      if (!DecodeCommitRecord(buf, &p, &rec, &why)) {
        if (read_more()) continue;
        torn = true;
        break;
      }
      if (rec.index != expected) {
        return Status::Corruption(name + ": frame at offset " + std::to_string(buf_off + pos) +
                                  " has entry index " + std::to_string(rec.index) + ", expected " +
                                  std::to_string(expected));
      }
      pos = p;
      ++expected;
      if (rec.index >= published_size) unpublished->push_back(std::move(rec));
    }
    LEDGER_RETURN_IF_ERROR(read_status);
    if (torn) {
      const uint64_t good = buf_off + pos;
      if (!newest) {
        return Status::Corruption(name + ": " + why + " at offset " + std::to_string(good) +
                                  " in a closed segment");
      }
      spdlog::warn("{}: cutting {} bytes of an unacknowledged batch at offset {} ({})", name,
                   size - good, good, why);
      std::unique_ptr<StorageWriter> w;
      LEDGER_RETURN_IF_ERROR(storage->OpenAppendable(name, &w));
      LEDGER_RETURN_IF_ERROR(w->Truncate(good));
      LEDGER_RETURN_IF_ERROR(w->Sync());
      LEDGER_RETURN_IF_ERROR(w->Close());
    }
  }
  if (expected < published_size) {
    return Status::Corruption(std::string(store_layout::kWalDir) + ": commit log ends at entry " +
                              std::to_string(expected) + " but the checkpoint covers " +
                              std::to_string(published_size));
  }
  *committed_size = expected;
  if (log->segments_.empty()) {
    LEDGER_RETURN_IF_ERROR(log->StartSegment(expected));
  } else {
    LEDGER_RETURN_IF_ERROR(
        storage->OpenAppendable(SegmentName(log->segments_.back()), &log->writer_));
  }
  *out = std::move(log);
  return Status::Ok();
}

Status CommitLog::Commit(std::string_view frames, bool* fatal) {
  *fatal = false;
  const uint64_t before = writer_->size();
  Status st = writer_->Append(frames);
  if (!st.ok()) {
    // Undo the partial append so the next batch starts on a frame boundary.
    Status undo = writer_->Truncate(before);
    *fatal = !undo.ok();
    return st.WithContext("commit log " + writer_->name());
  }
  st = writer_->Sync();
  if (!st.ok()) {
    *fatal = true;  // after a failed fsync nobody knows what is on disk: stop
    return st.WithContext("commit log " + writer_->name());
  }
  return Status::Ok();
}

Status CommitLog::StartSegment(uint64_t first_index) {
  std::unique_ptr<StorageWriter> w;
  LEDGER_RETURN_IF_ERROR(storage_->OpenAppendable(SegmentName(first_index), &w));
  if (writer_) LEDGER_RETURN_IF_ERROR(writer_->Close());
  writer_ = std::move(w);
  segments_.push_back(first_index);
  return Status::Ok();
}

Status CommitLog::RemovePublishedSegments(uint64_t published_size) {
  // Segment i can go once segment i+1 starts at or below the published size.
  while (segments_.size() >= 2 && segments_[1] <= published_size) {
    LEDGER_RETURN_IF_ERROR(storage_->Remove(SegmentName(segments_[0])));
    segments_.erase(segments_.begin());
  }
  return Status::Ok();
}

Status CommitLog::MaybeRotate(uint64_t next_index, uint64_t published_size) {
  if (writer_->size() >= segment_bytes_) LEDGER_RETURN_IF_ERROR(StartSegment(next_index));
  return RemovePublishedSegments(published_size);
}

}  // namespace ledger
