// FaultInjectionStorage: see the header for the durability model it enforces at a crash.
#include "ledger/fault_injection_storage.h"

#include <algorithm>
#include <cerrno>
#include <random>
#include <utility>

#include <spdlog/spdlog.h>

namespace ledger {
namespace {

Status CrashedStatus() {
  return Status::FromErrno("simulated crash", EIO);
}

bool Touches(const std::set<std::string>& names, const std::string& a, const std::string& b) {
  return names.count(a) > 0 || (!b.empty() && names.count(b) > 0);
}

bool IsUnder(const std::string& name, const std::string& dir) {
  return name == dir ||
         (name.size() > dir.size() && name.starts_with(dir) && name[dir.size()] == '/');
}

}  // namespace

// A writer that records, at each successful Sync, how many bytes became durable.
class FaultInjectionStorage::Writer final : public StorageWriter {
 public:
  Writer(FaultInjectionStorage* fs, std::unique_ptr<StorageWriter> base,
         std::shared_ptr<FileState> state, uint64_t epoch)
      : fs_(fs), base_(std::move(base)), state_(std::move(state)), epoch_(epoch) {}

  const std::string& name() const override { return base_->name(); }
  uint64_t size() const override { return base_->size(); }

  Status Append(std::string_view data) override {
    std::shared_lock<std::shared_mutex> guard;
    LEDGER_RETURN_IF_ERROR(fs_->Enter(true, epoch_, &guard, "Append", base_->name()));
    LEDGER_RETURN_IF_ERROR(fs_->TakeFault(&fs_->write_fault_, "write " + Path()));
    return base_->Append(data);
  }

  Status WriteAt(uint64_t offset, std::string_view data) override {
    std::shared_lock<std::shared_mutex> guard;
    LEDGER_RETURN_IF_ERROR(fs_->Enter(true, epoch_, &guard, "WriteAt", base_->name()));
    LEDGER_RETURN_IF_ERROR(fs_->TakeFault(&fs_->write_fault_, "write " + Path()));
    return base_->WriteAt(offset, data);
  }

  Status Truncate(uint64_t size) override {
    std::shared_lock<std::shared_mutex> guard;
    LEDGER_RETURN_IF_ERROR(fs_->Enter(true, epoch_, &guard, "Truncate", base_->name()));
    LEDGER_RETURN_IF_ERROR(base_->Truncate(size));
    std::lock_guard<std::mutex> lock(fs_->mu_);
    state_->durable = std::min(state_->durable, size);
    return Status::Ok();
  }

  Status Sync() override {
    std::shared_lock<std::shared_mutex> guard;
    LEDGER_RETURN_IF_ERROR(fs_->Enter(true, epoch_, &guard, "Sync", base_->name()));
    LEDGER_RETURN_IF_ERROR(fs_->TakeFault(&fs_->sync_fault_, "fsync " + Path()));
    // Only what was written before the sync started is known to be covered by it.
    const uint64_t covered = base_->size();
    LEDGER_RETURN_IF_ERROR(base_->Sync());
    std::lock_guard<std::mutex> lock(fs_->mu_);
    state_->durable = std::max(state_->durable, covered);
    return Status::Ok();
  }

  Status Close() override {
    std::shared_lock<std::shared_mutex> guard;
    Status s = fs_->Enter(false, epoch_, &guard);
    Status closed = base_->Close();  // release the descriptor even after a crash
    return s.ok() ? closed : s;
  }

 private:
  std::string Path() const { return fs_->Describe() + "/" + base_->name(); }

  FaultInjectionStorage* const fs_;
  const std::unique_ptr<StorageWriter> base_;
  const std::shared_ptr<FileState> state_;
  const uint64_t epoch_;
};

// A lock that a simulated crash releases, as the death of the process would.
class FaultInjectionStorage::LockHandle final : public StorageLock {
 public:
  LockHandle(FaultInjectionStorage* fs, std::unique_ptr<StorageLock> inner)
      : fs_(fs), inner_(std::move(inner)) {}
  ~LockHandle() override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    fs_->locks_.erase(this);
    inner_.reset();
  }
  // REQUIRES: fs_->mu_ held.
  void Release() { inner_.reset(); }

