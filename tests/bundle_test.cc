// Entry bundle framing (spec §6.5) and the golden 15-entry Tessera log (spec §6.2): bundles parse
// into the right entries, their leaf hashes give the stored tiles byte for byte and the
// checkpointed roots.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ledger/bundle.h"
#include "ledger/encoding.h"
#include "ledger/hash.h"
#include "ledger/tlog_math.h"
#include "support/test_data.h"

namespace {

using ledger::testing::ReadFile;
using ledger::testing::Unhex;

const std::string kTesseraLog = std::string(SHARED_DIR) + "/spec/testdata/tessera-log";

const std::vector<std::string> kTesseraEntries = {
    "one",  "two", "three",  "four",  "five",     "six",     "seven", "eit",
    "nain", "ten", "ileven", "twelf", "threeten", "fourten", "fivten"};

// The third line of a checkpoint note: the base64 root hash.
std::string CheckpointRootLine(const std::string& note) {
  size_t a = note.find('\n');
  size_t b = note.find('\n', a + 1);
  size_t c = note.find('\n', b + 1);
  REQUIRE(c != std::string::npos);
  return note.substr(b + 1, c - b - 1);
}

}  // namespace

TEST_CASE("the spec 6.1 leaves frame into the spec 6.5 bundle", "[bundle]") {
  std::string bundle;
  std::vector<std::string> entries;
  for (const char* d : {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                        "606162636465666768696a6b6c6d6e6f"}) {
    entries.push_back(Unhex(d));
    REQUIRE(ledger::AppendToBundle(entries.back(), &bundle).ok());
  }
  CHECK(ledger::HexEncode(bundle) ==
        "00000001000001100002202100023031000440414243000850515253545556570010606162636465666768"
        "696a6b6c6d6e6f");
  CHECK(bundle.size() == 50);
  std::vector<std::string> parsed{"stale"};
  REQUIRE(ledger::ParseBundle(bundle, &parsed).ok());
  CHECK(parsed == entries);
}

TEST_CASE("bundle entry size limit is 65,535 bytes", "[bundle]") {
  std::string bundle = "prefix";
  REQUIRE(ledger::AppendToBundle(std::string(65535, 'a'), &bundle).ok());
  CHECK(bundle.size() == 6 + 2 + 65535);
  CHECK(bundle.substr(6, 2) == "\xff\xff");
  const std::string before = bundle;
  ledger::Status st = ledger::AppendToBundle(std::string(65536, 'b'), &bundle);
  CHECK(st.code() == ledger::Status::Code::kInvalidArgument);
  CHECK(bundle == before);  // a refused entry leaves the bundle untouched

  std::vector<std::string> parsed;
  REQUIRE(ledger::ParseBundle(std::string_view(bundle).substr(6), &parsed).ok());
  REQUIRE(parsed.size() == 1);
  CHECK(parsed[0] == std::string(65535, 'a'));
  REQUIRE(ledger::ParseBundle("", &parsed).ok());
  CHECK(parsed.empty());
}

TEST_CASE("torn and trailing frames are detected", "[bundle]") {
  std::string bundle;
  std::vector<size_t> boundaries{0};
  for (const char* e : {"one", "", "three", "a longer fourth entry"}) {
    REQUIRE(ledger::AppendToBundle(e, &bundle).ok());
    boundaries.push_back(bundle.size());
  }
  for (size_t cut = 0; cut <= bundle.size(); ++cut) {
    INFO("cut at " << cut);
    std::vector<std::string> parsed{"untouched"};
    ledger::Status st = ledger::ParseBundle(std::string_view(bundle).substr(0, cut), &parsed);
    bool at_boundary = std::find(boundaries.begin(), boundaries.end(), cut) != boundaries.end();
    if (at_boundary) {
      REQUIRE(st.ok());
      CHECK(parsed.size() ==
            static_cast<size_t>(std::find(boundaries.begin(), boundaries.end(), cut) -
                                boundaries.begin()));
    } else {
      CHECK(st.code() == ledger::Status::Code::kCorruption);
      CHECK(parsed == std::vector<std::string>{"untouched"});  // no half result on error
      // The message names where the torn frame starts.
      size_t frame = *(std::upper_bound(boundaries.begin(), boundaries.end(), cut) - 1);
      CHECK(st.message().find("byte " + std::to_string(frame)) != std::string::npos);
    }
  }
  std::vector<std::string> parsed;
  CHECK(ledger::ParseBundle(bundle + std::string(1, '\0'), &parsed).code() ==
        ledger::Status::Code::kCorruption);
  CHECK(ledger::ParseBundle(std::string("\x00\x05"
                                        "abcd",
                                        6),
                            &parsed)
            .code() == ledger::Status::Code::kCorruption);
}

TEST_CASE("golden Tessera log: bundles, tiles and roots agree byte for byte", "[bundle][golden]") {
  CHECK(ledger::HexEncode(ReadFile(kTesseraLog + "/tile/entries/000.p/2")) ==
        "00036f6e65000374776f");

  const std::string bundle = ReadFile(kTesseraLog + "/tile/entries/000.p/15");
  CHECK(bundle.size() == 99);
  std::vector<std::string> entries;
  REQUIRE(ledger::ParseBundle(bundle, &entries).ok());
  CHECK(entries == kTesseraEntries);

  std::vector<ledger::Hash> leaves;
  for (const std::string& e : entries) leaves.push_back(ledger::LeafHash(e));
  const std::string tile = ReadFile(kTesseraLog + "/tile/0/000.p/15");
  CHECK(tile.size() == 480);
  CHECK(ledger::TileBytes(leaves) == tile);
  std::vector<ledger::Hash> from_tile;
  REQUIRE(ledger::ParseTileBytes(tile, 15, &from_tile).ok());
  CHECK(from_tile == leaves);

  ledger::MemoryHashReader reader(leaves);
  ledger::Hash root{};
  REQUIRE(ledger::TreeHash(reader, 15, &root).ok());
  CHECK(ledger::HashToBase64(root) == "rKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=");
  CHECK(CheckpointRootLine(ReadFile(kTesseraLog + "/checkpoint")) == ledger::HashToBase64(root));

  // Every intermediate size: the partial bundle and tile are prefixes, and the root matches the
  // checkpoint Tessera wrote at that size.
  for (uint64_t n = 1; n <= 15; ++n) {
    INFO("size " << n);
    const std::string suffix = "/000.p/" + std::to_string(n);
    std::vector<std::string> prefix;
    REQUIRE(ledger::ParseBundle(ReadFile(kTesseraLog + "/tile/entries" + suffix), &prefix).ok());
    CHECK(prefix == std::vector<std::string>(entries.begin(), entries.begin() + n));
    CHECK(ReadFile(kTesseraLog + "/tile/0" + suffix) == tile.substr(0, 32 * n));
    REQUIRE(ledger::TreeHash(reader, n, &root).ok());
    CHECK(CheckpointRootLine(ReadFile(kTesseraLog + "/checkpoint." + std::to_string(n))) ==
          ledger::HashToBase64(root));
  }
  CHECK(CheckpointRootLine(ReadFile(kTesseraLog + "/checkpoint.0")) ==
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}
