// tlog-proof text: exact output, round trips, the spec's example, an end-to-end proof against the
// spec 6.4 checkpoint, and strict refusal of anything the formatter would not have written.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "ledger/encoding.h"
#include "ledger/hash.h"
#include "ledger/proof_text.h"
#include "ledger/tlog_math.h"

namespace {

using ledger::Hash;

// The spec 6.4 checkpoint for the 8-leaf tree of spec 6.1.
const std::string kCheckpoint8 =
    "example.com/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n"
    "\xe2\x80\x94 example.com/log "
    "uqBrD8md6KH/"
    "K8nsTyCpMroEpsokvZnLjgKBwfmwqiP5VtzG9OOz0MvF+3swZXnW5cfj5dOF4rToWcwTH6a7b582ZAQ=\n";

std::vector<Hash> Leaves8() {
  std::vector<Hash> leaves;
  for (const char* d : {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                        "606162636465666768696a6b6c6d6e6f"}) {
    leaves.push_back(ledger::LeafHash(*ledger::HexDecode(d)));
  }
  return leaves;
}

std::vector<Hash> TwoHashes() {
  return {ledger::Sha256("a"), ledger::Sha256("b")};
}

}  // namespace

TEST_CASE("inclusion proof text has the exact C2SP layout", "[proof_text]") {
  ledger::InclusionProofText p;
  p.index = 73894;
  p.proof = TwoHashes();
  p.checkpoint = kCheckpoint8;
  const std::string body = ledger::HashToBase64(p.proof[0]) + "\n" +
                           ledger::HashToBase64(p.proof[1]) + "\n\n" + kCheckpoint8;
  CHECK(ledger::FormatInclusionProof(p) == "c2sp.org/tlog-proof@v1\nindex 73894\n" + body);
  p.extra = std::string(
      "\x00\xff"
      "extra",
      7);
  CHECK(ledger::FormatInclusionProof(p) ==
        "c2sp.org/tlog-proof@v1\nextra AP9leHRyYQ==\nindex 73894\n" + body);

  for (bool with_extra : {false, true}) {
    for (size_t hashes : {0, 1, 2}) {
      ledger::InclusionProofText in = p;
      if (!with_extra) in.extra.reset();
      in.proof.resize(hashes);
      ledger::InclusionProofText out;
      REQUIRE(ledger::ParseInclusionProof(ledger::FormatInclusionProof(in), &out).ok());
      CHECK(out.extra == in.extra);
      CHECK(out.index == in.index);
      CHECK(out.proof == in.proof);
      CHECK(out.checkpoint == in.checkpoint);
    }
  }
}

TEST_CASE("the tlog-proof spec example parses", "[proof_text]") {
  const std::string text =
      "c2sp.org/tlog-proof@v1\n"
      "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n"
      "index 73894\n"
      "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n"
      "B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"
      "EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n"
      "RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n"
      "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n"
      "\n"
      "example.com/fancylog\n"
      "109482\n"
      "sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n"
      "\n"
      "\xe2\x80\x94 example.com/fancylog hI2DJw[...]1roloI=\n";
  ledger::InclusionProofText p;
  REQUIRE(ledger::ParseInclusionProof(text, &p).ok());
  REQUIRE(p.extra.has_value());
  CHECK(p.extra->substr(0, 22) == "age-v1.2.1-darwin-arm6");
  CHECK(p.index == 73894);
  REQUIRE(p.proof.size() == 5);
  CHECK(ledger::HashToBase64(p.proof[4]) == "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=");
  CHECK(p.checkpoint.substr(0, 28) == "example.com/fancylog\n109482\n");
  CHECK(ledger::FormatInclusionProof(p) == text);  // one spelling: re-formatting is identity
}

TEST_CASE("an inclusion proof travels as text and verifies against its checkpoint",
          "[proof_text]") {
  std::vector<Hash> leaves = Leaves8();
  ledger::MemoryHashReader reader(leaves);
  ledger::InclusionProofText p;
  p.index = 5;
  REQUIRE(ledger::InclusionProof(reader, 5, 8, &p.proof).ok());
  p.checkpoint = kCheckpoint8;

  ledger::InclusionProofText back;
  REQUIRE(ledger::ParseInclusionProof(ledger::FormatInclusionProof(p), &back).ok());
  Hash root{};
  REQUIRE(ledger::HashFromBase64("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", &root));
  CHECK(ledger::VerifyInclusion(leaves[5], back.index, 8, back.proof, root));
  CHECK_FALSE(ledger::VerifyInclusion(leaves[4], back.index, 8, back.proof, root));
}

