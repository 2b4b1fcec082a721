// Pure parsing of what an HTTP client sends the tenant API (docs/http.md): the request target
// (route, record path, query) and the X-Module-ID header. Nothing here touches a store, so every
// function is safe to fuzz (tests/fuzz) and the handlers only ever see validated values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ledger/status.h"
#include "ledger/tile_path.h"

namespace http {

// X-Module-ID against the daemon's tenant. Missing and malformed (not a valid tenant ID,
// ledger/tenant_id.h) are the client's mistakes (400); a well-formed other tenant is 403.
enum class ModuleIdCheck { kMatch, kMissing, kMalformed, kOtherTenant };
ModuleIdCheck CheckModuleId(std::optional<std::string_view> header, std::string_view tenant);

// A strict decimal uint64: 1-20 ASCII digits, no sign, space or leading zero (except "0"), no
// overflow.
bool ParseDecimal(std::string_view s, uint64_t* out);

// Percent-decodes `s` (RFC 3986 %XX; '+' is a plain '+'). InvalidArgument on a truncated or
// non-hex escape.
ledger::Status PercentDecode(std::string_view s, std::string* out);

// A query string ("since=5&limit=10", without '?'), split and percent-decoded. InvalidArgument
// for a key not in `allowed`, a key given twice, a part without '=', or a bad escape.
using QueryParams = std::vector<std::pair<std::string, std::string>>;
ledger::Status ParseQuery(std::string_view query, const std::vector<std::string_view>& allowed,
                          QueryParams* out);
// The value of `key` in `params`, if present.
std::optional<std::string_view> QueryValue(const QueryParams& params, std::string_view key);

// The API's resources (docs/http.md).
enum class Resource {
  kCheckpoint,   // /checkpoint
  kTile,         // /tile/<L>/<N>[.p/<W>] and /tile/entries/<N>[.p/<W>]
  kRecordsPage,  // /records
  kRecord,       // /records/<path>
  kInclusion,    // /proof/inclusion
  kConsistency,  // /proof/consistency
};

struct Route {
  Resource resource = Resource::kCheckpoint;
  ledger::ParsedTilePath tile;  // kTile
  std::string tile_name;        // kTile: the storage name ("tile/0/000.p/5")
  std::string record_path;      // kRecord: decoded and valid (ledger::ValidateRecordPath)
  std::string query;            // the raw query, without '?'
};

// Maps a raw request target ("/records/a%20b?x=1") to its resource. NotFound for a target that
// names no resource; InvalidArgument for a /records/<path> whose path, decoded, is not valid
// UTF-8 or breaks the record path rules (empty component, ".", "..", NUL, too long).
ledger::Status MatchRoute(std::string_view target, Route* out);

// The methods a resource answers (for 405 and its Allow header): "GET, HEAD" or "POST" plus
// those for records.
bool MethodAllowed(Resource r, std::string_view method);
const char* AllowHeader(Resource r);

// True if `s` is well-formed UTF-8 (no overlong forms, surrogates or code points > U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace http
