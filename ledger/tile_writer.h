// TileWriter: the right edge of the published tree (the partial tile at each level and the
// partial entry bundle), and the files a growth of the tree must write. Pure computation: the
// caller writes the files it returns (full ones once, partial ones under their new width).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/storage.h"
#include "ledger/tlog_math.h"

namespace ledger {

struct TileFile {
  std::string path;  // "tile/0/000.p/5", "tile/entries/x001/234"
  std::string bytes;
  bool full = false;  // a full tile or bundle (its .p/ partials become redundant)
};

class TileWriter {
 public:
  // The right edge of a tree of `size` entries, read from the published tiles and bundle.
  static Status Load(Storage* storage, uint64_t size, TileWriter* out);

  uint64_t size() const { return range_.size(); }
  Hash Root() const { return range_.Root(); }

  // Adds the next entries; appends to *files every tile and bundle that changed (full ones that
  // completed, then the new right-edge partials). Entries must already be size-checked.
  void Extend(const std::vector<std::string_view>& entries, std::vector<TileFile>* files);

 private:
  void AddHash(size_t level, const Hash& h, std::vector<TileFile>* files);

  CompactRange range_;
  std::vector<std::vector<Hash>> levels_;  // right-edge tile hashes per level (< 256 each)
  std::string bundle_;                     // right-edge partial bundle bytes
  int bundle_count_ = 0;
};

}  // namespace ledger
