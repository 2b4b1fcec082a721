// `ledgerfs append STORE --path NAME [--file F] [--key FILE] [--json]`: the core append without
// FUSE. Streams stdin (or F) into one record, waits until it is durable, publishes a checkpoint
// that covers it, and prints its index and digest. Takes the store lock (exit 3 if busy).
#include <fcntl.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include "ledger/log.h"
#include "ledger/posix_storage.h"
#include "ledger/records.h"
#include "mount/cli_util.h"
#include "mount/commands.h"
#include "mount/key_file.h"
#include "nlohmann/json.hpp"

namespace ledgerfs {

namespace {

struct AppendOptions {
  std::string store;
  std::string path;
  std::string file;
  std::string key;
  bool json = false;
};

int RunAppend(const AppendOptions& o) {
  SetLogStore(o.store);
  ledger::Status st = ledger::ValidateRecordPath(o.path);
  if (!st.ok()) return ReportUsage("append", o.store, "--path: " + st.message());

  int fd = STDIN_FILENO;
  if (o.file.empty() && ::isatty(STDIN_FILENO)) {
    Note("append", o.store, "reading the record's content from the terminal; end it with Ctrl-D");
  }
  if (!o.file.empty()) {
    fd = ::open(o.file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ReportError("append", o.store, ledger::Status::FromErrno(o.file, errno));
  }
  struct CloseFd {
    int fd;
    ~CloseFd() {
      if (fd != STDIN_FILENO) ::close(fd);
    }
  } close_fd{fd};

  std::unique_ptr<ledger::Storage> storage;
  st = ledger::OpenPosixStorage(o.store, /*create=*/false, &storage);
  if (!st.ok()) return ReportError("append", o.store, st);
  ledger::NoteSigner signer;
  st = LoadStoreSigner(storage.get(), o.key, &signer);
  if (!st.ok()) return ReportError("append", o.store, st);

  ledger::LogOptions options;
  options.background_publish = true;
  std::unique_ptr<ledger::Log> log;
  st = ledger::Log::Open(storage.get(), signer, options, &log);
  if (!st.ok()) return ReportError("append", o.store, st);

  ledger::Records records(log.get(), storage.get());
  ledger::RecordInfo info;
  st = records.AppendFromFd(o.path, fd, &info);
  if (!st.ok()) return ReportError("append", o.store, st);
  st = log->Publish();
  if (!st.ok()) return ReportError("append", o.store, st.WithContext("publish"));

  if (o.json) {
    nlohmann::json j = {{"index", info.index},
                        {"path", info.path},
                        {"size", info.size},
                        {"sha256", info.sha256_hex},
                        {"received", info.received}};
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  } else {
    std::cout << "index " << info.index << "\nsha256 " << info.sha256_hex << std::endl;
  }
  return kExitOk;
}

}  // namespace

Command AddAppendCommand(CLI::App& parent) {
  auto o = std::make_shared<AppendOptions>();
  CLI::App* app = parent.add_subcommand(
      "append", "Append one record (content from stdin or --file) without FUSE; print its index");
  app->add_option("STORE", o->store, "The store folder")->required();
  app->add_option("--path", o->path, "The record's path in the tenant's namespace")->required();
  app->add_option("--file", o->file, "Read the content from this file instead of stdin");
  app->add_option("--key", o->key,
                  "The store's signing key file (default: the key location for its origin)");
  app->add_flag("--json", o->json, "Print {\"index\",\"path\",\"size\",\"sha256\",\"received\"}");
  return {app, [o] { return RunAppend(*o); }};
}

}  // namespace ledgerfs
