#include "ledger/tile_writer.h"

#include "ledger/bundle.h"
#include "ledger/tile_path.h"
#include "ledger/tile_reader.h"

namespace ledger {

Status TileWriter::Load(Storage* storage, uint64_t size, TileWriter* out) {
  TileWriter w;
  StorageHashReader reader(storage);
  LEDGER_RETURN_IF_ERROR(CompactRange::FromReader(reader, size, &w.range_));
  // Level L holds size >> 8L hashes; its right-edge tile has (size >> 8L) % 256 of them.
  for (int level = 0; (size >> (kTileHeight * level)) > 0; ++level) {
    const uint64_t count = size >> (kTileHeight * level);
    const int width = static_cast<int>(count % kTileWidth);
    std::vector<Hash> hashes;
    if (width > 0)
      LEDGER_RETURN_IF_ERROR(reader.ReadTile(level, count / kTileWidth, width, &hashes));
    w.levels_.push_back(std::move(hashes));
  }
  const int bundle_width = static_cast<int>(size % kTileWidth);
  if (bundle_width > 0) {
    std::vector<std::string> entries;
    LEDGER_RETURN_IF_ERROR(ReadBundle(storage, size / kTileWidth, bundle_width, &entries));
    for (const std::string& e : entries) LEDGER_RETURN_IF_ERROR(AppendToBundle(e, &w.bundle_));
    w.bundle_count_ = bundle_width;
  }
  *out = std::move(w);
  return Status::Ok();
}

void TileWriter::AddHash(size_t level, const Hash& h, std::vector<TileFile>* files) {
  if (levels_.size() <= level) levels_.resize(level + 1);
  std::vector<Hash>& tile = levels_[level];
  tile.push_back(h);
  if (tile.size() < kTileWidth) return;
  // A full tile: published once, and its root is the next hash one level up.
  const uint64_t index = (range_.size() >> (kTileHeight * level)) / kTileWidth - 1;
  files->push_back(
      {HashTilePath(TileId{static_cast<int>(level), index, 256}), TileBytes(tile), true});
  const Hash root = RootFromLeaves(tile);
  tile.clear();
  AddHash(level + 1, root, files);
}

void TileWriter::Extend(const std::vector<std::string_view>& entries,
                        std::vector<TileFile>* files) {
  if (entries.empty()) return;
  for (std::string_view e : entries) {
    (void)AppendToBundle(e, &bundle_);  // size-checked by the caller (Log::Append)
    ++bundle_count_;
    const Hash leaf = LeafHash(e);
    range_.Append(leaf);
    if (bundle_count_ == static_cast<int>(kTileWidth)) {
      files->push_back({EntryBundlePath(range_.size() / kTileWidth - 1, 256), bundle_, true});
      bundle_.clear();
      bundle_count_ = 0;
    }
    AddHash(0, leaf, files);
  }
  // The new right edge: every non-empty partial is at a new width after growth, except at levels
  // whose hash count did not change.
  const uint64_t old_size = range_.size() - entries.size();
  if (bundle_count_ > 0) {
    files->push_back({EntryBundlePath(range_.size() / kTileWidth, bundle_count_), bundle_, false});
  }
  for (size_t level = 0; level < levels_.size(); ++level) {
    const int shift = kTileHeight * static_cast<int>(level);
    if ((old_size >> shift) == (range_.size() >> shift)) continue;
    const std::vector<Hash>& tile = levels_[level];
    if (tile.empty()) continue;
    const uint64_t index = (range_.size() >> shift) / kTileWidth;
    files->push_back(
        {HashTilePath(TileId{static_cast<int>(level), index, static_cast<int>(tile.size())}),
         TileBytes(tile), false});
  }
}

}  // namespace ledger
