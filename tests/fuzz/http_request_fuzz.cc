// Fuzzes what an HTTP client controls before any handler runs (http/request_parse.h): the
// X-Module-ID check, decimal numbers, percent-decoding, the query string, the route and UTF-8
// validation. Properties:
//   - CheckModuleId, ParseDecimal, PercentDecode and IsValidUtf8 agree with references written
//     here another way (a character table, strtoull, a decoder, decode-then-re-encode), and the
//     two decimal parsers (HTTP and C2SP) agree with each other;
//   - MatchRoute never yields a record path that breaks ledger::ValidateRecordPath or is not
//     UTF-8, a tile whose name does not parse to it, or a query other than the text after '?';
//     and every valid UTF-8 record path, percent-encoded, routes back to itself;
//   - a parsed query has allowed, distinct keys, one per '&' part, and re-encodes to itself.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_parse.h"
#include "ledger/encoding.h"
#include "ledger/note.h"
#include "ledger/records.h"
#include "ledger/tenant_id.h"
#include "ledger/tile_path.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

constexpr std::string_view kTenant = "acme";
const std::vector<std::string_view> kAllowed = {"since", "limit", "index", "size", "from", "to"};

bool ReferenceTenantId(std::string_view id) {
  constexpr std::string_view kAlnum =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  if (id.empty() || id.size() > 64 || kAlnum.find(id[0]) == std::string_view::npos) return false;
  for (char c : id) {
    if (c == '\0' ||
        (kAlnum.find(c) == std::string_view::npos && c != '.' && c != '_' && c != '-')) {
      return false;
    }
  }
  return true;
}

// strtoull after checking the shape it would otherwise be lenient about (sign, space, zeros).
bool ReferenceDecimal(std::string_view s, uint64_t* v) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  const std::string str(s);
  errno = 0;
  *v = std::strtoull(str.c_str(), nullptr, 10);
  return errno != ERANGE;
}

std::optional<std::string> ReferencePercentDecode(std::string_view s) {
  auto hex = [](char c) -> int {
    const std::string_view digits = "0123456789abcdef";
    const char lower = c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c;
    const size_t at = digits.find(lower);
    return at == std::string_view::npos || c == '\0' ? -1 : static_cast<int>(at);
  };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
    } else if (s.size() - i >= 3 && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// Escapes every byte but RFC 3986 unreserved ones (and '/', if keep_slash), in either hex case.
std::string PercentEncode(std::string_view s, bool keep_slash, bool lower) {
  const char* digits = lower ? "0123456789abcdef" : "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto b = static_cast<uint8_t>(c);
    const bool unreserved = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
                            (b >= '0' && b <= '9') || c == '-' || c == '.' || c == '_' ||
                            c == '~' || (keep_slash && c == '/');
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += digits[b >> 4];
      out += digits[b & 15];
    }
  }
  return out;
}

// Decodes each sequence by the count of its lead byte's high ones and accepts it only if it is
// a scalar value spelled in as few bytes as encoding that code point takes.
bool ReferenceUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<uint8_t>(s[i]);
    size_t len = 0;
    while (len < 8 && (b0 & (0x80 >> len))) ++len;
    if (len == 0) {
      ++i;
      continue;
    }
    if (len == 1 || len > 4 || s.size() - i < len) return false;
    uint32_t cp = b0 & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<uint8_t>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = cp << 6 | (b & 0x3F);
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    const size_t shortest = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (shortest != len) return false;
    i += len;
  }
  return true;
}

void CheckModuleId(std::string_view in) {
  using http::ModuleIdCheck;
  FUZZ_CHECK(ledger::IsValidTenantId(in) == ReferenceTenantId(in));
  FUZZ_CHECK(http::CheckModuleId(std::nullopt, kTenant) == ModuleIdCheck::kMissing);
  const ModuleIdCheck got = http::CheckModuleId(in, kTenant);
  const ModuleIdCheck want = !ReferenceTenantId(in) ? ModuleIdCheck::kMalformed
                             : in == kTenant        ? ModuleIdCheck::kMatch
                                                    : ModuleIdCheck::kOtherTenant;
  FUZZ_CHECK(got == want);
}

void CheckDecimal(std::string_view in) {
  uint64_t got = 0, want = 0;
  const bool ok = http::ParseDecimal(in, &got);
  FUZZ_CHECK(ok == ReferenceDecimal(in, &want));
  if (ok) FUZZ_CHECK(got == want);
  const std::optional<uint64_t> c2sp = ledger::ParseDecimal(in);
  FUZZ_CHECK(c2sp.has_value() == ok);
  if (ok) FUZZ_CHECK(*c2sp == got);
}

void CheckPercent(std::string_view in) {
  std::string got;
  const bool ok = http::PercentDecode(in, &got).ok();
  const std::optional<std::string> want = ReferencePercentDecode(in);
  FUZZ_CHECK(ok == want.has_value());
  if (ok) FUZZ_CHECK(got == *want);
  for (bool lower : {false, true}) {
    std::string back;
    FUZZ_CHECK(http::PercentDecode(PercentEncode(in, false, lower), &back).ok());
    FUZZ_CHECK(back == in);
  }
}

