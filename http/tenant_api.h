// The HTTP API of one tenant (layer 3, PRODUCT §6, docs/http.md) over the core API: the C2SP
// tlog-tiles read path from the published tree, POST /records/<path> as the core append through
// the shared record namespace (the same RecordIndex the mount's inbox uses, so a name is taken
// once whichever way it arrives), read_since as JSON pages, records by name, and proofs.
//
// Every request is checked first: X-Module-ID must name this tenant (400 missing or malformed,
// 403 another tenant) before anything of the tenant is read or written; then the route (404),
// the method (405) and the input (400, 413). Every refusal is a JSON body {"error", "status"}
// and is logged with the remote address.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "ledger/log.h"
#include "ledger/record_index.h"
#include "ledger/storage.h"

namespace httplib {
class Server;
}

namespace http {

struct TenantApiConfig {
  std::string tenant;
  // Largest record body accepted (413 above it).
  uint64_t max_body = 64ull << 30;
  // GET /records: default and largest page.
  size_t default_page = 100;
  size_t max_page = 1000;
  // How long a proof request for a committed entry waits for a checkpoint that covers it.
  std::chrono::milliseconds proof_wait{3000};
  // Full tiles and bundles kept in memory for GET (they never change).
  size_t tile_cache_bytes = 32u << 20;
};

class TenantApi {
 public:
  // The pointers must outlive the API (and the server it is installed in).
  TenantApi(ledger::Log* log, ledger::Storage* storage, ledger::RecordIndex* index,
            TenantApiConfig config);
  ~TenantApi();
  TenantApi(const TenantApi&) = delete;
  TenantApi& operator=(const TenantApi&) = delete;

  // Installs the handlers; the server must not have others.
  void Install(httplib::Server* server);

  const TenantApiConfig& config() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace http