 private:
  FaultInjectionStorage* const fs_;
  std::unique_ptr<StorageLock> inner_;
};

FaultInjectionStorage::FaultInjectionStorage(std::unique_ptr<Storage> base)
    : base_(std::move(base)) {}

FaultInjectionStorage::~FaultInjectionStorage() = default;

// --- crash control ---------------------------------------------------------------------------

void FaultInjectionStorage::SimulateCrash() {
  Crash(std::nullopt);
}
void FaultInjectionStorage::SimulateCrash(uint64_t seed) {
  Crash(seed);
}

void FaultInjectionStorage::CrashAtOperation(uint64_t n) {
  crash_partial_ = false;
  crash_at_ = n;
}

void FaultInjectionStorage::CrashAtOperation(uint64_t n, uint64_t seed) {
  crash_seed_ = seed;
  crash_partial_ = true;
  crash_at_ = n;
}

Status FaultInjectionStorage::rollback_status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rollback_status_;
}

void FaultInjectionStorage::ResetAfterCrash() {
  std::unique_lock<std::shared_mutex> exclusive(crash_mu_);
  std::lock_guard<std::mutex> lock(mu_);
  ++epoch_;
  crashed_ = false;
  crash_pending_ = false;
  op_count_ = 0;
  crash_at_ = 0;
  files_.clear();
  pending_.clear();
  sync_fault_ = Fault{};
  write_fault_ = Fault{};
  rollback_status_ = Status::Ok();
}

void FaultInjectionStorage::FailSyncWith(int err, bool only_next) {
  std::lock_guard<std::mutex> lock(mu_);
  sync_fault_ = Fault{err, only_next};
}
void FaultInjectionStorage::ClearSyncFailure() {
  FailSyncWith(0);
}

void FaultInjectionStorage::FailWritesWith(int err, bool only_next) {
  std::lock_guard<std::mutex> lock(mu_);
  write_fault_ = Fault{err, only_next};
}
void FaultInjectionStorage::ClearWriteFailure() {
  FailWritesWith(0);
}

Status FaultInjectionStorage::Enter(bool mutating, uint64_t epoch,
                                    std::shared_lock<std::shared_mutex>* guard, std::string_view op,
                                    const std::string& name) {
  if (mutating) {
    const uint64_t n = op_count_.fetch_add(1) + 1;
    if (observer_) observer_(n, op, name);
    if (n == crash_at_.load()) {
      Crash(crash_partial_ ? std::optional<uint64_t>(crash_seed_.load()) : std::nullopt);
      return CrashedStatus();
    }
  }
  // Checked before taking the lock as well: readers that keep arriving would otherwise starve
  // the crash's exclusive lock (glibc rwlocks prefer readers).
  if (crash_pending_) return CrashedStatus();
  *guard = std::shared_lock<std::shared_mutex>(crash_mu_);
  if (crashed_ || epoch != epoch_) return CrashedStatus();
  return Status::Ok();
}

Status FaultInjectionStorage::TakeFault(Fault* fault, const std::string& what) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fault->err == 0) return Status::Ok();
  const int err = fault->err;
  if (fault->only_next) *fault = Fault{};
  return Status::FromErrno(what, err);
}

void FaultInjectionStorage::Crash(std::optional<uint64_t> seed) {
  // Waits for calls in flight: each either completed before the crash or never started.
  crash_pending_ = true;
  std::unique_lock<std::shared_mutex> exclusive(crash_mu_);
  if (crashed_) return;
  std::lock_guard<std::mutex> lock(mu_);
  crashed_ = true;
  spdlog::debug("{}: simulated crash{}", base_->Describe(), seed ? " (partial writeback)" : "");
  RollBack(seed);
  for (LockHandle* handle : locks_) handle->Release();
}