TEST_CASE("malformed inclusion proofs are refused", "[proof_text]") {
  const std::string h = ledger::HashToBase64(ledger::Sha256("a"));
  const std::string tail = h + "\n\n" + kCheckpoint8;
  const std::string bad[] = {
      "",
      "c2sp.org/tlog-proof@v1",
      "c2sp.org/tlog-proof@v1\n",
      "c2sp.org/tlog-proof@v2\nindex 1\n" + tail,
      "C2SP.org/tlog-proof@v1\nindex 1\n" + tail,
      "c2sp.org/tlog-proof@v1\r\nindex 1\n" + tail,
      " c2sp.org/tlog-proof@v1\nindex 1\n" + tail,
      "c2sp.org/tlog-consistency@v1\nold 1\n" + tail,
      "c2sp.org/tlog-proof@v1\nindex 01\n" + tail,
      "c2sp.org/tlog-proof@v1\nindex -1\n" + tail,
      "c2sp.org/tlog-proof@v1\nindex \n" + tail,
      "c2sp.org/tlog-proof@v1\nindex\n" + tail,
      "c2sp.org/tlog-proof@v1\nindex  1\n" + tail,
      "c2sp.org/tlog-proof@v1\nindex 1 \n" + tail,
      "c2sp.org/tlog-proof@v1\nindex 18446744073709551616\n" + tail,
      "c2sp.org/tlog-proof@v1\nIndex 1\n" + tail,
      "c2sp.org/tlog-proof@v1\n" + tail,                                   // no index
      "c2sp.org/tlog-proof@v1\nextra Zg=\nindex 1\n" + tail,               // bad base64
      "c2sp.org/tlog-proof@v1\nextra Zh==\nindex 1\n" + tail,              // non-canonical
      "c2sp.org/tlog-proof@v1\nindex 1\nextra Zg==\n" + tail,              // extra after index
      "c2sp.org/tlog-proof@v1\nextra Zg==\nextra Zg==\nindex 1\n" + tail,  // two extras
      "c2sp.org/tlog-proof@v1\nindex 1\n" + h.substr(1) + "\n\n" + kCheckpoint8,  // short hash
      "c2sp.org/tlog-proof@v1\nindex 1\n" + h + " \n\n" + kCheckpoint8,
      "c2sp.org/tlog-proof@v1\nindex 1\n" + ledger::Base64Encode(std::string(33, 'x')) + "\n\n" +
          kCheckpoint8,
      "c2sp.org/tlog-proof@v1\nindex 1\n" + h + "\n",    // no blank line
      "c2sp.org/tlog-proof@v1\nindex 1\n" + h + "\n\n",  // no checkpoint
      "c2sp.org/tlog-proof@v1\nindex 1\n" + h,
  };
  for (const std::string& text : bad) {
    INFO("text: " << text);
    ledger::InclusionProofText out;
    out.index = 42;
    ledger::Status st = ledger::ParseInclusionProof(text, &out);
    CHECK(st.code() == ledger::Status::Code::kInvalidArgument);
    CHECK(out.index == 42);  // untouched on failure
  }
  // 64 hashes is the most a tree of 2^64 leaves needs; 65 is refused.
  std::string many = "c2sp.org/tlog-proof@v1\nindex 1\n";
  for (int i = 0; i < 64; ++i) many += h + "\n";
  ledger::InclusionProofText out;
  CHECK(ledger::ParseInclusionProof(many + "\n" + kCheckpoint8, &out).ok());
  CHECK(out.proof.size() == 64);
  CHECK_FALSE(ledger::ParseInclusionProof(many + h + "\n\n" + kCheckpoint8, &out).ok());
}

TEST_CASE("consistency proof text has the documented layout", "[proof_text]") {
  ledger::ConsistencyProofText p;
  p.old_size = 6;
  p.proof = TwoHashes();
  p.checkpoint = kCheckpoint8;
  CHECK(ledger::FormatConsistencyProof(p) ==
        "c2sp.org/tlog-consistency@v1\nold 6\n" + ledger::HashToBase64(p.proof[0]) + "\n" +
            ledger::HashToBase64(p.proof[1]) + "\n\n" + kCheckpoint8);

  // A real 6 -> 8 proof survives the trip and verifies.
  std::vector<Hash> leaves = Leaves8();
  ledger::MemoryHashReader reader(leaves);
  REQUIRE(ledger::ConsistencyProof(reader, 6, 8, &p.proof).ok());
  ledger::ConsistencyProofText back;
  REQUIRE(ledger::ParseConsistencyProof(ledger::FormatConsistencyProof(p), &back).ok());
  CHECK(back.old_size == 6);
  CHECK(back.proof == p.proof);
  CHECK(back.checkpoint == kCheckpoint8);
  Hash old_root{}, new_root{};
  REQUIRE(ledger::TreeHash(reader, 6, &old_root).ok());
  REQUIRE(ledger::TreeHash(reader, 8, &new_root).ok());
  CHECK(ledger::VerifyConsistency(back.old_size, 8, old_root, new_root, back.proof));

  // old 0 with no hashes is a valid (empty) proof.
  REQUIRE(
      ledger::ParseConsistencyProof("c2sp.org/tlog-consistency@v1\nold 0\n\n" + kCheckpoint8, &back)
          .ok());
  CHECK(back.old_size == 0);
  CHECK(back.proof.empty());
}

TEST_CASE("malformed consistency proofs are refused", "[proof_text]") {
  const std::string h = ledger::HashToBase64(ledger::Sha256("a"));
  const std::string tail = h + "\n\n" + kCheckpoint8;
  const std::string bad[] = {
      "",
      "c2sp.org/tlog-proof@v1\nold 1\n" + tail,
      "c2sp.org/tlog-consistency@v1\nindex 1\n" + tail,
      "c2sp.org/tlog-consistency@v1\nold 01\n" + tail,
      "c2sp.org/tlog-consistency@v1\nold\n" + tail,
      "c2sp.org/tlog-consistency@v1\nold x\n" + tail,
      "c2sp.org/tlog-consistency@v1\n" + tail,
      "c2sp.org/tlog-consistency@v1\nold 1\n" + h + "\n",
      "c2sp.org/tlog-consistency@v1\nold 1\n" + h + "\n\n",
      "c2sp.org/tlog-consistency@v1\nold 1\nnot a hash\n\n" + kCheckpoint8,
  };
  for (const std::string& text : bad) {
    INFO("text: " << text);
    ledger::ConsistencyProofText out;
    CHECK(ledger::ParseConsistencyProof(text, &out).code() ==
          ledger::Status::Code::kInvalidArgument);
  }
}
