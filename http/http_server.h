// Runs a TenantApi on a listening socket in its own threads (cpp-httplib's thread pool), so the
// CLI's `serve` and the mount daemon (`mount --listen`) start and stop it the same way.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "http/listen_address.h"
#include "http/tenant_api.h"
#include "ledger/status.h"

namespace http {

struct HttpServerOptions {
  size_t threads = 64;  // concurrent connections served (keep-alive holds a thread)
  std::chrono::seconds read_timeout{60};
  std::chrono::seconds write_timeout{60};
  std::chrono::seconds keep_alive_timeout{5};
  size_t keep_alive_max_requests = 1000;
};

class HttpServer {
 public:
  // Binds `address` (so a busy port fails here, before any thread starts serving) and serves
  // `api` from a background thread. *out is running on return.
  static ledger::Status Start(const ListenAddress& address, const HttpServerOptions& options,
                              TenantApi* api, std::unique_ptr<HttpServer>* out);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Stops accepting, finishes the requests in flight, joins the threads. Idempotent.
  void Stop();
  // The address served, with the real port when 0 was asked for ("127.0.0.1:41234").
  const std::string& address() const;

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace http
