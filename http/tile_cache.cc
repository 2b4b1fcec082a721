#include "http/tile_cache.h"

#include <vector>

#include "ledger/bundle.h"
#include "ledger/hash.h"

namespace http {

TileCache::TileCache(ledger::Storage* storage, size_t max_bytes)
    : storage_(storage), max_bytes_(max_bytes) {}

ledger::Status TileCache::Get(const std::string& name, const ledger::ParsedTilePath& tile,
                              std::shared_ptr<const CachedTile>* out) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_name_.find(name);
    if (it != by_name_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      *out = it->second->second;
      return ledger::Status::Ok();
    }
  }
  // Read outside the lock; two readers of the same missing tile both read it, harmlessly.
  auto loaded = std::make_shared<CachedTile>();
  LEDGER_RETURN_IF_ERROR(Load(name, tile, &loaded->bytes));
  loaded->etag = "\"" + ledger::HashToHex(ledger::Sha256(loaded->bytes)) + "\"";
  *out = loaded;

  std::lock_guard<std::mutex> lock(mu_);
  if (by_name_.count(name) != 0 || loaded->bytes.size() > max_bytes_) return ledger::Status::Ok();
  lru_.emplace_front(name, loaded);
  by_name_[name] = lru_.begin();
  bytes_ += loaded->bytes.size();
  while (bytes_ > max_bytes_) {
    bytes_ -= lru_.back().second->bytes.size();
    by_name_.erase(lru_.back().first);
    lru_.pop_back();
  }
  return ledger::Status::Ok();
}

ledger::Status TileCache::Load(const std::string& name, const ledger::ParsedTilePath& tile,
                               std::string* bytes) {
  ledger::Status st = storage_->Read(name, bytes);
  if (st.code() != ledger::Status::Code::kNotFound ||
      tile.tile.width == static_cast<int>(ledger::kTileWidth))
    return st;
  // A partial tile the publisher pruned: take the prefix of the full tile.
  ledger::ParsedTilePath full = tile;
  full.tile.width = static_cast<int>(ledger::kTileWidth);
  const std::string full_name = tile.entries
                                    ? ledger::EntryBundlePath(tile.tile.index, full.tile.width)
                                    : ledger::HashTilePath(full.tile);
  std::string full_bytes;
  ledger::Status full_st = storage_->Read(full_name, &full_bytes);
  if (full_st.code() == ledger::Status::Code::kNotFound) return st;  // not published at all
  LEDGER_RETURN_IF_ERROR(full_st);
  const size_t width = static_cast<size_t>(tile.tile.width);
  if (!tile.entries) {
    if (full_bytes.size() < width * sizeof(ledger::Hash)) {
      return ledger::Status::Corruption(full_name + ": shorter than " + std::to_string(width) +
                                        " hashes");
    }
    *bytes = full_bytes.substr(0, width * sizeof(ledger::Hash));
    return ledger::Status::Ok();
  }
  std::vector<std::string_view> entries;
  LEDGER_RETURN_IF_ERROR(ledger::SplitBundle(full_bytes, &entries).WithContext(full_name));
  if (entries.size() < width) {
    return ledger::Status::Corruption(full_name + ": fewer than " + std::to_string(width) +
                                      " entries");
  }
  // Entries are views into full_bytes, in order: the partial ends where entry W-1 ends.
  const std::string_view last = entries[width - 1];
  *bytes = full_bytes.substr(0, static_cast<size_t>(last.data() + last.size() - full_bytes.data()));
  return ledger::Status::Ok();
}

}  // namespace http
