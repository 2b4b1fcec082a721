// Layer 1: the storage primitives the log is built on, in the spirit of LevelDB's Env. The log
// never calls POSIX directly; it speaks in objects named by '/'-separated relative names
// ("tile/0/000", ".ledger/wal/…"). PosixStorage implements this on a directory; a distributed
// object store (RADOS, S3 with Object Lock) can implement the same calls, and tests wrap it to
// inject faults and crashes (FaultInjectionStorage).
//
// Durability contract (what "durable" means: survives a power cut once the call returns):
//  - PutIfAbsent / Replace: durable and atomic on return (readers see the old bytes or the new,
//    never a torn object).
//  - Writer::Append is not durable; Writer::Sync makes all bytes appended so far durable.
//    A staged object's *name* is durable from the moment CreateStaged returns.
//  - Rename is atomic but its durability needs SyncDir on the destination's folder.
//  - Any failed Sync is fatal for the caller: the bytes may or may not be on disk.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/status.h"

namespace ledger {

// An object being written as a stream: the commit log, or a staged record content.
class StorageWriter {
 public:
  virtual ~StorageWriter() = default;
  virtual const std::string& name() const = 0;
  virtual uint64_t size() const = 0;  // bytes appended so far (including pre-existing bytes)
  virtual Status Append(std::string_view data) = 0;
  // Write `data` at `offset` (offset <= size()); for writers that receive data out of order.
  virtual Status WriteAt(uint64_t offset, std::string_view data) = 0;
  virtual Status Truncate(uint64_t size) = 0;
  virtual Status Sync() = 0;   // everything written so far is durable under name()
  virtual Status Close() = 0;  // does not imply Sync
};

// Held while a process owns a store; released on destruction.
class StorageLock {
 public:
  virtual ~StorageLock() = default;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // A human-readable name for messages ("/var/lib/ledger/acme").
  virtual std::string Describe() const = 0;

  // --- whole objects ---------------------------------------------------------------------------
  // Creates `name` with `data` unless it exists (then AlreadyExists; the bytes are not compared).
  // Folders are created as needed. Durable on return.
  virtual Status PutIfAbsent(const std::string& name, std::string_view data) = 0;
  // Creates or atomically replaces `name`. Durable on return.
  virtual Status Replace(const std::string& name, std::string_view data) = 0;
  virtual Status Read(const std::string& name, std::string* out) = 0;
  // Up to n bytes from offset; fewer only at the end of the object.
  virtual Status ReadAt(const std::string& name, uint64_t offset, size_t n, std::string* out) = 0;
  virtual Status Size(const std::string& name, uint64_t* out) = 0;  // NotFound if absent
  virtual bool Exists(const std::string& name) = 0;
  // Immediate children of folder `dir` ("" is the root): names only, sorted, files and folders.
  virtual Status List(const std::string& dir, std::vector<std::string>* names) = 0;
  virtual Status Remove(const std::string& name) = 0;  // NotFound if absent
  // Removes an empty folder or a folder tree of derived data (partial tiles); NotFound if absent.
  virtual Status RemoveTree(const std::string& dir) = 0;

  // --- streams ---------------------------------------------------------------------------------
  // Opens `name` for appending, creating it (and making its name durable) if absent.
  virtual Status OpenAppendable(const std::string& name, std::unique_ptr<StorageWriter>* out) = 0;
  // A new object with a fresh unique name under `dir` whose *name* is already durable, so one
  // Sync makes its content durable. (POSIX keeps a pool of pre-created files so this costs no
  // fsync on the caller's path.)
  virtual Status CreateStaged(const std::string& dir, std::unique_ptr<StorageWriter>* out) = 0;
  // Atomically moves `from` to `to` (creating folders of `to` as needed). If `to` exists it is
  // replaced. Not durable until SyncDir(folder of to) (and of from).
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status SyncDir(const std::string& dir) = 0;

  // --- exclusion -------------------------------------------------------------------------------
  // Takes an exclusive, process-wide lock named `name`; Busy (naming the store) if another
  // process holds it.
  virtual Status Lock(const std::string& name, std::unique_ptr<StorageLock>* out) = 0;
};

// Returns the folder part of an object name ("tile/0/000" -> "tile/0"; "checkpoint" -> "").
std::string ParentOf(const std::string& name);

}  // namespace ledger
