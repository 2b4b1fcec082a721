// Log::Impl: group commit into the commit log, a publisher that derives tiles, bundles, content
// names and the signed checkpoint from committed state, and crash recovery.
//
// Order of durability for an entry (docs/design.md tells the crash story):
//   1. its attachments' content is fsync'd under a staged name (by the caller);
//   2. its frame is appended to the commit log and fsync'd  <- the commit point; Append returns;
//   3. the publisher renames the content into place, writes bundles and tiles (each durable),
//      then atomically replaces the signed checkpoint.
// After a crash, steps 3 are redone from the commit log for every entry the checkpoint lacks.
#include "ledger/log.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "ledger/bundle.h"
#include "ledger/commit_log.h"
#include "ledger/tile_reader.h"
#include "ledger/tile_writer.h"
#include "ledger/tlog_math.h"
#include "spdlog/spdlog.h"

namespace ledger {

namespace {

std::string IdentityText(const NoteSigner& signer) {
  return "service-fs store v1\norigin " + signer.name() + "\nvkey " + signer.Verifier().ToString() +
         "\n";
}

// Parses the identity file: "service-fs store v1\norigin <o>\nvkey <k>\n". The key must be a
// verifier key named after the origin: `ledgerfs verify` trusts this key by default, so damage
// here is reported as damage to this file, not later as a checkpoint that fails to verify (and
// a changed origin cannot go unnoticed).
Status ParseIdentity(const std::string& text, std::string* origin, std::string* vkey) {
  const std::string head = "service-fs store v1\norigin ";
  const size_t o_end = text.find('\n', head.size());
  if (text.compare(0, head.size(), head) != 0 || o_end == std::string::npos ||
      text.compare(o_end + 1, 5, "vkey ") != 0 || text.back() != '\n') {
    return Status::Corruption(std::string(store_layout::kIdentity) +
                              ": not a service-fs store v1 identity");
  }
  std::string o = text.substr(head.size(), o_end - head.size());
  std::string k = text.substr(o_end + 6, text.size() - o_end - 7);
  NoteVerifier verifier;
  Status st = NoteVerifier::Parse(k, &verifier);
  if (!st.ok()) {
    return Status::Corruption(std::string(store_layout::kIdentity) + ": " + st.message());
  }
  if (verifier.name() != o) {
    return Status::Corruption(std::string(store_layout::kIdentity) + ": the key is named \"" +
                              verifier.name() + "\", not after the origin \"" + o + "\"");
  }
  *origin = std::move(o);
  *vkey = std::move(k);
  return Status::Ok();
}

}  // namespace

class Log::Impl {
 public:
  // An entry committed but not yet published. (A member type, not file-local, so that the
  // class stays free of internal-linkage members in a unity build.)
  struct PendingEntry {
    uint64_t index;
    std::string entry;
    std::vector<Attachment> attachments;
    // When its commit returned; the publisher's deadline counts from the oldest pending entry.
    std::chrono::steady_clock::time_point committed_at{};
  };

  Impl(Storage* storage, const NoteSigner& signer, const LogOptions& options)
      : storage_(storage), signer_(signer), options_(options) {}

  Status Open();
  void Shutdown();
  Status Append(std::string_view entry, std::vector<Attachment> attachments, uint64_t* index);
  Status ReadSince(uint64_t cursor, size_t limit, std::vector<std::string>* entries,
                   uint64_t* next);
  Status LatestCheckpoint(std::string* note, Checkpoint* parsed);
  Status CheckpointAt(uint64_t size, std::string* note, Checkpoint* parsed);
  Status Publish();
  uint64_t committed_size() const {
    std::lock_guard<std::mutex> l(mu_);
    return committed_;
  }
  uint64_t published_size() const {
    std::lock_guard<std::mutex> l(mu_);
    return published_;
  }
  const std::string& origin() const { return signer_.name(); }
  Status health() const {
    std::lock_guard<std::mutex> l(mu_);
    return failed_;
  }
  Status ResolveAttachment(const std::string& final_name, std::string* readable) const;

 private:
  struct Writer {
    std::string_view entry;
    std::vector<Attachment>* attachments;
    Status status;
    uint64_t index = 0;
    bool done = false;
    std::condition_variable cv;
  };

  void PublisherLoop();
  Status PublishLocked();  // REQUIRES: publish_mu_ held
  Status PromoteAttachments(const std::vector<PendingEntry>& batch);
  Status WriteDerivedFile(const TileFile& f);
  void Fail(const Status& st);  // REQUIRES: mu_ held

