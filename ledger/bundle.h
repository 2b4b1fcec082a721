// Entry bundles (tile/entries/<N>[.p/<W>]): entries concatenated, each prefixed with its length as
// a big-endian uint16. An entry over 65,535 bytes cannot be framed and is refused.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ledger/status.h"

namespace ledger {

inline constexpr size_t kMaxEntrySize = 65535;

// Appends one framed entry to *bundle; InvalidArgument if entry is larger than kMaxEntrySize.
Status AppendToBundle(std::string_view entry, std::string* bundle);
// Splits a bundle into its entries; Corruption (naming the byte offset) on a torn or trailing
// frame.
Status ParseBundle(std::string_view bundle, std::vector<std::string>* entries);
// The same, without copying: the views point into `bundle`. *entries is cleared first, so a
// caller can reuse one vector across bundles; on error it is left empty.
Status SplitBundle(std::string_view bundle, std::vector<std::string_view>* entries);

}  // namespace ledger
