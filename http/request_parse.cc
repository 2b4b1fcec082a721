#include "http/request_parse.h"

#include <algorithm>

#include "ledger/records.h"
#include "ledger/tenant_id.h"

namespace http {

ModuleIdCheck CheckModuleId(std::optional<std::string_view> header, std::string_view tenant) {
  if (!header) return ModuleIdCheck::kMissing;
  if (!ledger::IsValidTenantId(*header)) return ModuleIdCheck::kMalformed;
  return *header == tenant ? ModuleIdCheck::kMatch : ModuleIdCheck::kOtherTenant;
}

bool ParseDecimal(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  *out = v;
  return true;
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

ledger::Status PercentDecode(std::string_view s, std::string* out) {
  out->clear();
  out->reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out->push_back(s[i]);
      continue;
    }
    const int hi = i + 2 < s.size() ? HexValue(s[i + 1]) : -1;
    const int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return ledger::Status::InvalidArgument("a malformed percent escape at byte " +
                                             std::to_string(i));
    }
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return ledger::Status::Ok();
}

ledger::Status ParseQuery(std::string_view query, const std::vector<std::string_view>& allowed,
                          QueryParams* out) {
  out->clear();
  if (query.empty()) return ledger::Status::Ok();
  size_t start = 0;
  for (;;) {
    const size_t amp = query.find('&', start);
    const std::string_view part = query.substr(start, amp - start);
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return ledger::Status::InvalidArgument("query parameter \"" + std::string(part) +
                                             "\" has no value");
    }
    std::string key, value;
    LEDGER_RETURN_IF_ERROR(PercentDecode(part.substr(0, eq), &key));
    LEDGER_RETURN_IF_ERROR(PercentDecode(part.substr(eq + 1), &value));
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string names;
      for (std::string_view a : allowed) names += (names.empty() ? "" : ", ") + std::string(a);
      return ledger::Status::InvalidArgument(
          "unknown query parameter \"" + key + "\"" +
          (names.empty() ? "; this resource takes none" : "; this resource takes " + names));
    }
    if (QueryValue(*out, key)) {
      return ledger::Status::InvalidArgument("query parameter \"" + key + "\" is given twice");
    }
    out->emplace_back(std::move(key), std::move(value));
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return ledger::Status::Ok();
}

std::optional<std::string_view> QueryValue(const QueryParams& params, std::string_view key) {
  for (const auto& [k, v] : params) {
    if (k == key) return std::string_view(v);
  }
  return std::nullopt;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;  // a continuation byte, an overlong lead (c0, c1) or beyond U+10FFFF
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    const bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    const bool surrogate = cp >= 0xd800 && cp <= 0xdfff;
    if (overlong || surrogate || cp > 0x10ffff) return false;
    i += len;
  }
  return true;
}

ledger::Status MatchRoute(std::string_view target, Route* out) {
  *out = Route();
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  if (q != std::string_view::npos) out->query = std::string(target.substr(q + 1));
  auto not_found = [&] {
    return ledger::Status::NotFound("no resource at \"" + std::string(path.substr(0, 256)) + "\"");
  };
  constexpr std::string_view kRecords = "/records/";
  constexpr std::string_view kTile = "/tile/";
  if (path == "/checkpoint") {
    out->resource = Resource::kCheckpoint;
  } else if (path == "/records") {
    out->resource = Resource::kRecordsPage;
  } else if (path == "/proof/inclusion") {
    out->resource = Resource::kInclusion;
  } else if (path == "/proof/consistency") {
    out->resource = Resource::kConsistency;
  } else if (path.substr(0, kTile.size()) == kTile) {
    // Tile names are plain ASCII; no escapes are decoded, so each tile has exactly one URL.
    auto tile = ledger::ParseTilePath(path.substr(1));
    if (!tile) return not_found();
    out->resource = Resource::kTile;
    out->tile = *tile;
    out->tile_name = std::string(path.substr(1));
  } else if (path.substr(0, kRecords.size()) == kRecords) {
    std::string decoded;
    ledger::Status st = PercentDecode(path.substr(kRecords.size()), &decoded);
    if (!st.ok()) return st.WithContext("record path");
    if (!IsValidUtf8(decoded)) {
      return ledger::Status::InvalidArgument("the record path is not valid UTF-8");
    }
    LEDGER_RETURN_IF_ERROR(ledger::ValidateRecordPath(decoded));
    out->resource = Resource::kRecord;
    out->record_path = std::move(decoded);
  } else {
    return not_found();
  }
  return ledger::Status::Ok();
}

bool MethodAllowed(Resource r, std::string_view method) {
  if (r == Resource::kRecord && method == "POST") return true;
  return method == "GET" || method == "HEAD";
}

const char* AllowHeader(Resource r) {
  return r == Resource::kRecord ? "GET, HEAD, POST" : "GET, HEAD";
}

}  // namespace http
