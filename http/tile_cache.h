// Published tiles and bundles for the HTTP read path. A tile's bytes never change once written
// (a full tile is final; a partial `.p/<W>` name is unique to its width), so each one is read
// from storage once, kept in a bounded LRU cache with its ETag, and served from memory after.
// A partial that the publisher has replaced by its full tile is rebuilt from the full tile's
// prefix: the first W hashes, or the first W entries, which is exactly what the partial held.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "ledger/status.h"
#include "ledger/storage.h"
#include "ledger/tile_path.h"

namespace http {

struct CachedTile {
  std::string bytes;
  std::string etag;  // "\"<sha256 hex>\"" (quoted, strong)
};

class TileCache {
 public:
  TileCache(ledger::Storage* storage, size_t max_bytes);

  // The tile `name` ("tile/0/000.p/7", parsed as `tile`). NotFound if it is not published.
  ledger::Status Get(const std::string& name, const ledger::ParsedTilePath& tile,
                     std::shared_ptr<const CachedTile>* out);

 private:
  ledger::Status Load(const std::string& name, const ledger::ParsedTilePath& tile,
                      std::string* bytes);

  ledger::Storage* const storage_;
  const size_t max_bytes_;
  std::mutex mu_;
  using Lru = std::list<std::pair<std::string, std::shared_ptr<const CachedTile>>>;
  Lru lru_;  // most recently used first
  std::unordered_map<std::string, Lru::iterator> by_name_;
  size_t bytes_ = 0;
};

}  // namespace http
