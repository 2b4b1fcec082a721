#include "http/record_json.h"

#include "ledger/encoding.h"
#include "nlohmann/json.hpp"

namespace http {

namespace {

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json EntryJson(uint64_t index, std::string_view entry) {
  ledger::RecordInfo info;
  if (!ledger::ParseManifest(entry, &info).ok()) {
    return {{"index", index}, {"entry_base64", ledger::Base64Encode(entry)}};
  }
  nlohmann::json j = {{"index", index}, {"kind", RecordKindName(info.kind)}, {"path", info.path}};
  if (info.kind == ledger::RecordInfo::Kind::kFile) {
    j["size"] = info.size;
    j["sha256"] = info.sha256_hex;
  }
  j["received"] = info.received;
  return j;
}

}  // namespace

const char* RecordKindName(ledger::RecordInfo::Kind kind) {
  return kind == ledger::RecordInfo::Kind::kDirectory ? "directory" : "file";
}

std::string RecordPageJson(uint64_t since, const std::vector<std::string>& entries, uint64_t next,
                           uint64_t size) {
  nlohmann::json page = {{"entries", nlohmann::json::array()}, {"next", next}, {"size", size}};
  for (size_t i = 0; i < entries.size(); ++i) {
    page["entries"].push_back(EntryJson(since + i, entries[i]));
  }
  return Dump(page);
}

std::string RecordCreatedJson(const ledger::RecordInfo& info) {
  return Dump({{"index", info.index},
               {"path", info.path},
               {"size", info.size},
               {"sha256", info.sha256_hex},
               {"received", info.received}});
}

std::string ErrorJson(int status, std::string_view message) {
  return Dump({{"error", message}, {"status", status}});
}

}  // namespace http
