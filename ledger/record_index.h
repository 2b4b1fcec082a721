// The namespace of a tenant's records: path -> record, each path at most once. Both access
// layers (the inbox of the mount, the HTTP API) create records only through it, so a name is
// reserved before its content is written and two writers can never seal the same path.
//
// The index is rebuilt from the log when a store is opened (every committed manifest, oldest
// first) and kept in memory; a record's content is found again through its digest. Folders a
// path implies but no directory record names ("a" for a record "a/b" made by `ledgerfs append`)
// exist as implicit folders.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/hash.h"
#include "ledger/log.h"
#include "ledger/records.h"
#include "ledger/status.h"

namespace ledger {

class RecordIndex {
 public:
  using NodeId = uint64_t;
  static constexpr NodeId kRoot = 1;  // the namespace's top folder ("")

  // What one name is, as of the call.
  struct Entry {
    NodeId id = 0;
    bool directory = false;
    bool sealed = false;      // false while reserved by a writer that has not committed yet
    uint64_t size = 0;        // files: bytes
    uint64_t index = 0;       // sealed files and recorded folders: the log index
    bool recorded = false;    // a log entry stands for it (false for the root and implicit folders)
    Hash sha256{};            // sealed files
    int64_t received_ms = 0;  // sealed records: the manifest's time, ms since the epoch
  };

  RecordIndex();
  ~RecordIndex();
  RecordIndex(const RecordIndex&) = delete;
  RecordIndex& operator=(const RecordIndex&) = delete;

  // Adds every record committed in `log` (ReadSince from 0). A path seen again, or a path that
  // clashes with a file where a folder is needed, keeps the first record; the others are
  // counted in duplicates() and logged.
  Status Load(Log* log);

  bool Get(NodeId id, Entry* out) const;
  bool Lookup(NodeId parent, std::string_view name, Entry* out) const;
  // The name at record path `path` ("a/b/c"), walking from the root.
  bool LookupPath(std::string_view path, Entry* out) const;
  // Children of folder `dir`, sorted by name. NotFound if `dir` is not a folder.
  Status List(NodeId dir, std::vector<std::pair<std::string, Entry>>* out) const;
  // The record path of `id` ("a/b"), "" for the root.
  std::string PathOf(NodeId id) const;

  // Takes the name `name` in folder `parent` for a writer (a file or a folder not yet
  // committed). AlreadyExists if the name exists (sealed or reserved), NotFound if `parent` is not
  // a folder, InvalidArgument if the resulting path breaks ValidateRecordPath. *path is the
  // record path to commit under.
  Status Reserve(NodeId parent, std::string_view name, bool directory, NodeId* id,
                 std::string* path);
  // Takes the whole record path `path` ("a/b/c", as the HTTP API names records) for a file
  // writer, making the folders it implies as implicit folders where they do not exist.
  // AlreadyExists if the path is taken or a file stands where it needs a folder, InvalidArgument
  // if it breaks ValidateRecordPath.
  Status ReservePath(std::string_view path, NodeId* id);
  // The reservation became record `info` (committed). Files: size/digest/time/index; folders:
  // index/time.
  void Seal(NodeId id, const RecordInfo& info);
  // The reservation made no record: the name is free again, and implicit folders left empty by
  // it (made by ReservePath) go too.
  void Unreserve(NodeId id);
  // Records a committed record that was not reserved (tests, the HTTP layer's imports); false if
  // the path is taken.
  bool AddCommitted(const RecordInfo& info);

  uint64_t size() const;        // names held (files and folders, sealed or not)
  uint64_t duplicates() const;  // records Load skipped because their path was taken

 private:
  struct Node;
  Node* Find(NodeId id) const;
  Node* NewNode(Node* parent, std::string name, bool directory);
  bool AddLocked(const RecordInfo& info);
  static Entry EntryOf(const Node& n);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Node>> nodes_;  // by id - kRoot; null once unreserved
  uint64_t live_nodes_ = 0;
  uint64_t duplicates_ = 0;
};

// Milliseconds since the epoch of a manifest time ("2026-11-25T21:54:35.123Z"); 0 if malformed.
int64_t ParseReceivedMs(std::string_view rfc3339);

}  // namespace ledger
