// Tile arithmetic, tree hashes and RFC 6962 proofs over tile-level hashes. Every hash that is not
// at a tile level (height % 8 != 0) is recomputed here from the tile-level hashes below it, so a
// HashReader only ever serves what tlog-tiles stores.
#include "ledger/tlog_math.h"

#include <algorithm>
#include <bit>
#include <string>

namespace ledger {

namespace {

// x >> bits without the undefined behaviour of shifting a uint64 by 64 or more.
uint64_t Shr(uint64_t x, unsigned bits) {
  return bits >= 64 ? 0 : x >> bits;
}

// Number of tile-level hashes at `level` in a tree of `size` leaves (complete nodes only).
uint64_t NodesAtLevel(int level, uint64_t size) {
  return Shr(size, static_cast<unsigned>(level) * kTileHeight);
}

// Largest power of two strictly less than n (n >= 2): where RFC 6962 splits a range of n leaves.
uint64_t SplitPoint(uint64_t n) {
  return std::bit_floor(n - 1);
}

// Folds 2^r hashes of consecutive siblings into the root of the perfect subtree above them.
void FoldPerfect(std::vector<Hash>* hashes) {
  while (hashes->size() > 1) {
    size_t half = hashes->size() / 2;
    for (size_t i = 0; i < half; ++i) {
      (*hashes)[i] = NodeHash((*hashes)[2 * i], (*hashes)[2 * i + 1]);
    }
    hashes->resize(half);
  }
}

// MTH of leaves [lo, hi) in a tree of tree_size. REQUIRES lo < hi and lo a multiple of the
// largest power of two <= hi - lo, which holds for every range an RFC 6962 proof names. The range
// splits into perfect subtrees, largest first; RFC 6962 hashes them right to left.
Status RangeHash(HashReader& reader, uint64_t lo, uint64_t hi, uint64_t tree_size, Hash* out) {
  if (lo >= hi)
    return Status::InvalidArgument("empty range [" + std::to_string(lo) + ", " +
                                   std::to_string(hi) + ")");
  std::vector<Hash> parts;
  uint64_t pos = lo;
  const uint64_t n = hi - lo;
  for (int b = 63; b >= 0; --b) {
    if (((n >> b) & 1) == 0) continue;
    if ((pos & ((uint64_t{1} << b) - 1)) != 0) {
      return Status::InvalidArgument("range [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                     ") is not aligned to its subtrees");
    }
    Hash h;
    LEDGER_RETURN_IF_ERROR(NodeHashAt(reader, b, pos >> b, tree_size, &h));
    parts.push_back(h);
    pos += uint64_t{1} << b;
  }
  Hash acc = parts.back();
  for (size_t i = parts.size() - 1; i-- > 0;) acc = NodeHash(parts[i], acc);
  *out = acc;
  return Status::Ok();
}

}  // namespace

int TileWidthAt(int level, uint64_t index, uint64_t size) {
  if (level < 0 || level > kMaxTileLevel) return 0;
  uint64_t nodes = NodesAtLevel(level, size);
  uint64_t full = nodes / kTileWidth;
  if (index < full) return static_cast<int>(kTileWidth);
  if (index == full) return static_cast<int>(nodes % kTileWidth);
  return 0;
}

std::vector<TileId> TilesToPublish(uint64_t old_size, uint64_t size) {
  std::vector<TileId> tiles;
  if (old_size >= size) return tiles;  // nothing grew
  for (int level = 0; level <= kMaxTileLevel; ++level) {
    uint64_t nodes = NodesAtLevel(level, size);
    if (nodes == 0) break;
    // Tiles left of the one holding the old right edge were already full at old_size.
    uint64_t first = NodesAtLevel(level, old_size) / kTileWidth;
    uint64_t last = nodes / kTileWidth;
    for (uint64_t n = first; n <= last; ++n) {
      int width = TileWidthAt(level, n, size);
      if (width == 0) continue;                                // not started yet
      if (width == TileWidthAt(level, n, old_size)) continue;  // same width => same bytes
      tiles.push_back(TileId{level, n, width});
    }
  }
  return tiles;
}

Status NodeHashAt(HashReader& reader, int height, uint64_t index, uint64_t tree_size, Hash* out) {
  if (height < 0 || height > 63) {
    return Status::InvalidArgument("node height " + std::to_string(height) + " out of range");
  }
  if (index >= Shr(tree_size, static_cast<unsigned>(height))) {
    return Status::InvalidArgument("node (" + std::to_string(height) + ", " +
                                   std::to_string(index) + ") is not complete in a tree of size " +
                                   std::to_string(tree_size));
  }
  const int level = height / kTileHeight;
  const unsigned rem = static_cast<unsigned>(height % kTileHeight);
  // Node (h, k) covers tile-level positions [k·2^r, (k+1)·2^r) at level floor(h/8), r = h mod 8.
  const uint64_t begin = index << rem;
  const uint64_t count = uint64_t{1} << rem;
  std::vector<Hash> hashes;
  LEDGER_RETURN_IF_ERROR(reader.ReadTileHashes(level, begin, begin + count, tree_size, &hashes));
  if (hashes.size() != count) {
    return Status::Corruption("reader returned " + std::to_string(hashes.size()) +
                              " hashes for level " + std::to_string(level) + " positions [" +
                              std::to_string(begin) + ", " + std::to_string(begin + count) + ")");
  }
  FoldPerfect(&hashes);
  *out = hashes[0];
  return Status::Ok();
}

Status TreeHash(HashReader& reader, uint64_t size, Hash* out) {
  if (size == 0) {
    *out = EmptyTreeHash();
    return Status::Ok();
  }
  return RangeHash(reader, 0, size, size, out);
}

Status InclusionProof(HashReader& reader, uint64_t index, uint64_t size, std::vector<Hash>* out) {
  if (index >= size) {
    return Status::InvalidArgument("leaf " + std::to_string(index) + " is not in a tree of size " +
                                   std::to_string(size));
  }
  // Walk RFC 6962 PATH top-down, recording the sibling range at each split; the proof lists them
  // bottom-up, so reverse at the end.
  std::vector<Hash> path;
  uint64_t lo = 0, hi = size;
  while (hi - lo > 1) {
    uint64_t k = SplitPoint(hi - lo);
    Hash sibling;
    if (index < lo + k) {
      LEDGER_RETURN_IF_ERROR(RangeHash(reader, lo + k, hi, size, &sibling));
      hi = lo + k;
    } else {
      LEDGER_RETURN_IF_ERROR(RangeHash(reader, lo, lo + k, size, &sibling));
      lo += k;
    }
    path.push_back(sibling);
  }
  std::reverse(path.begin(), path.end());
  *out = std::move(path);
  return Status::Ok();
}

Status ConsistencyProof(HashReader& reader, uint64_t old_size, uint64_t new_size,
                        std::vector<Hash>* out) {
  if (old_size > new_size) {
    return Status::InvalidArgument("old size " + std::to_string(old_size) + " > new size " +
                                   std::to_string(new_size));
  }
  std::vector<Hash> path;
  // Sizes 0 and equal sizes have the empty proof (RFC 9162 §2.1.4; tlog-witness "old 0").
  if (old_size == 0 || old_size == new_size) {
    out->clear();
    return Status::Ok();
  }
  // RFC 6962 SUBPROOF(m, D[lo:hi], b), unrolled top-down; reversed at the end like PATH.
  uint64_t m = old_size, lo = 0, hi = new_size;
  bool whole_old_tree = true;  // the "b" flag: is [lo, lo+m) the complete old tree?
  while (true) {
    uint64_t n = hi - lo;
    if (m == n) {
      if (!whole_old_tree) {
        Hash h;
        LEDGER_RETURN_IF_ERROR(RangeHash(reader, lo, hi, new_size, &h));
        path.push_back(h);
      }
      break;
    }
    uint64_t k = SplitPoint(n);
    Hash h;
    if (m <= k) {
      LEDGER_RETURN_IF_ERROR(RangeHash(reader, lo + k, hi, new_size, &h));
      hi = lo + k;
    } else {
      LEDGER_RETURN_IF_ERROR(RangeHash(reader, lo, lo + k, new_size, &h));
      lo += k;
      m -= k;
      whole_old_tree = false;
    }
    path.push_back(h);
  }
  std::reverse(path.begin(), path.end());
  *out = std::move(path);
  return Status::Ok();
}

bool VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t size,
                     const std::vector<Hash>& proof, const Hash& root) {
  // RFC 9162 §2.1.3.2. fn/sn walk the leaf's and the last leaf's positions up the tree; where
  // they meet on the right edge, a level has no right sibling and is skipped.
  if (index >= size) return false;
  uint64_t fn = index, sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return false;  // proof is longer than the path
    if ((fn & 1) == 1 || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                       const Hash& new_root, const std::vector<Hash>& proof) {
  if (old_size > new_size) return false;
  if (old_size == new_size) return proof.empty() && old_root == new_root;
  if (old_size == 0) return proof.empty() && old_root == EmptyTreeHash();
  if (proof.empty()) return false;
  // RFC 9162 §2.1.4.2: rebuild both roots from one walk. When the old tree is a perfect subtree
  // its root is not in the proof and is the starting point instead.
  std::vector<Hash> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(old_size)) path.push_back(old_root);
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = old_size - 1, sn = new_size - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && fr == old_root && sr == new_root;
}