  Storage* storage_;
  NoteSigner signer_;
  LogOptions options_;
  std::unique_ptr<StorageLock> lock_;

  mutable std::mutex mu_;  // guards everything below up to publish_mu_
  std::deque<Writer*> writers_;
  std::unique_ptr<CommitLog> commit_log_;
  uint64_t committed_ = 0;
  uint64_t published_ = 0;
  std::deque<PendingEntry> pending_;  // committed, unpublished: indexes [published_, committed_)
  std::unordered_map<std::string, std::string> staged_by_final_;
  std::chrono::steady_clock::time_point oldest_unpublished_;
  std::string checkpoint_note_;
  Checkpoint checkpoint_;
  Status failed_;         // fatal: no more appends
  Status publish_error_;  // transient (no space): appends wait for space
  bool stop_ = false;
  std::condition_variable publisher_cv_;
  std::condition_variable published_cv_;

  std::mutex publish_mu_;  // one publication at a time; guards tile_writer_
  TileWriter tile_writer_;
  std::thread publisher_;
};

Status Log::Impl::Open() {
  std::string origin, vkey, identity;
  LEDGER_RETURN_IF_ERROR(storage_->Read(store_layout::kIdentity, &identity)
                             .WithContext(storage_->Describe() + ": not a service-fs store"));
  LEDGER_RETURN_IF_ERROR(ParseIdentity(identity, &origin, &vkey));
  if (vkey != signer_.Verifier().ToString()) {
    return Status::InvalidArgument(storage_->Describe() + ": the signing key (" +
                                   signer_.Verifier().ToString() + ") is not this store's key (" +
                                   vkey + ")");
  }
  LEDGER_RETURN_IF_ERROR(storage_->Lock(store_layout::kLockName, &lock_));

  std::string note;
  LEDGER_RETURN_IF_ERROR(storage_->Read(store_layout::kCheckpoint, &note));
  LEDGER_RETURN_IF_ERROR(
      OpenCheckpoint(note, signer_.Verifier(), &checkpoint_).WithContext("checkpoint"));
  checkpoint_note_ = note;
  published_ = checkpoint_.size;
  LEDGER_RETURN_IF_ERROR(TileWriter::Load(storage_, published_, &tile_writer_));
  if (tile_writer_.Root() != checkpoint_.root) {
    return Status::Corruption(storage_->Describe() +
                              ": the published tiles do not hash to the checkpoint's root");
  }
  std::vector<CommitRecord> unpublished;
  LEDGER_RETURN_IF_ERROR(CommitLog::Open(storage_, published_, options_.wal_segment_bytes,
                                         &unpublished, &committed_, &commit_log_));
  for (CommitRecord& r : unpublished) {
    for (const Attachment& a : r.attachments) staged_by_final_[a.final_name] = a.staged;
    pending_.push_back({r.index, std::move(r.entry), std::move(r.attachments)});
  }
  oldest_unpublished_ = std::chrono::steady_clock::now();
  if (!pending_.empty()) {
    spdlog::info("{}: recovering {} committed entries beyond the checkpoint (size {})",
                 storage_->Describe(), pending_.size(), published_);
    LEDGER_RETURN_IF_ERROR(Publish());
  }
  // Staged files no commit-log frame names: content of writes that never committed, and files a
  // previous process pre-created but never used. Nothing can refer to them any more.
  std::vector<std::string> staged;
  if (storage_->List(store_layout::kStagingDir, &staged).ok() && !staged.empty()) {
    for (const std::string& s : staged) {
      (void)storage_->Remove(std::string(store_layout::kStagingDir) + "/" + s);
    }
    spdlog::debug("{}: removed {} unreferenced staged files", storage_->Describe(), staged.size());
  }
  if (options_.background_publish) publisher_ = std::thread([this] { PublisherLoop(); });
  return Status::Ok();
}

void Log::Impl::Shutdown() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  publisher_cv_.notify_all();
  if (publisher_.joinable()) publisher_.join();
  if (health().ok()) {
    Status st = Publish();
    if (!st.ok())
      spdlog::error("{}: final publication failed: {}", storage_->Describe(), st.ToString());
  }
}

void Log::Impl::Fail(const Status& st) {
  if (!failed_.ok()) return;
  failed_ = Status::Failed("the log stopped accepting appends: " + st.ToString());
  spdlog::critical("{}: {}", storage_->Describe(), failed_.ToString());
  published_cv_.notify_all();
}

