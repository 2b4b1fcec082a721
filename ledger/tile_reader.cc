#include "ledger/tile_reader.h"

#include <algorithm>

#include "ledger/bundle.h"
#include "ledger/tile_path.h"

namespace ledger {
namespace {
constexpr size_t kCachedTiles = 64;
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
  if (st.code() == Status::Code::kNotFound && width < static_cast<int>(kTileWidth)) {
    // The partial may have been pruned after the full tile was published: use its prefix.
    const std::string full = HashTilePath(TileId{level, index, static_cast<int>(kTileWidth)});
    if (storage_->Read(full, &bytes).ok()) {
      bytes.resize(static_cast<size_t>(width) * 32);
      st = Status::Ok();
    }
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