Hash RootFromLeaves(const std::vector<Hash>& leaves) {
  CompactRange range;
  for (const Hash& leaf : leaves) range.Append(leaf);
  return range.Root();
}

void CompactRange::Append(const Hash& leaf_hash) {
  peaks_.push_back(leaf_hash);
  // Each trailing 1 bit of the old size is a peak of equal height to merge with.
  for (uint64_t s = size_; (s & 1) == 1; s >>= 1) {
    Hash right = peaks_.back();
    peaks_.pop_back();
    peaks_.back() = NodeHash(peaks_.back(), right);
  }
  ++size_;
}

Hash CompactRange::Root() const {
  if (peaks_.empty()) return EmptyTreeHash();
  Hash acc = peaks_.back();
  for (size_t i = peaks_.size() - 1; i-- > 0;) acc = NodeHash(peaks_[i], acc);
  return acc;
}

Status CompactRange::FromReader(HashReader& reader, uint64_t size, CompactRange* out) {
  CompactRange range;
  uint64_t pos = 0;
  for (int b = 63; b >= 0; --b) {
    if (((size >> b) & 1) == 0) continue;
    Hash h;
    LEDGER_RETURN_IF_ERROR(NodeHashAt(reader, b, pos >> b, size, &h));
    range.peaks_.push_back(h);
    pos += uint64_t{1} << b;
  }
  range.size_ = size;
  *out = std::move(range);
  return Status::Ok();
}