void CheckUtf8(std::string_view in) {
  const bool valid = http::IsValidUtf8(in);
  FUZZ_CHECK(valid == ReferenceUtf8(in));
  // The note parser has its own decoder (ledger/note.cc); where it applies they must agree.
  bool control = false;
  for (char c : in) control |= static_cast<uint8_t>(c) < 0x20 && c != '\n';
  if (!control) FUZZ_CHECK(ledger::IsValidNoteText(std::string(in) + "\n") == valid);
}

void CheckQuery(std::string_view in) {
  http::QueryParams params;
  if (!http::ParseQuery(in, kAllowed, &params).ok()) return;
  if (in.empty()) FUZZ_CHECK(params.empty());
  size_t parts = in.empty() ? 0 : 1;
  for (char c : in) parts += c == '&';
  FUZZ_CHECK(params.size() == parts);
  std::set<std::string> keys;
  std::string again;
  for (const auto& [k, v] : params) {
    FUZZ_CHECK(std::find(kAllowed.begin(), kAllowed.end(), k) != kAllowed.end());
    FUZZ_CHECK(keys.insert(k).second);
    FUZZ_CHECK(http::QueryValue(params, k) == std::optional<std::string_view>(v));
    again += (again.empty() ? "" : "&") + PercentEncode(k, false, false) + "=" +
             PercentEncode(v, false, true);
  }
  http::QueryParams reparsed;
  FUZZ_CHECK(http::ParseQuery(again, kAllowed, &reparsed).ok());
  FUZZ_CHECK(reparsed == params);
}

// A query built from the data: distinct allowed keys with arbitrary values parse back exactly.
void CheckBuiltQuery(FuzzedDataProvider* fdp) {
  http::QueryParams want;
  std::string query;
  for (std::string_view key : kAllowed) {
    if (!fdp->ConsumeBool()) continue;
    const std::string value = fdp->ConsumeRandomLengthString(32);
    query += (query.empty() ? "" : "&") + std::string(key) + "=" +
             PercentEncode(value, false, fdp->ConsumeBool());
    want.emplace_back(std::string(key), value);
  }
  http::QueryParams got;
  FUZZ_CHECK(http::ParseQuery(query, kAllowed, &got).ok());
  FUZZ_CHECK(got == want);
}

void CheckRoute(std::string_view in) {
  http::Route route;
  const ledger::Status st = http::MatchRoute(in, &route);
  if (!st.ok()) {
    FUZZ_CHECK(st.code() == ledger::Status::Code::kNotFound ||
               st.code() == ledger::Status::Code::kInvalidArgument);
    return;
  }
  const size_t q = in.find('?');
  const std::string_view path = in.substr(0, q);
  FUZZ_CHECK(route.query == (q == std::string_view::npos ? "" : in.substr(q + 1)));
  for (std::string_view method : {"GET", "HEAD", "POST", "PUT", "DELETE", "get", ""}) {
    const std::string allow = http::AllowHeader(route.resource);
    bool listed = false;
    for (size_t start = 0; start <= allow.size();) {
      const size_t comma = allow.find(", ", start);
      listed |= allow.substr(start, comma - start) == method;
      start = comma == std::string::npos ? allow.size() + 1 : comma + 2;
    }
    FUZZ_CHECK(http::MethodAllowed(route.resource, method) == listed);
  }
  if (route.resource == http::Resource::kRecord) {
    FUZZ_CHECK(path.starts_with("/records/"));
    FUZZ_CHECK(ledger::ValidateRecordPath(route.record_path).ok());
    FUZZ_CHECK(http::IsValidUtf8(route.record_path));
    FUZZ_CHECK(ReferencePercentDecode(path.substr(9)) == route.record_path);
  } else if (route.resource == http::Resource::kTile) {
    FUZZ_CHECK("/" + route.tile_name == path);
    std::optional<ledger::ParsedTilePath> tile = ledger::ParseTilePath(route.tile_name);
    FUZZ_CHECK(tile && tile->entries == route.tile.entries && tile->tile == route.tile.tile);
  }
}

// The input as a record path: if it is one the API may serve, its encoded URL routes to it.
void CheckRecordUrl(std::string_view in) {
  if (!ledger::ValidateRecordPath(in).ok() || !http::IsValidUtf8(in)) return;
  for (bool keep_slash : {true, false}) {
    http::Route route;
    const std::string target = "/records/" + PercentEncode(in, keep_slash, !keep_slash) + "?q";
    FUZZ_CHECK(http::MatchRoute(target, &route).ok());
    FUZZ_CHECK(route.resource == http::Resource::kRecord);
    FUZZ_CHECK(route.record_path == in && route.query == "q");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in = fuzz::AsView(data, size);
  CheckModuleId(in);
  CheckDecimal(in);
  CheckPercent(in);
  CheckUtf8(in);
  CheckQuery(in);
  CheckRoute(in);
  CheckRecordUrl(in);
  FuzzedDataProvider fdp(data, size);
  CheckBuiltQuery(&fdp);
  return 0;
}
