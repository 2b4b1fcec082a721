// Small helpers for test data: files read whole, hex literals as bytes or hashes.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

#include "ledger/encoding.h"
#include "ledger/hash.h"

namespace ledger::testing {

// The whole file, or nullopt if it cannot be opened. Free of Catch macros, so worker threads
// may call it.
inline std::optional<std::string> TryReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.good()) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The whole file; the test fails if it cannot be read.
inline std::string ReadFile(const std::filesystem::path& path) {
  std::optional<std::string> bytes = TryReadFile(path);
  INFO(path.string());
  REQUIRE(bytes.has_value());
  return *bytes;
}

// Replaces the file's content; the test fails if it cannot be written.
inline void WriteFile(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  INFO(path.string());
  REQUIRE(out.good());
}

// Overwrites one byte in place. Damage is done and undone in place (never by truncating and
// rewriting a file, which ext4 flushes at close) so that thousands of runs stay fast on a real
// disk. Free of Catch macros.
inline bool PatchByte(const std::filesystem::path& path, size_t offset, char byte) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(byte);
  return f.good();
}

// Lowercase hex -> bytes; the test fails on bad hex.
inline std::string Unhex(const std::string& hex) {
  std::optional<std::string> raw = HexDecode(hex);
  REQUIRE(raw.has_value());
  return *raw;
}

// 64 lowercase hex digits -> a Hash; the test fails on anything else.
inline Hash HexHash(const std::string& hex) {
  Hash h{};
  REQUIRE(HashFromHex(hex, &h));
  return h;
}

}  // namespace ledger::testing