Status Log::Impl::Append(std::string_view entry, std::vector<Attachment> attachments,
                         uint64_t* index) {
  if (entry.size() > kMaxEntrySize) {
    return Status::InvalidArgument("entry of " + std::to_string(entry.size()) +
                                   " bytes exceeds the 65,535-byte limit of a tlog-tiles entry");
  }
  Writer w;
  w.entry = entry;
  w.attachments = &attachments;
  std::unique_lock<std::mutex> l(mu_);
  // Back-pressure: do not let unpublished entries pile up without bound in memory.
  while (options_.background_publish && failed_.ok() &&
         committed_ - published_ >= options_.max_unpublished_entries) {
    published_cv_.wait(l);
  }
  writers_.push_back(&w);
  while (!w.done && &w != writers_.front()) w.cv.wait(l);
  if (w.done) {  // a leader committed this entry as part of its batch
    *index = w.index;
    return w.status;
  }

  // This writer leads: commit it and those queued behind it in one append + fsync.
  std::vector<Writer*> batch;
  std::string frames;
  Status st = !failed_.ok() ? failed_ : publish_error_;
  for (Writer* x : writers_) {
    if (batch.size() >= options_.max_batch_entries) break;
    batch.push_back(x);
    if (st.ok()) {
      x->index = committed_ + batch.size() - 1;
      EncodeCommitRecord(x->index, x->entry, *x->attachments, &frames);
    }
  }
  if (st.ok()) {
    l.unlock();
    bool fatal = false;
    st = commit_log_->Commit(frames, &fatal);
    l.lock();
    if (!st.ok() && fatal) Fail(st);
    if (st.ok()) {
      const auto now = std::chrono::steady_clock::now();
      if (pending_.empty()) oldest_unpublished_ = now;
      for (Writer* x : batch) {
        for (const Attachment& a : *x->attachments) staged_by_final_[a.final_name] = a.staged;
        pending_.push_back({x->index, std::string(x->entry), std::move(*x->attachments), now});
      }
      committed_ += batch.size();
      Status rot = commit_log_->MaybeRotate(committed_, published_);
      if (!rot.ok()) Fail(rot);
      publisher_cv_.notify_all();
    }
  }
  for (Writer* x : batch) {
    writers_.pop_front();
    x->status = st;
    x->done = true;
    if (x != &w) x->cv.notify_one();
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  *index = w.index;
  return st;
}

void Log::Impl::PublisherLoop() {
  // Publish at most a quarter of the deadline after the oldest unpublished commit, so that the
  // publication itself has the rest of the deadline to finish.
  const auto delay = std::max<std::chrono::milliseconds>(options_.checkpoint_delay / 4,
                                                         std::chrono::milliseconds(1));
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    if (pending_.empty() || !failed_.ok()) {
      publisher_cv_.wait(l);
      continue;
    }
    const auto due = oldest_unpublished_ + delay;
    if (std::chrono::steady_clock::now() < due) {
      publisher_cv_.wait_until(l, due);
      continue;
    }
    l.unlock();
    Status st = Publish();
    l.lock();
    if (!st.ok() && failed_.ok()) {
      // Transient (no space): retry after the delay; appends are refused meanwhile.
      oldest_unpublished_ = std::chrono::steady_clock::now();
    }
  }
}

Status Log::Impl::Publish() {
  std::lock_guard<std::mutex> pl(publish_mu_);
  Status st = PublishLocked();
  std::lock_guard<std::mutex> l(mu_);
  if (st.ok()) {
    publish_error_ = Status::Ok();
  } else if (st.code() == Status::Code::kNoSpace) {
    if (publish_error_.ok())
      spdlog::error("{}: publication paused: {}", storage_->Describe(), st.ToString());
    publish_error_ = st;
  } else {
    Fail(st);
  }
  return st;
}