Status MemoryHashReader::ReadTileHashes(int level, uint64_t begin, uint64_t end, uint64_t tree_size,
                                        std::vector<Hash>* out) {
  if (level < 0 || level > kMaxTileLevel || begin > end) {
    return Status::InvalidArgument("bad hash request: level " + std::to_string(level) + " [" +
                                   std::to_string(begin) + ", " + std::to_string(end) + ")");
  }
  if (tree_size > leaves_.size()) {
    return Status::NotFound("tree size " + std::to_string(tree_size) + " exceeds the " +
                            std::to_string(leaves_.size()) + " leaves held in memory");
  }
  if (end > NodesAtLevel(level, tree_size)) {
    return Status::NotFound("level " + std::to_string(level) + " hash " + std::to_string(end - 1) +
                            " is not complete in a tree of size " + std::to_string(tree_size));
  }
  // Each level is 256-way folds of complete runs of the level below.
  while (static_cast<int>(upper_.size()) < level) {
    const std::vector<Hash>& below = upper_.empty() ? leaves_ : upper_.back();
    std::vector<Hash> next;
    next.reserve(below.size() / kTileWidth);
    for (size_t i = 0; i + kTileWidth <= below.size(); i += kTileWidth) {
      std::vector<Hash> run(below.begin() + static_cast<ptrdiff_t>(i),
                            below.begin() + static_cast<ptrdiff_t>(i + kTileWidth));
      FoldPerfect(&run);
      next.push_back(run[0]);
    }
    upper_.push_back(std::move(next));
  }
  const std::vector<Hash>& src = level == 0 ? leaves_ : upper_[static_cast<size_t>(level) - 1];
  out->assign(src.begin() + static_cast<ptrdiff_t>(begin),
              src.begin() + static_cast<ptrdiff_t>(end));
  return Status::Ok();
}

std::string TileBytes(const std::vector<Hash>& hashes) {
  std::string bytes;
  bytes.reserve(hashes.size() * sizeof(Hash));
  for (const Hash& h : hashes) bytes.append(HashBytes(h));
  return bytes;
}

Status ParseTileBytes(std::string_view bytes, int expected_width, std::vector<Hash>* out) {
  if (expected_width < 1 || expected_width > static_cast<int>(kTileWidth)) {
    return Status::InvalidArgument("tile width " + std::to_string(expected_width) +
                                   " outside 1..256");
  }
  const size_t want = static_cast<size_t>(expected_width) * sizeof(Hash);
  if (bytes.size() != want) {
    return Status::Corruption("tile holds " + std::to_string(bytes.size()) + " bytes, want " +
                              std::to_string(want) + " for width " +
                              std::to_string(expected_width));
  }
  std::vector<Hash> hashes(static_cast<size_t>(expected_width));
  for (size_t i = 0; i < hashes.size(); ++i) {
    std::copy_n(reinterpret_cast<const uint8_t*>(bytes.data()) + i * sizeof(Hash), sizeof(Hash),
                hashes[i].begin());
  }
  *out = std::move(hashes);
  return Status::Ok();
}

}  // namespace ledger
