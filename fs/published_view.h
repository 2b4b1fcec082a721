// The mount's read-only view of the store's published files: `checkpoint` and the `tile/` tree
// (C2SP tlog-tiles), read through the Storage interface. Every name gets a stable id for the
// life of the daemon (the FUSE layer turns ids into inode numbers). Full tiles, bundles and
// partial tiles (unique `.p/<W>` names) never change once written; `checkpoint` is replaced
// atomically, so an open reads one whole snapshot of it.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "fs/handle.h"
#include "ledger/storage.h"

namespace fs {

class PublishedView {
 public:
  static constexpr uint64_t kCheckpointId = 1;
  static constexpr uint64_t kTileDirId = 2;

  struct Attr {
    bool directory = false;
    uint64_t size = 0;
    bool changes = false;  // the checkpoint: never cache its size or content
  };

  explicit PublishedView(ledger::Storage* storage);

  // `name` in folder `parent` (kTileDirId or a folder id). ENOENT if absent.
  int Lookup(uint64_t parent, std::string_view name, uint64_t* id, Attr* attr);
  int GetAttr(uint64_t id, Attr* attr);
  // Children of folder `dir`: (name, id, is folder).
  struct Child {
    std::string name;
    uint64_t id;
    bool directory;
  };
  int List(uint64_t dir, std::vector<Child>* out);
  // A handle for reading file `id` (the checkpoint is read whole, now).
  int Open(uint64_t id, Handle** out);

 private:
  std::string NameOf(uint64_t id);
  uint64_t IdFor(const std::string& name);
  int Stat(const std::string& name, Attr* attr);

  ledger::Storage* const storage_;
  std::mutex mu_;
  std::vector<std::string> names_;  // id - 1 -> storage name
  std::unordered_map<std::string, uint64_t> ids_;
};

}  // namespace fs
