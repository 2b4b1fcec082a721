// Text encodings used by the C2SP formats: standard padded base64 (RFC 4648 §4) and lowercase hex.
// Decoders are strict: they refuse anything non-canonical (bad padding, stray characters,
// whitespace).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ledger {

std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);  // nullopt if not canonical
std::string HexEncode(std::string_view bytes);                   // lowercase
std::optional<std::string> HexDecode(std::string_view text);     // accepts lowercase only

// Parses ASCII decimal with no sign and no leading zeros ("0" is fine) into uint64; nullopt on
// overflow or any other character. This is the C2SP rule for sizes and indexes.
std::optional<uint64_t> ParseDecimal(std::string_view text);

}  // namespace ledger
