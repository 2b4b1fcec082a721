// A tenant's store opened for serving, by the mount daemon and by `ledgerfs serve` alike: the
// storage, the log (which takes the store lock and recovers) and the record namespace rebuilt
// from it. One process holds it at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "ledger/log.h"
#include "ledger/record_index.h"
#include "ledger/status.h"
#include "ledger/storage.h"

namespace ledgerfs {

struct TenantStore {
  std::unique_ptr<ledger::Storage> storage;
  std::unique_ptr<ledger::Log> log;
  ledger::RecordIndex index;
  int64_t index_load_ms = 0;  // how long rebuilding the namespace took
};

// Opens `store` with the signing key (`key_flag`, or the default location for its origin).
// Busy if another process holds the store.
ledger::Status OpenTenantStore(const std::string& store, const std::string& key_flag,
                               int checkpoint_delay_ms, TenantStore* out);

}  // namespace ledgerfs
