// `ledgerfs serve STORE --listen ADDR [--tenant ID] ...`: the tenant's HTTP API (docs/http.md) in
// the foreground, without a mount. SIGTERM, SIGINT or SIGHUP stop it: requests in flight finish,
// then a final publication makes the checkpoint cover every acknowledged record.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "ledger/tenant_id.h"
#include "mount/cli_util.h"
#include "mount/commands.h"
#include "mount/http_listener.h"
#include "mount/tenant_store.h"
#include "spdlog/spdlog.h"

namespace ledgerfs {

namespace {

struct ServeOptions {
  std::string store;
  std::string tenant;  // default: the store folder's name
  std::string key;
  int checkpoint_delay_ms = 1000;
  HttpListenOptions http;
};

int RunServe(ServeOptions o) {
  if (o.tenant.empty()) {
    o.tenant = std::filesystem::path(o.store).lexically_normal().filename().string();
    if (o.tenant.empty())
      o.tenant = std::filesystem::path(o.store).parent_path().filename().string();
  }
  if (!ledger::IsValidTenantId(o.tenant)) {
    return ReportUsage("serve", o.store,
                       "tenant id '" + o.tenant +
                           "' is not 1-64 of [A-Za-z0-9._-] starting with a letter or digit; "
                           "pass --tenant");
  }
  if (o.checkpoint_delay_ms < 0) {
    return ReportUsage("serve", o.store, "--checkpoint-delay must not be negative");
  }
  SetLogTenant(o.tenant, /*journald=*/!::isatty(STDERR_FILENO));
  spdlog::set_level(spdlog::level::info);

  // Block the stop signals before any thread starts, so every thread inherits the mask and this
  // one alone takes them, with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&stop_signals, sig);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  TenantStore store;
  ledger::Status st = OpenTenantStore(o.store, o.key, o.checkpoint_delay_ms, &store);
  if (!st.ok()) return ReportError("serve", o.store, st);
  HttpListener listener;
  st = StartHttpListener(o.http, o.tenant, o.checkpoint_delay_ms, &store, &listener);
  if (!st.ok()) return ReportError("serve", o.store, st);
  spdlog::info("serving {} ({} records, {} names, read in {} ms)", o.store,
               store.log->committed_size(), store.index.size(), store.index_load_ms);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("stopping on signal {}", sig);
  listener.server->Stop();
  st = store.log->Publish();
  if (!st.ok()) {
    spdlog::error("final publication failed: {}", st.ToString());
    return ExitCodeFor(st);
  }
  spdlog::info("stopped; checkpoint covers {} records", store.log->published_size());
  return kExitOk;
}

}  // namespace

Command AddServeCommand(CLI::App& parent) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* app = parent.add_subcommand(
      "serve", "Serve a tenant's store over HTTP in the foreground (docs/http.md)");
  app->add_option("STORE", o->store, "The store folder")->required();
  AddHttpListenOptions(app, &o->http, /*listen_required=*/true);
  app->add_option("--tenant", o->tenant,
                  "The tenant X-Module-ID must name (default: the store folder's name)");
  app->add_option("--key", o->key,
                  "The store's signing key file (default: the key location for its origin)");
  app->add_option("--checkpoint-delay", o->checkpoint_delay_ms,
                  "Milliseconds from a record's 201 to a signed checkpoint covering it")
      ->default_val(1000);
  return {app, [o] { return RunServe(*o); }};
}

}  // namespace ledgerfs
