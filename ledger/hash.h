// SHA-256 (through OpenSSL) and the RFC 6962 Merkle hashing that every tlog-tiles value rests on.
// Promises: leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || left || right), byte for byte.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ledger {

using Hash = std::array<uint8_t, 32>;

Hash Sha256(std::string_view data);
Hash LeafHash(std::string_view entry);            // RFC 6962 leaf hash of one entry
Hash NodeHash(const Hash& left, const Hash& right);  // RFC 6962 interior node
Hash EmptyTreeHash();                              // SHA-256("")

// Incremental SHA-256 for content of any size (records are streamed, never held whole).
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view data);
  void Update(const void* data, size_t len);
  Hash Finish();  // the stream may not be updated afterwards; Reset() starts over
  void Reset();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string HashToHex(const Hash& h);     // 64 lowercase hex digits
std::string HashToBase64(const Hash& h);  // 44 characters, padded std base64
bool HashFromHex(std::string_view hex, Hash* out);
bool HashFromBase64(std::string_view b64, Hash* out);
std::string_view HashBytes(const Hash& h);  // view of the 32 raw bytes

}  // namespace ledger
