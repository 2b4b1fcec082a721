// Reference values computed without ledger code, for checking what the ledger wrote: SHA-256
// through OpenSSL directly, a manifest line read by plain string search, and an RFC 3339 time
// read with sscanf + timegm.
#pragma once

#include <openssl/evp.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

namespace ledger::testing {

// SHA-256 of `data` as 64 lowercase hex digits.
inline std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string hex;
  char two[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(two, sizeof two, "%02x", md[i]);
    hex += two;
  }
  return hex;
}

// The value of the line "key value" in a manifest, "" if absent.
inline std::string ManifestField(const std::string& manifest, const std::string& key) {
  const std::string needle = "\n" + key + " ";
  const size_t at = manifest.find(needle);
  if (at == std::string::npos) return "";
  const size_t start = at + needle.size();
  const size_t end = manifest.find('\n', start);
  return manifest.substr(start, end - start);
}

// "2026-11-25T21:54:35.123Z" -> milliseconds since the epoch.
inline int64_t ExpectedMs(const std::string& rfc3339) {
  struct tm t {};
  int ms = -1;
  char z = 0;
  const int n = std::sscanf(rfc3339.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &t.tm_year, &t.tm_mon,
                            &t.tm_mday, &t.tm_hour, &t.tm_min, &t.tm_sec, &ms, &z);
  REQUIRE(n == 8);
  REQUIRE(z == 'Z');
  t.tm_year -= 1900;
  t.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&t)) * 1000 + ms;
}

}  // namespace ledger::testing
