// `ledgerfs log STORE [--since N] [--limit M] [--json]`: read_since over the published log, a page
// at a time, with the next cursor. Read-only: it reads the checkpoint and the entry bundles
// straight from the folder, so it needs neither the signing key nor the store lock.
#include <iostream>
#include <memory>

#include "http/record_json.h"
#include "ledger/encoding.h"
#include "ledger/posix_storage.h"
#include "ledger/records.h"
#include "ledger/tile_reader.h"
#include "mount/cli_util.h"
#include "mount/commands.h"
#include "mount/published_tree.h"

namespace ledgerfs {

namespace {

struct LogCommandOptions {
  std::string store;
  uint64_t since = 0;
  uint64_t limit = 100;
  bool json = false;
};

// The manifest's own (percent-escaped, one-line) spelling of the path.
std::string EscapedPath(std::string_view entry) {
  const std::string_view key = "\npath ";
  const size_t at = entry.find(key);
  if (at == std::string_view::npos) return "";
  const size_t begin = at + key.size();
  return std::string(entry.substr(begin, entry.find('\n', begin) - begin));
}

// One line: "<index> file <size> <sha256> <received> <path>", "<index> directory - - <received>
// <path>" or, for an entry that is not a record manifest, "<index> entry <base64>".
std::string HumanLine(uint64_t index, const std::string& entry) {
  ledger::RecordInfo info;
  std::string line = std::to_string(index) + " ";
  if (!ledger::ParseManifest(entry, &info).ok())
    return line + "entry " + ledger::Base64Encode(entry);
  line += http::RecordKindName(info.kind);
  if (info.kind == ledger::RecordInfo::Kind::kFile) {
    line += " " + std::to_string(info.size) + " " + info.sha256_hex;
  } else {
    line += " - -";
  }
  return line + " " + info.received + " " + EscapedPath(entry);
}

int RunLog(const LogCommandOptions& o) {
  SetLogStore(o.store);
  std::unique_ptr<ledger::Storage> tree;
  ledger::Status st = ledger::OpenPosixStorage(o.store, /*create=*/false, &tree);
  if (!st.ok()) return ReportError("log", o.store, st);

  // A store's checkpoint is checked against its own key; a bare tile tree is listed as it is.
  ledger::Checkpoint cp;
  std::vector<std::string> keys;
  bool from_identity = false;
  if (TrustedKeys(tree.get(), {}, &keys, &from_identity).ok()) {
    std::string note;
    st = ReadVerifiedCheckpoint(tree.get(), keys, &note, &cp);
  } else {
    st = ReadUnverifiedCheckpoint(tree.get(), &cp);
  }
  if (!st.ok()) return ReportError("log", o.store, st);
  if (o.since > cp.size) {
    return ReportError(
        "log", o.store,
        ledger::Status::InvalidArgument("--since " + std::to_string(o.since) +
                                        " is beyond the log size " + std::to_string(cp.size)));
  }
  const uint64_t end = o.since + std::min<uint64_t>(o.limit, cp.size - o.since);
  std::vector<std::string> entries;
  st = ledger::ReadPublishedEntries(tree.get(), cp.size, o.since, end, &entries);
  if (!st.ok()) return ReportError("log", o.store, st);

  if (o.json) {
    std::cout << http::RecordPageJson(o.since, entries, end, cp.size) << std::endl;
  } else {
    for (size_t i = 0; i < entries.size(); ++i) {
      std::cout << HumanLine(o.since + i, entries[i]) << "\n";
    }
    std::cout << "next " << end << std::endl;
  }
  return kExitOk;
}

}  // namespace

Command AddLogCommand(CLI::App& parent) {
  auto o = std::make_shared<LogCommandOptions>();
  CLI::App* app = parent.add_subcommand(
      "log", "List published records from an index, a page at a time, with the next cursor");
  app->add_option("STORE", o->store, "The store (or a copied tile tree)")->required();
  app->add_option("--since", o->since, "First index to list (a cursor from a previous page)");
  app->add_option("--limit", o->limit, "Entries per page")->capture_default_str();
  app->add_flag("--json", o->json, "Print one JSON object {\"entries\":[…],\"next\":N,\"size\":S}");
  return {app, [o] { return RunLog(*o); }};
}

}  // namespace ledgerfs
