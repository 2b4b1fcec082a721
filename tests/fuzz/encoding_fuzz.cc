// Fuzzes the strict text encodings every C2SP format rests on (ledger/encoding.h, ledger/hash.h):
// base64, hex, decimal. Each value has exactly one spelling, so decode -> encode must give the
// input back byte for byte, and encode -> decode must give the bytes back.
#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/encoding.h"
#include "ledger/hash.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// ParseDecimal's contract written independently: digits only, no leading zero, fits in 64 bits
// (compared as strings, so the reference cannot share an overflow bug with the parser).
bool ReferenceIsDecimal(std::string_view s) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  if (s.size() > 1 && s[0] == '0') return false;
  return s.size() < 20 || s <= "18446744073709551615";
}

void CheckBase64(std::string_view in) {
  std::optional<std::string> raw = ledger::Base64Decode(in);
  if (raw) FUZZ_CHECK(ledger::Base64Encode(*raw) == in);
  const std::string enc = ledger::Base64Encode(in);
  FUZZ_CHECK(enc.size() == (in.size() + 2) / 3 * 4);
  std::optional<std::string> back = ledger::Base64Decode(enc);
  FUZZ_CHECK(back && *back == in);

  ledger::Hash h;
  const bool is_hash = ledger::HashFromBase64(in, &h);
  FUZZ_CHECK(is_hash == (raw && raw->size() == 32));
  if (is_hash) FUZZ_CHECK(ledger::HashToBase64(h) == in);
}

void CheckHex(std::string_view in) {
  std::optional<std::string> raw = ledger::HexDecode(in);
  if (raw) FUZZ_CHECK(ledger::HexEncode(*raw) == in);
  std::optional<std::string> back = ledger::HexDecode(ledger::HexEncode(in));
  FUZZ_CHECK(back && *back == in);

  ledger::Hash h;
  const bool is_hash = ledger::HashFromHex(in, &h);
  FUZZ_CHECK(is_hash == (raw && raw->size() == 32));
  if (is_hash) FUZZ_CHECK(ledger::HashToHex(h) == in);
}

void CheckDecimal(std::string_view in) {
  std::optional<uint64_t> v = ledger::ParseDecimal(in);
  FUZZ_CHECK(v.has_value() == ReferenceIsDecimal(in));
  if (v) FUZZ_CHECK(std::to_string(*v) == in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in = fuzz::AsView(data, size);
  CheckBase64(in);
  CheckHex(in);
  CheckDecimal(in);
  return 0;
}
