// StorageHashReader: the HashReader over a tile tree in a Storage (a store, a mount, a copy).
// Reads tile/<L>/<N> or its right-edge partial tile/<L>/<N>.p/<W> for the tree size asked, and
// keeps a few recently read tiles. It does not authenticate: callers compare the root it yields
// with a verified checkpoint (the verifier recomputes everything instead).
#pragma once

#include <list>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "ledger/storage.h"
#include "ledger/tlog_math.h"

namespace ledger {

class StorageHashReader : public HashReader {
 public:
  explicit StorageHashReader(Storage* storage) : storage_(storage) {}
  Status ReadTileHashes(int level, uint64_t begin, uint64_t end, uint64_t tree_size,
                        std::vector<Hash>* out) override;
  // The hashes of tile (level, index) at `width`: from the .p/<width> file, or from a prefix of
  // the full tile once that exists (partials may be removed after the full tile is published).
  Status ReadTile(int level, uint64_t index, int width, std::vector<Hash>* out);

 private:
  bool ReadWiderTile(int level, uint64_t index, int width, std::string* bytes);

  Storage* storage_;
  std::mutex mu_;
  std::list<std::pair<std::string, std::vector<Hash>>> cache_;  // most recent first
};

// Reads bundle `index` as published at `width` entries (the .p/<width> file, or a prefix of the
// full bundle once that exists) and returns its entries.
Status ReadBundle(Storage* storage, uint64_t index, int width, std::vector<std::string>* entries);

// Appends entries [begin, end) of a tree of `size` published entries to *entries, reading each
// bundle once. REQUIRES: begin <= end <= size.
Status ReadPublishedEntries(Storage* storage, uint64_t size, uint64_t begin, uint64_t end,
                            std::vector<std::string>* entries);

}  // namespace ledger
