// The JSON form of log entries, shared by `ledgerfs log --json` and `GET /records`, so both
// speak one format (docs/http.md):
//   {"entries":[{"index":0,"kind":"file","path":"a/b","size":5,"sha256":"…","received":"…"},
//               {"index":1,"entry_base64":"…"}],           <- an entry that is not a record
//    "next":2,"size":2}
// Bytes of a path that are not valid UTF-8 are shown as U+FFFD.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/records.h"

namespace http {

const char* RecordKindName(ledger::RecordInfo::Kind kind);

// One page of entries starting at index `since`.
std::string RecordPageJson(uint64_t since, const std::vector<std::string>& entries, uint64_t next,
                           uint64_t size);

// What POST /records answers once a record is made.
std::string RecordCreatedJson(const ledger::RecordInfo& info);

// {"error": message, "status": status}
std::string ErrorJson(int status, std::string_view message);

}  // namespace http