Status Log::Impl::PublishLocked() {
  std::vector<PendingEntry> batch;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!failed_.ok()) return failed_;
    if (pending_.empty()) return Status::Ok();
    batch.assign(pending_.begin(), pending_.end());
  }
  const uint64_t new_size = batch.back().index + 1;
  LEDGER_RETURN_IF_ERROR(PromoteAttachments(batch));
  {
    // The content is under its final name now, even if the rest of this publication fails
    // (no space for a tile): readers must look there from this moment.
    std::lock_guard<std::mutex> l(mu_);
    for (const PendingEntry& p : batch) {
      for (const Attachment& a : p.attachments) staged_by_final_.erase(a.final_name);
    }
  }

  TileWriter next = tile_writer_;
  std::vector<std::string_view> entries;
  entries.reserve(batch.size());
  for (const PendingEntry& p : batch) entries.push_back(p.entry);
  std::vector<TileFile> files;
  next.Extend(entries, &files);
  for (const TileFile& f : files) LEDGER_RETURN_IF_ERROR(WriteDerivedFile(f));

  Checkpoint cp;
  cp.origin = signer_.name();
  cp.size = new_size;
  cp.root = next.Root();
  std::string note;
  LEDGER_RETURN_IF_ERROR(SignCheckpoint(cp, signer_, &note));
  LEDGER_RETURN_IF_ERROR(storage_->Replace(store_layout::kCheckpoint, note));
  tile_writer_ = std::move(next);

  // Partials of tiles that are now full are redundant (tlog-tiles lets a log drop them).
  for (const TileFile& f : files) {
    if (!f.full) continue;
    Status rm = storage_->RemoveTree(f.path + ".p");
    if (!rm.ok() && rm.code() != Status::Code::kNotFound) {
      spdlog::warn("{}: could not prune {}.p: {}", storage_->Describe(), f.path, rm.ToString());
    }
  }

  std::lock_guard<std::mutex> l(mu_);
  published_ = new_size;
  while (!pending_.empty() && pending_.front().index < new_size) pending_.pop_front();
  // Entries committed while this publication ran wait for their own deadline, not for the one
  // of the batch just published (which has passed: publishing back to back costs a round of
  // folder syncs for a handful of entries each time).
  if (!pending_.empty()) oldest_unpublished_ = pending_.front().committed_at;
  checkpoint_ = cp;
  checkpoint_note_ = note;
  published_cv_.notify_all();
  return Status::Ok();
}

Status Log::Impl::PromoteAttachments(const std::vector<PendingEntry>& batch) {
  std::set<std::string> folders;
  for (const PendingEntry& p : batch) {
    for (const Attachment& a : p.attachments) {
      if (storage_->Exists(a.final_name)) {
        // Identical content is stored once: the staged copy is redundant.
        Status rm = storage_->Remove(a.staged);
        if (!rm.ok() && rm.code() != Status::Code::kNotFound) return rm;
        continue;
      }
      if (!storage_->Exists(a.staged)) {
        return Status::Corruption(a.final_name + ": content of entry " + std::to_string(p.index) +
                                  " is missing (staged as " + a.staged + ")");
      }
      LEDGER_RETURN_IF_ERROR(storage_->Rename(a.staged, a.final_name));
      folders.insert(ParentOf(a.final_name));
      folders.insert(ParentOf(a.staged));
    }
  }
  for (const std::string& f : folders) LEDGER_RETURN_IF_ERROR(storage_->SyncDir(f));
  return Status::Ok();
}

Status Log::Impl::WriteDerivedFile(const TileFile& f) {
  Status st = storage_->PutIfAbsent(f.path, f.bytes);
  if (st.code() != Status::Code::kAlreadyExists) return st;
  // Written before a crash (or by a previous attempt): it must be exactly what we derive now,
  // since published files are never rewritten.
  std::string existing;
  LEDGER_RETURN_IF_ERROR(storage_->Read(f.path, &existing));
  if (existing != f.bytes) {
    return Status::Corruption(f.path +
                              ": already published with different bytes; refusing to "
                              "overwrite it");
  }
  return Status::Ok();
}

Status Log::Impl::ReadSince(uint64_t cursor, size_t limit, std::vector<std::string>* entries,
                            uint64_t* next) {
  entries->clear();
  uint64_t published, end;
  std::vector<std::string> from_memory;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (cursor > committed_) {
      return Status::InvalidArgument("cursor " + std::to_string(cursor) +
                                     " is beyond the log size " + std::to_string(committed_));
    }
    published = published_;
    end = cursor + std::min<uint64_t>(limit, committed_ - cursor);
    for (const PendingEntry& p : pending_) {
      if (p.index >= cursor && p.index < end) from_memory.push_back(p.entry);
    }
  }
  // Entries below the published size come from the (immutable) bundles.
  if (cursor < std::min(end, published)) {
    LEDGER_RETURN_IF_ERROR(
        ReadPublishedEntries(storage_, published, cursor, std::min(end, published), entries));
  }
  for (std::string& e : from_memory) entries->push_back(std::move(e));
  *next = cursor + entries->size();
  return Status::Ok();
}