void FaultInjectionStorage::RollBack(std::optional<uint64_t> seed) {
  std::mt19937_64 rng(seed.value_or(0));
  // Undo metadata changes newest first. An older change that shares a name with a kept newer
  // one must be kept too, or undoing it would contradict what the newer one left.
  std::set<std::string> kept;
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    const bool keep = Touches(kept, it->from, it->to) || (seed && (rng() & 1));
    if (keep) {
      kept.insert(it->from);
      if (it->is_rename) kept.insert(it->to);
    } else {
      UndoOp(*it);
    }
  }
  pending_.clear();

  // Cut every written object back to its synced size (or a random part of the unsynced tail).
  for (const auto& [name, state] : files_) {
    uint64_t size = 0;
    if (!base_->Size(name, &size).ok() || size <= state->durable) continue;
    uint64_t keep_bytes = state->durable;
    if (seed) keep_bytes += rng() % (size - state->durable + 1);
    std::unique_ptr<StorageWriter> w;
    Status s = base_->OpenAppendable(name, &w);
    if (s.ok()) s = w->Truncate(keep_bytes);
    if (s.ok()) s = w->Sync();
    if (s.ok()) s = w->Close();
    NoteRollbackError(s);
  }
  files_.clear();
}

void FaultInjectionStorage::UndoOp(const PendingOp& op) {
  if (op.is_rename) {
    NoteRollbackError(base_->Rename(op.to, op.from));
    MoveState(op.to, op.from);
  }
  // The removed object, or the one the rename replaced, comes back with its durable bytes.
  const std::string& restore = op.is_rename ? op.to : op.from;
  if (op.saved) NoteRollbackError(base_->Replace(restore, *op.saved));
}

void FaultInjectionStorage::NoteRollbackError(const Status& s) {
  if (s.ok()) return;
  spdlog::error("simulated crash: rollback failed: {}", s.ToString());
  if (rollback_status_.ok()) rollback_status_ = s;
}

void FaultInjectionStorage::MoveState(const std::string& from, const std::string& to) {
  files_.erase(to);
  auto it = files_.find(from);
  if (it == files_.end()) return;
  std::shared_ptr<FileState> state = std::move(it->second);
  files_.erase(it);
  state->name = to;
  files_[to] = std::move(state);
}

void FaultInjectionStorage::FolderSynced(const std::string& dir, uint64_t before_seq) {
  for (PendingOp& op : pending_) {
    if (op.seq < before_seq) op.unsynced_dirs.erase(dir);
  }
}

void FaultInjectionStorage::SettlePending(std::set<std::string> durable_names) {
  // Newest first: a durable change makes every older change on the same names durable.
  std::vector<bool> settled(pending_.size(), false);
  for (size_t i = pending_.size(); i-- > 0;) {
    const PendingOp& op = pending_[i];
    if (!op.unsynced_dirs.empty() && !Touches(durable_names, op.from, op.to)) continue;
    settled[i] = true;
    durable_names.insert(op.from);
    if (op.is_rename) durable_names.insert(op.to);
  }
  size_t i = 0;
  std::erase_if(pending_, [&](const PendingOp&) { return settled[i++]; });
}

// --- Storage -------------------------------------------------------------------------------

std::string FaultInjectionStorage::Describe() const {
  return base_->Describe();
}

Status FaultInjectionStorage::WriteWhole(std::string_view op, const std::string& name,
                                         const std::function<Status()>& write) {
  std::shared_lock<std::shared_mutex> guard;
  LEDGER_RETURN_IF_ERROR(Enter(true, epoch_, &guard, op, name));
  LEDGER_RETURN_IF_ERROR(TakeFault(&write_fault_, "write " + Describe() + "/" + name));
  uint64_t before;
  {
    std::lock_guard<std::mutex> lock(mu_);
    before = next_seq_;
  }
  LEDGER_RETURN_IF_ERROR(write());
  std::lock_guard<std::mutex> lock(mu_);
  files_.erase(name);  // a new object now holds the name; old writers write to a dead inode
  FolderSynced(ParentOf(name), before);
  SettlePending({name});
  return Status::Ok();
}

