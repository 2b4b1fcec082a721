// The HTTP listener as the CLI configures it, shared by `ledgerfs serve` and `ledgerfs mount
// --listen` (docs/http.md): the options, their parsing, and starting the API on a TenantStore.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "CLI/CLI.hpp"
#include "http/http_server.h"
#include "http/tenant_api.h"
#include "ledger/status.h"
#include "mount/tenant_store.h"

namespace ledgerfs {

struct HttpListenOptions {
  std::string listen;  // empty: no listener (the mount without --listen)
  std::string max_body = "64G";
  size_t threads = 64;  // at least the clients expected at once: a keep-alive client holds one
};

// --listen (required for `serve`), --max-body and --threads on a subcommand.
void AddHttpListenOptions(CLI::App* app, HttpListenOptions* o, bool listen_required);

// "4096", "10K", "64M", "2G", "1T" (powers of 1024). InvalidArgument otherwise.
ledger::Status ParseByteSize(std::string_view text, uint64_t* out);

// A running listener and the API it serves; stop the server before the API goes.
struct HttpListener {
  std::unique_ptr<http::TenantApi> api;
  std::unique_ptr<http::HttpServer> server;
};

// Checks the options and starts serving `store` for `tenant`. A busy address fails here
// (Failed, naming the address and the reason).
ledger::Status StartHttpListener(const HttpListenOptions& o, const std::string& tenant,
                                 int checkpoint_delay_ms, TenantStore* store, HttpListener* out);

}  // namespace ledgerfs
