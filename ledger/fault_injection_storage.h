// FaultInjectionStorage: a Storage for crash and error tests. It forwards every call to a real
// Storage and remembers what the durability contract in storage.h says is durable, so that
// SimulateCrash() can roll the directory back to what a power cut would have left (LevelDB's
// db/fault_injection_test.cc idea). It can also crash at the n-th mutating call and inject
// errno failures into syncs and writes.
//
// The model (what survives SimulateCrash):
//  - PutIfAbsent / Replace that returned OK: kept. Their fsync of the folder also makes every
//    earlier pending Rename/Remove in that folder durable, as it does on POSIX.
//  - Writers (OpenAppendable, CreateStaged): truncated to the size at their last successful
//    Sync. Names made by OpenAppendable or CreateStaged are durable at once. A Truncate is
//    assumed to reach the disk (the removed bytes never come back); overwrites (WriteAt below
//    the synced size) are not undone.
//  - Rename / Remove: undone unless SyncDir (or a PutIfAbsent/Replace, or OpenAppendable
//    creating a file) completed afterwards on the folder of each side (to and from). An
//    undone Remove brings back the bytes that were durable; an undone Rename brings back any
//    object it replaced. When a later metadata change on the same name is durable, the earlier
//    ones are too (file systems commit metadata in order).
//  - RemoveTree: durable at once (it only removes derived data that can be rebuilt).
// With a seed, SimulateCrash keeps a random part of what was not durable (a random prefix of
// each unsynced tail, a random subset of pending renames/removes), modelling partial writeback.
//
// Thread-safe. Writers and locks from this storage must be destroyed before it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/storage.h"

namespace ledger {

class FaultInjectionStorage final : public Storage {
 public:
  explicit FaultInjectionStorage(std::unique_ptr<Storage> base);
  ~FaultInjectionStorage() override;

  Storage* base() { return base_.get(); }

  // --- crashes ---------------------------------------------------------------------------------
  // Rolls the store back to exactly what was durable; from then on every call (also on writers
  // made earlier) fails with kIoError "simulated crash", and locks taken here are released, as
  // when the process dies. Only the first crash rolls back.
  void SimulateCrash();
  // As SimulateCrash(), but keeps a random part (chosen by `seed`) of what was not durable.
  void SimulateCrash(uint64_t seed);
  // The n-th mutating call (1-based; 0 = never) crashes instead of running. Mutating calls:
  // PutIfAbsent, Replace, Remove, RemoveTree, OpenAppendable, CreateStaged, Rename, SyncDir and
  // writer Append, WriteAt, Truncate, Sync.
  void CrashAtOperation(uint64_t n);
  void CrashAtOperation(uint64_t n, uint64_t seed);  // crash as SimulateCrash(seed)
  // Mutating calls started since construction or ResetAfterCrash (the crashing one included).
  uint64_t operation_count() const { return op_count_.load(); }
  // Called as each mutating call starts (before a crash chosen for it), with its number, the
  // call ("Rename", "Sync", ...) and the object it names (a Rename: its destination; a writer's
  // call: the name the writer was opened with), on the calling thread. Crash tests use
  // it to say which operation a crash point is, and to check that a workload meant to be
  // deterministic makes the same calls in every run. Set it while no call is in flight.
  using OperationObserver =
      std::function<void(uint64_t n, std::string_view op, const std::string& name)>;
  void SetOperationObserver(OperationObserver observer) { observer_ = std::move(observer); }
  bool crashed() const { return crashed_.load(); }
  // Ok unless undoing something at the crash failed (then the first error).
  Status rollback_status() const;
  // Forgets all tracking and faults and accepts calls again, like a restarted process over the
  // same directory. Writers and locks from before stay dead.
  void ResetAfterCrash();