Status FaultInjectionStorage::PutIfAbsent(const std::string& name, std::string_view data) {
  return WriteWhole("PutIfAbsent", name, [&] { return base_->PutIfAbsent(name, data); });
}

Status FaultInjectionStorage::Replace(const std::string& name, std::string_view data) {
  return WriteWhole("Replace", name, [&] { return base_->Replace(name, data); });
}

Status FaultInjectionStorage::Read(const std::string& name, std::string* out) {
  std::shared_lock<std::shared_mutex> guard;
  LEDGER_RETURN_IF_ERROR(Enter(false, epoch_, &guard));
  return base_->Read(name, out);
}

Status FaultInjectionStorage::ReadAt(const std::string& name, uint64_t offset, size_t n,
                                     std::string* out) {
  std::shared_lock<std::shared_mutex> guard;
  LEDGER_RETURN_IF_ERROR(Enter(false, epoch_, &guard));
  return base_->ReadAt(name, offset, n, out);
}

Status FaultInjectionStorage::Size(const std::string& name, uint64_t* out) {
  std::shared_lock<std::shared_mutex> guard;
  LEDGER_RETURN_IF_ERROR(Enter(false, epoch_, &guard));
  return base_->Size(name, out);
}

bool FaultInjectionStorage::Exists(const std::string& name) {
  std::shared_lock<std::shared_mutex> guard;
  if (!Enter(false, epoch_, &guard).ok()) return false;
  return base_->Exists(name);
}

Status FaultInjectionStorage::List(const std::string& dir, std::vector<std::string>* names) {
  std::shared_lock<std::shared_mutex> guard;
  LEDGER_RETURN_IF_ERROR(Enter(false, epoch_, &guard));
  return base_->List(dir, names);
}

Status FaultInjectionStorage::Remove(const std::string& name) {
  std::shared_lock<std::shared_mutex> guard;
  LEDGER_RETURN_IF_ERROR(Enter(true, epoch_, &guard, "Remove", name));
  // Held across the read and the remove so the saved bytes are the ones removed.
  std::lock_guard<std::mutex> lock(mu_);
  std::string bytes;
  const bool have_bytes = base_->Read(name, &bytes).ok();
  LEDGER_RETURN_IF_ERROR(base_->Remove(name));
  if (auto it = files_.find(name); it != files_.end()) {
    bytes.resize(std::min<uint64_t>(bytes.size(), it->second->durable));
    files_.erase(it);
  }
  PendingOp op;
  op.seq = next_seq_++;
  op.from = name;
  op.unsynced_dirs = {ParentOf(name)};
  if (have_bytes) op.saved = std::move(bytes);
  pending_.push_back(std::move(op));
  return Status::Ok();
}

Status FaultInjectionStorage::RemoveTree(const std::string& dir) {
  std::shared_lock<std::shared_mutex> guard;
  LEDGER_RETURN_IF_ERROR(Enter(true, epoch_, &guard, "RemoveTree", dir));
  LEDGER_RETURN_IF_ERROR(base_->RemoveTree(dir));
  // Modelled as durable at once: forget everything inside, including changes that could no
  // longer be undone.
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(files_, [&](const auto& entry) { return IsUnder(entry.first, dir); });
  std::erase_if(pending_, [&](const PendingOp& op) {
    return IsUnder(op.from, dir) || (op.is_rename && IsUnder(op.to, dir));
  });
  return Status::Ok();
}

