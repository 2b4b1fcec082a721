#include "mount/tenant_store.h"

#include <chrono>

#include "ledger/posix_storage.h"
#include "mount/key_file.h"

namespace ledgerfs {

ledger::Status OpenTenantStore(const std::string& store, const std::string& key_flag,
                               int checkpoint_delay_ms, TenantStore* out) {
  LEDGER_RETURN_IF_ERROR(ledger::OpenPosixStorage(store, /*create=*/false, &out->storage));
  ledger::NoteSigner signer;
  LEDGER_RETURN_IF_ERROR(LoadStoreSigner(out->storage.get(), key_flag, &signer));
  ledger::LogOptions options;
  options.checkpoint_delay = std::chrono::milliseconds(checkpoint_delay_ms);
  LEDGER_RETURN_IF_ERROR(ledger::Log::Open(out->storage.get(), signer, options, &out->log));
  const auto start = std::chrono::steady_clock::now();
  LEDGER_RETURN_IF_ERROR(out->index.Load(out->log.get()).WithContext("reading the records"));
  out->index_load_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - start)
                           .count();
  return ledger::Status::Ok();
}

}  // namespace ledgerfs