  // --- injected errors -------------------------------------------------------------------------
  // Writer Sync and SyncDir fail with FromErrno(err) (EIO: kIoError), on the next call only or
  // on every call until cleared. Nothing is made durable by a failed sync.
  void FailSyncWith(int err, bool only_next = false);
  void ClearSyncFailure();
  // Append, WriteAt, PutIfAbsent and Replace fail with FromErrno(err) (ENOSPC: kNoSpace) without
  // writing anything.
  void FailWritesWith(int err, bool only_next = false);
  void ClearWriteFailure();

  // --- Storage ---------------------------------------------------------------------------------
  std::string Describe() const override;
  Status PutIfAbsent(const std::string& name, std::string_view data) override;
  Status Replace(const std::string& name, std::string_view data) override;
  Status Read(const std::string& name, std::string* out) override;
  Status ReadAt(const std::string& name, uint64_t offset, size_t n, std::string* out) override;
  Status Size(const std::string& name, uint64_t* out) override;
  bool Exists(const std::string& name) override;
  Status List(const std::string& dir, std::vector<std::string>* names) override;
  Status Remove(const std::string& name) override;
  Status RemoveTree(const std::string& dir) override;
  Status OpenAppendable(const std::string& name, std::unique_ptr<StorageWriter>* out) override;
  Status CreateStaged(const std::string& dir, std::unique_ptr<StorageWriter>* out) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;
  Status Lock(const std::string& name, std::unique_ptr<StorageLock>* out) override;

 private:
  class Writer;
  class LockHandle;

  // What is durable of one object written through writers.
  struct FileState {
    std::string name;      // current name (follows renames)
    uint64_t durable = 0;  // bytes that survive a crash
  };
  // A Rename or Remove whose folders have not all been synced since.
  struct PendingOp {
    uint64_t seq = 0;  // order of completion
    bool is_rename = false;
    std::string from;  // Remove: the removed name
    std::string to;
    std::set<std::string> unsynced_dirs;
    std::optional<std::string> saved;  // durable bytes of the removed / replaced object
  };
  struct Fault {
    int err = 0;
    bool only_next = false;
  };

  // Counts a mutating call (`op` on `name`, for the observer), crashes on the chosen one, holds
  // off a crash while the call runs (via `guard`) and refuses calls after a crash or from an
  // earlier epoch.
  Status Enter(bool mutating, uint64_t epoch, std::shared_lock<std::shared_mutex>* guard,
               std::string_view op = {}, const std::string& name = {});
  void Crash(std::optional<uint64_t> seed);
  Status TakeFault(Fault* fault, const std::string& what);
  // PutIfAbsent and Replace: both write a whole object durably (`write` calls the base), which
  // also syncs its folder.
  Status WriteWhole(std::string_view op, const std::string& name,
                    const std::function<Status()>& write);
  // REQUIRES: mu_ held.
  void RollBack(std::optional<uint64_t> seed);
  void UndoOp(const PendingOp& op);
  void FolderSynced(const std::string& dir, uint64_t before_seq);
  void SettlePending(std::set<std::string> durable_names);
  void MoveState(const std::string& from, const std::string& to);
  void NoteRollbackError(const Status& s);

  const std::unique_ptr<Storage> base_;

  // Shared by every call in flight, exclusive while crashing or resetting.
  std::shared_mutex crash_mu_;
  std::atomic<bool> crashed_{false};
  std::atomic<bool> crash_pending_{false};  // set before crashing, so new calls stay out
  std::atomic<uint64_t> epoch_{0};          // bumped by ResetAfterCrash; older writers stay dead
  std::atomic<uint64_t> op_count_{0};
  std::atomic<uint64_t> crash_at_{0};
  std::atomic<bool> crash_partial_{false};
  std::atomic<uint64_t> crash_seed_{0};
  OperationObserver observer_;  // set while no call is in flight, so read without a lock

  mutable std::mutex mu_;  // guards everything below
  std::map<std::string, std::shared_ptr<FileState>> files_;
  std::vector<PendingOp> pending_;
  uint64_t next_seq_ = 1;
  Fault sync_fault_;
  Fault write_fault_;
  std::set<LockHandle*> locks_;
  Status rollback_status_;
};

}  // namespace ledger
