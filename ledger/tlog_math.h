// All tlog-tiles arithmetic in one place (after Go's sumdb/tlog): stored-hash coordinates, tiles,
// tree hashes, inclusion and consistency proofs and their verification. Pure functions over a
// HashReader, so the same code runs over memory, a store on disk, or a copied tile tree.
//
// Vocabulary: node (level h, index k) is the perfect subtree of 2^h leaves [k·2^h, (k+1)·2^h).
// Tiles have height 8: tile (L, N) holds, for i < width, node (8·L, N·256 + i).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "ledger/hash.h"
#include "ledger/status.h"

namespace ledger {

inline constexpr int kTileHeight = 8;
inline constexpr uint64_t kTileWidth = 256;
inline constexpr int kMaxTileLevel = 63;

// A tile of level `level`, index `index`, holding `width` hashes (1..256; 256 = full).
struct TileId {
  int level = 0;
  uint64_t index = 0;
  int width = 256;
  bool operator==(const TileId&) const = default;
};

// The rightmost tiles that a tree of `size` leaves publishes (full tiles included only if they
// were completed between old_size and size): what a writer must write when growing the tree from
// old_size to size. Ordered level 0 first, then by index.
std::vector<TileId> TilesToPublish(uint64_t old_size, uint64_t size);

// Width of tile (level, index) in a tree of `size` leaves: 256 if full, 0 if it does not exist yet.
int TileWidthAt(int level, uint64_t index, uint64_t size);

// Source of node hashes at tile levels: returns node (8·level, index) for a tree of `size`.
// Implementations read tiles (and should authenticate full tiles against their parents).
// The reader returns hashes at levels that are multiples of 8 only; TreeHash & proofs compute
// intermediate levels from them.
class HashReader {
 public:
  virtual ~HashReader() = default;
  // Returns the hashes at positions [begin, end) of tile level `level` (i.e. nodes
  // (8·level, begin..end)) in a tree of `tree_size`. Status explains what is missing.
  virtual Status ReadTileHashes(int level, uint64_t begin, uint64_t end, uint64_t tree_size,
                                std::vector<Hash>* out) = 0;
};

// Hash of node (height, index) in a tree of tree_size, computed from tile-level hashes.
// REQUIRES: the node is complete within tree_size.
Status NodeHashAt(HashReader& reader, int height, uint64_t index, uint64_t tree_size, Hash* out);

// Root hash (MTH) of the first `size` leaves. size 0 gives EmptyTreeHash().
Status TreeHash(HashReader& reader, uint64_t size, Hash* out);

// RFC 6962 audit path for leaf `index` in a tree of `size` (index < size), sibling first.
Status InclusionProof(HashReader& reader, uint64_t index, uint64_t size, std::vector<Hash>* out);
// RFC 6962 consistency proof from old_size to new_size (old_size <= new_size); empty if the
// sizes are equal or old_size is 0 (the tlog-witness "old 0" case).
Status ConsistencyProof(HashReader& reader, uint64_t old_size, uint64_t new_size,
                        std::vector<Hash>* out);

// Verification, independent of any reader.
bool VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t size,
                     const std::vector<Hash>& proof, const Hash& root);
bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                       const Hash& new_root, const std::vector<Hash>& proof);

// Root of an in-memory list of leaf hashes (reference implementation; used by tests & tools).
Hash RootFromLeaves(const std::vector<Hash>& leaves);

// The tree's right edge: the roots of the perfect subtrees that make up a tree of `size`
// (one per set bit, largest first). Appending a leaf updates it in O(log n); it is what a writer
// keeps in memory instead of the whole tree.
class CompactRange {
 public:
  CompactRange() = default;
  uint64_t size() const { return size_; }
  const std::vector<Hash>& peaks() const { return peaks_; }
  void Append(const Hash& leaf_hash);
  Hash Root() const;
  // Rebuild from stored tiles for a tree of `size`.
  static Status FromReader(HashReader& reader, uint64_t size, CompactRange* out);

 private:
  uint64_t size_ = 0;
  std::vector<Hash> peaks_;  // largest subtree first
};

// A HashReader over an in-memory vector of leaf hashes (tests, small tools).
class MemoryHashReader : public HashReader {
 public:
  explicit MemoryHashReader(std::vector<Hash> leaves) : leaves_(std::move(leaves)) {}
  Status ReadTileHashes(int level, uint64_t begin, uint64_t end, uint64_t tree_size,
                        std::vector<Hash>* out) override;

 private:
  std::vector<Hash> leaves_;
  // upper_[L-1] holds the level-L hashes of every complete 256^L-leaf run of leaves_, built on
  // first use so repeated proofs over one reader cost O(1) reads instead of re-hashing subtrees.
  std::vector<std::vector<Hash>> upper_;
};

// The 256 (or fewer) hashes of tile (level, index, width) over a HashReader-less source: builds
// the bytes of a tile from the hashes it holds (concatenation, 32 bytes each).
std::string TileBytes(const std::vector<Hash>& hashes);
Status ParseTileBytes(std::string_view bytes, int expected_width, std::vector<Hash>* out);

}  // namespace ledger
