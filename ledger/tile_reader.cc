#include "ledger/tile_reader.h"

#include <algorithm>

#include "ledger/bundle.h"
#include "ledger/tile_path.h"

namespace ledger {
namespace {
constexpr size_t kCachedTiles = 64;
}

// A tile of `width` hashes that was never published at that width (the publisher batched past
// it) or was pruned: the hashes are the prefix of any wider version, full or partial, since a
// tile's hashes are of complete subtrees and never change. True if one was read into *bytes.
bool StorageHashReader::ReadWiderTile(int level, uint64_t index, int width, std::string* bytes) {
  const std::string full = HashTilePath(TileId{level, index, static_cast<int>(kTileWidth)});
  if (storage_->Read(full, bytes).ok()) return true;
  const std::string partial = HashTilePath(TileId{level, index, width});
  const std::string dir = partial.substr(0, partial.rfind('/'));  // "tile/0/000.p"
  std::vector<std::string> names;
  if (!storage_->List(dir, &names).ok()) return false;
  int best = 0;
  for (const std::string& name : names) {
    auto parsed = ParseTilePath(dir + "/" + name);
    if (parsed && !parsed->entries && parsed->tile.width > width &&
        (best == 0 || parsed->tile.width < best)) {
      best = parsed->tile.width;
    }
  }
  return best != 0 && storage_->Read(HashTilePath(TileId{level, index, best}), bytes).ok() &&
         bytes->size() >= static_cast<size_t>(width) * sizeof(Hash);
}

Status StorageHashReader::ReadTile(int level, uint64_t index, int width, std::vector<Hash>* out) {
  const std::string path = HashTilePath(TileId{level, index, width});
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = cache_.begin(); it != cache_.end(); ++it) {
      if (it->first == path) {
        *out = it->second;
        cache_.splice(cache_.begin(), cache_, it);
        return Status::Ok();
      }
    }
  }
  std::string bytes;
  Status st = storage_->Read(path, &bytes);
  if (st.code() == Status::Code::kNotFound && width < static_cast<int>(kTileWidth) &&
      ReadWiderTile(level, index, width, &bytes)) {
    bytes.resize(static_cast<size_t>(width) * sizeof(Hash));
    st = Status::Ok();
  }
  LEDGER_RETURN_IF_ERROR(st.WithContext(path));
  LEDGER_RETURN_IF_ERROR(ParseTileBytes(bytes, width, out).WithContext(path));
  std::lock_guard<std::mutex> l(mu_);
  cache_.emplace_front(path, *out);
  if (cache_.size() > kCachedTiles) cache_.pop_back();
  return Status::Ok();
}

Status StorageHashReader::ReadTileHashes(int level, uint64_t begin, uint64_t end,
                                         uint64_t tree_size, std::vector<Hash>* out) {
  out->clear();
  std::vector<Hash> tile;
  for (uint64_t pos = begin; pos < end;) {
    const uint64_t index = pos / kTileWidth;
    const int width = TileWidthAt(level, index, tree_size);
    if (width == 0) {
      return Status::NotFound("tile " + std::to_string(level) + "/" + std::to_string(index) +
                              " does not exist at tree size " + std::to_string(tree_size));
    }
    LEDGER_RETURN_IF_ERROR(ReadTile(level, index, width, &tile));
    const uint64_t tile_start = index * kTileWidth;
    const uint64_t stop = std::min(end, tile_start + static_cast<uint64_t>(width));
    if (stop <= pos) {
      return Status::NotFound("hash " + std::to_string(pos) + " at tile level " +
                              std::to_string(level) + " is beyond tree size " +
                              std::to_string(tree_size));
    }
    for (; pos < stop; ++pos) out->push_back(tile[pos - tile_start]);
  }
  return Status::Ok();
}

Status ReadBundle(Storage* storage, uint64_t index, int width, std::vector<std::string>* entries) {
  const std::string path = EntryBundlePath(index, width);
  std::string bytes;
  Status st = storage->Read(path, &bytes);
  bool from_full = false;
  if (st.code() == Status::Code::kNotFound && width < static_cast<int>(kTileWidth)) {
    st = storage->Read(EntryBundlePath(index, static_cast<int>(kTileWidth)), &bytes);
    from_full = st.ok();
  }
  LEDGER_RETURN_IF_ERROR(st.WithContext(path));
  LEDGER_RETURN_IF_ERROR(ParseBundle(bytes, entries).WithContext(path));
  if (from_full && entries->size() >= static_cast<size_t>(width)) entries->resize(width);
  if (entries->size() != static_cast<size_t>(width)) {
    return Status::Corruption(path + ": holds " + std::to_string(entries->size()) +
                              " entries, expected " + std::to_string(width));
  }
  return Status::Ok();
}

Status ReadPublishedEntries(Storage* storage, uint64_t size, uint64_t begin, uint64_t end,
                            std::vector<std::string>* entries) {
  std::vector<std::string> bundle;
  for (uint64_t i = begin; i < end;) {
    const uint64_t b = i / kTileWidth;
    const uint64_t first = b * kTileWidth;
    const int width = static_cast<int>(std::min<uint64_t>(kTileWidth, size - first));
    LEDGER_RETURN_IF_ERROR(ReadBundle(storage, b, width, &bundle));
    for (; i < std::min<uint64_t>(end, first + width); ++i) {
      entries->push_back(std::move(bundle[i - first]));
    }
  }
  return Status::Ok();
}

}  // namespace ledger