Status Log::Impl::LatestCheckpoint(std::string* note, Checkpoint* parsed) {
  std::lock_guard<std::mutex> l(mu_);
  *note = checkpoint_note_;
  if (parsed) *parsed = checkpoint_;
  return Status::Ok();
}

Status Log::Impl::CheckpointAt(uint64_t size, std::string* note, Checkpoint* parsed) {
  Checkpoint latest;
  LEDGER_RETURN_IF_ERROR(LatestCheckpoint(note, &latest));
  if (size > latest.size) {
    return Status::InvalidArgument("size " + std::to_string(size) +
                                   " is beyond the latest checkpoint's " +
                                   std::to_string(latest.size));
  }
  if (size < latest.size) {
    // Tiles and bundles are never rewritten once published, so the hashes below `size` read
    // now are those the checkpoint at `size` was signed over.
    Checkpoint cp;
    cp.origin = signer_.name();
    cp.size = size;
    StorageHashReader reader(storage_);
    LEDGER_RETURN_IF_ERROR(TreeHash(reader, size, &cp.root));
    LEDGER_RETURN_IF_ERROR(SignCheckpoint(cp, signer_, note));
    latest = std::move(cp);
  }
  if (parsed) *parsed = std::move(latest);
  return Status::Ok();
}

Status Log::Impl::ResolveAttachment(const std::string& final_name, std::string* readable) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = staged_by_final_.find(final_name);
  *readable = it == staged_by_final_.end() ? final_name : it->second;
  return Status::Ok();
}

// --- Log --------------------------------------------------------------------------------------

Log::Log(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Log::~Log() {
  impl_->Shutdown();
}

Status Log::Create(Storage* storage, const NoteSigner& signer) {
  if (storage->Exists(store_layout::kIdentity) || storage->Exists(store_layout::kCheckpoint)) {
    return Status::AlreadyExists(storage->Describe() + ": already holds a log");
  }
  Checkpoint empty;
  empty.origin = signer.name();
  empty.size = 0;
  empty.root = EmptyTreeHash();
  std::string note;
  LEDGER_RETURN_IF_ERROR(SignCheckpoint(empty, signer, &note));
  // The checkpoint first: a store with an identity but no checkpoint cannot exist.
  LEDGER_RETURN_IF_ERROR(storage->PutIfAbsent(store_layout::kCheckpoint, note));
  return storage->PutIfAbsent(store_layout::kIdentity, IdentityText(signer));
}

Status Log::Open(Storage* storage, const NoteSigner& signer, const LogOptions& options,
                 std::unique_ptr<Log>* out) {
  auto impl = std::make_unique<Impl>(storage, signer, options);
  Status st = impl->Open();
  if (!st.ok()) return st;
  out->reset(new Log(std::move(impl)));
  return Status::Ok();
}

Status Log::ReadIdentity(Storage* storage, std::string* origin, std::string* vkey) {
  std::string identity;
  LEDGER_RETURN_IF_ERROR(storage->Read(store_layout::kIdentity, &identity)
                             .WithContext(storage->Describe() + ": not a service-fs store"));
  return ParseIdentity(identity, origin, vkey);
}

Status Log::Append(std::string_view entry, std::vector<Attachment> attachments, uint64_t* index) {
  return impl_->Append(entry, std::move(attachments), index);
}
Status Log::ReadSince(uint64_t cursor, size_t limit, std::vector<std::string>* entries,
                      uint64_t* next) {
  return impl_->ReadSince(cursor, limit, entries, next);
}
Status Log::LatestCheckpoint(std::string* note, Checkpoint* parsed) {
  return impl_->LatestCheckpoint(note, parsed);
}
Status Log::CheckpointAt(uint64_t size, std::string* note, Checkpoint* parsed) {
  return impl_->CheckpointAt(size, note, parsed);
}
Status Log::Publish() {
  return impl_->Publish();
}
uint64_t Log::committed_size() const {
  return impl_->committed_size();
}
uint64_t Log::published_size() const {
  return impl_->published_size();
}
const std::string& Log::origin() const {
  return impl_->origin();
}
Status Log::health() const {
  return impl_->health();
}
Status Log::ResolveAttachment(const std::string& final_name, std::string* readable_name) const {
  return impl_->ResolveAttachment(final_name, readable_name);
}

}  // namespace ledger