Status FaultInjectionStorage::OpenAppendable(const std::string& name,
                                             std::unique_ptr<StorageWriter>* out) {
  std::shared_lock<std::shared_mutex> guard;
  const uint64_t epoch = epoch_;
  LEDGER_RETURN_IF_ERROR(Enter(true, epoch, &guard, "OpenAppendable", name));
  const bool existed = base_->Exists(name);
  uint64_t before;
  {
    std::lock_guard<std::mutex> lock(mu_);
    before = next_seq_;
  }
  std::unique_ptr<StorageWriter> w;
  LEDGER_RETURN_IF_ERROR(base_->OpenAppendable(name, &w));
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<FileState>& state = files_[name];
  // Bytes already there when we first see the object count as durable (written before a
  // previous crash, or by someone else).
  if (!state) state = std::make_shared<FileState>(FileState{name, w->size()});
  if (!existed) {
    // Creating the file fsyncs its folder (the name is durable), as SyncDir would.
    FolderSynced(ParentOf(name), before);
    SettlePending({name});
  }
  *out = std::make_unique<Writer>(this, std::move(w), state, epoch);
  return Status::Ok();
}

Status FaultInjectionStorage::CreateStaged(const std::string& dir,
                                           std::unique_ptr<StorageWriter>* out) {
  std::shared_lock<std::shared_mutex> guard;
  const uint64_t epoch = epoch_;
  LEDGER_RETURN_IF_ERROR(Enter(true, epoch, &guard, "CreateStaged", dir));
  std::unique_ptr<StorageWriter> w;
  LEDGER_RETURN_IF_ERROR(base_->CreateStaged(dir, &w));
  auto state = std::make_shared<FileState>(FileState{w->name(), 0});
  {
    std::lock_guard<std::mutex> lock(mu_);
    files_[w->name()] = state;
  }
  *out = std::make_unique<Writer>(this, std::move(w), std::move(state), epoch);
  return Status::Ok();
}

Status FaultInjectionStorage::Rename(const std::string& from, const std::string& to) {
  std::shared_lock<std::shared_mutex> guard;
  LEDGER_RETURN_IF_ERROR(Enter(true, epoch_, &guard, "Rename", to));
  std::lock_guard<std::mutex> lock(mu_);
  // Keep the durable bytes of an object the rename replaces, to bring it back if undone.
  std::optional<std::string> replaced;
  if (std::string bytes; base_->Exists(to) && base_->Read(to, &bytes).ok()) {
    if (auto it = files_.find(to); it != files_.end()) {
      bytes.resize(std::min<uint64_t>(bytes.size(), it->second->durable));
    }
    replaced = std::move(bytes);
  }
  LEDGER_RETURN_IF_ERROR(base_->Rename(from, to));
  MoveState(from, to);
  PendingOp op;
  op.seq = next_seq_++;
  op.is_rename = true;
  op.from = from;
  op.to = to;
  op.unsynced_dirs = {ParentOf(from), ParentOf(to)};
  op.saved = std::move(replaced);
  pending_.push_back(std::move(op));
  return Status::Ok();
}

Status FaultInjectionStorage::SyncDir(const std::string& dir) {
  std::shared_lock<std::shared_mutex> guard;
  LEDGER_RETURN_IF_ERROR(Enter(true, epoch_, &guard, "SyncDir", dir));
  const std::string path = dir.empty() ? Describe() : Describe() + "/" + dir;
  LEDGER_RETURN_IF_ERROR(TakeFault(&sync_fault_, "fsync " + path));
  uint64_t before;
  {
    std::lock_guard<std::mutex> lock(mu_);
    before = next_seq_;
  }
  LEDGER_RETURN_IF_ERROR(base_->SyncDir(dir));
  std::lock_guard<std::mutex> lock(mu_);
  FolderSynced(dir, before);
  SettlePending({});
  return Status::Ok();
}

Status FaultInjectionStorage::Lock(const std::string& name, std::unique_ptr<StorageLock>* out) {
  std::shared_lock<std::shared_mutex> guard;
  LEDGER_RETURN_IF_ERROR(Enter(false, epoch_, &guard));
  std::unique_ptr<StorageLock> inner;
  LEDGER_RETURN_IF_ERROR(base_->Lock(name, &inner));
  auto handle = std::make_unique<LockHandle>(this, std::move(inner));
  {
    std::lock_guard<std::mutex> lock(mu_);
    locks_.insert(handle.get());
  }
  *out = std::move(handle);
  return Status::Ok();
}

}  // namespace ledger
