#include "mount/http_listener.h"

#include <algorithm>
#include <chrono>

#include "http/request_parse.h"

namespace ledgerfs {

void AddHttpListenOptions(CLI::App* app, HttpListenOptions* o, bool listen_required) {
  auto* listen = app->add_option(
      "--listen", o->listen,
      "Serve the HTTP API on PORT, HOST:PORT, [IPv6]:PORT or unix:/PATH (docs/http.md)");
  if (listen_required) listen->required();
  app->add_option("--max-body", o->max_body,
                  "Largest record accepted over HTTP (K, M, G, T suffixes)")
      ->capture_default_str();
  app->add_option("--threads", o->threads, "HTTP connections served at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
}

ledger::Status ParseByteSize(std::string_view text, uint64_t* out) {
  auto bad = [&] {
    return ledger::Status::InvalidArgument("\"" + std::string(text) +
                                           "\" is not a size (a number, optionally with K, M, G "
                                           "or T)");
  };
  int shift = 0;
  if (!text.empty()) {
    switch (text.back()) {
      case 'K':
      case 'k':
        shift = 10;
        break;
      case 'M':
      case 'm':
        shift = 20;
        break;
      case 'G':
      case 'g':
        shift = 30;
        break;
      case 'T':
      case 't':
        shift = 40;
        break;
      default:
        break;
    }
  }
  if (shift != 0) text.remove_suffix(1);
  uint64_t n = 0;
  if (!http::ParseDecimal(text, &n) || n > (UINT64_MAX >> shift)) return bad();
  *out = n << shift;
  return ledger::Status::Ok();
}

ledger::Status StartHttpListener(const HttpListenOptions& o, const std::string& tenant,
                                 int checkpoint_delay_ms, TenantStore* store, HttpListener* out) {
  http::ListenAddress address;
  LEDGER_RETURN_IF_ERROR(http::ParseListenAddress(o.listen, &address));
  http::TenantApiConfig config;
  config.tenant = tenant;
  LEDGER_RETURN_IF_ERROR(ParseByteSize(o.max_body, &config.max_body).WithContext("--max-body"));
  // A proof for a fresh record waits for the checkpoint that covers it: one delay and a margin.
  // A proof for a fresh record waits for the checkpoint that covers it: one delay and a margin,
  // but never so long that a client's request times out.
  config.proof_wait = std::min<std::chrono::milliseconds>(
      std::chrono::milliseconds(checkpoint_delay_ms) + std::chrono::seconds(2),
      std::chrono::seconds(5));
  out->api = std::make_unique<http::TenantApi>(store->log.get(), store->storage.get(),
                                               &store->index, config);
  http::HttpServerOptions options;
  options.threads = o.threads;
  ledger::Status st = http::HttpServer::Start(address, options, out->api.get(), &out->server);
  if (!st.ok()) return ledger::Status::Failed(st.message());
  return st;
}

}  // namespace ledgerfs
