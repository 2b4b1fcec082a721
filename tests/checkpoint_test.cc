// Checkpoints byte for byte: the §6.4 derived vector and Tessera's golden 15-entry log, plus the
// strict text rules of C2SP tlog-checkpoint.
#include "ledger/checkpoint.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "ledger/encoding.h"
#include "ledger/hash.h"
#include "support/test_data.h"

namespace ledger {
namespace {

const std::string kLogVkey =
    "example.com/log+baa06b0f+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const std::string kLogSkey =
    "PRIVATE+KEY+example.com/log+baa06b0f+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const std::string kLogText = "example.com/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n";
const std::string kLogNote =
    kLogText +
    "\n\xE2\x80\x94 example.com/log "
    "uqBrD8md6KH/"
    "K8nsTyCpMroEpsokvZnLjgKBwfmwqiP5VtzG9OOz0MvF+3swZXnW5cfj5dOF4rToWcwTH6a7b582ZAQ=\n";

const std::string kTesseraVkey =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";
const std::string kTesseraSkey =
    "PRIVATE+KEY+example.com/log/testdata+33d7b496+AeymY/SZAX0jZcJ8enZ5FY1Dz+wTML2yWSkK+9DSF3eg";

using ledger::testing::ReadFile;

template <typename T, Status (*ParseFn)(std::string_view, T*)>
T MustParse(const std::string& text) {
  T out;
  Status st = ParseFn(text, &out);
  INFO(st.ToString());
  REQUIRE(st.ok());
  return out;
}

NoteVerifier Verifier(const std::string& vkey) {
  return MustParse<NoteVerifier, &NoteVerifier::Parse>(vkey);
}
NoteSigner Signer(const std::string& skey) {
  return MustParse<NoteSigner, &NoteSigner::Parse>(skey);
}

Checkpoint LogCheckpoint() {
  Checkpoint cp;
  cp.origin = "example.com/log";
  cp.size = 8;
  REQUIRE(
      HashFromHex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328", &cp.root));
  return cp;
}

}  // namespace

TEST_CASE("the §6.4 checkpoint signs to the exact derived bytes and opens", "[checkpoint]") {
  NoteSigner signer = Signer(kLogSkey);
  CHECK(signer.Verifier().ToString() == kLogVkey);
  Checkpoint cp = LogCheckpoint();
  CHECK(FormatCheckpointText(cp) == kLogText);

  std::string note;
  REQUIRE(SignCheckpoint(cp, signer, &note).ok());
  CHECK(note == kLogNote);

  Checkpoint opened;
  Status st = OpenCheckpoint(kLogNote, Verifier(kLogVkey), &opened);
  INFO(st.ToString());
  REQUIRE(st.ok());
  CHECK(opened.origin == "example.com/log");
  CHECK(opened.size == 8);
  CHECK(HashToHex(opened.root) ==
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
  CHECK(opened.extensions.empty());
}

TEST_CASE("a witness cosignature beside the log signature is ignored", "[checkpoint]") {
  const std::string cosigned =
      kLogNote +
      "\xE2\x80\x94 witness.example/w "
      "IOlpCwAAAABkGFDLE87ZMc+KMxkNdXh3inFrffrX6qqqOGU2wCq3xLkqFN2wr4gPkjNQHYD4PG9MSJW5ny5AG6+"
      "p388rNUmPAx1ABA==\n";
  Checkpoint cp;
  REQUIRE(OpenCheckpoint(cosigned, Verifier(kLogVkey), &cp).ok());
  CHECK(cp.size == 8);
}

TEST_CASE("Tessera's golden checkpoints open and re-sign byte for byte", "[checkpoint]") {
  NoteVerifier v = Verifier(kTesseraVkey);
  NoteSigner s = Signer(kTesseraSkey);
  CHECK(s.Verifier().ToString() == kTesseraVkey);
  const std::string dir = SHARED_DIR "/spec/testdata/tessera-log/";
  for (uint64_t n = 0; n <= 15; ++n) {
    INFO("checkpoint." << n);
    const std::string file = ReadFile(dir + "checkpoint." + std::to_string(n));
    Checkpoint cp;
    Status st = OpenCheckpoint(file, v, &cp);
    INFO(st.ToString());
    REQUIRE(st.ok());
    CHECK(cp.origin == "example.com/log/testdata");
    CHECK(cp.size == n);
    CHECK(cp.extensions.empty());
    std::string resigned;
    REQUIRE(SignCheckpoint(cp, s, &resigned).ok());
    CHECK(resigned == file);
  }
  Checkpoint latest;
  REQUIRE(OpenCheckpoint(ReadFile(dir + "checkpoint"), v, &latest).ok());
  CHECK(latest.size == 15);
  CHECK(HashToBase64(latest.root) == "rKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=");

  Checkpoint empty;
  REQUIRE(OpenCheckpoint(ReadFile(dir + "checkpoint.0"), v, &empty).ok());
  CHECK(empty.root == EmptyTreeHash());
}

TEST_CASE("checkpoint text parses strictly", "[checkpoint]") {
  const std::string root = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=";
  Checkpoint cp;
  REQUIRE(ParseCheckpointText("o\n0\n" + root + "\n", &cp).ok());
  CHECK(cp.size == 0);
  REQUIRE(ParseCheckpointText("o\n18446744073709551615\n" + root + "\n", &cp).ok());
  CHECK(cp.size == UINT64_MAX);

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"leading zero", "o\n08\n" + root + "\n"},
      {"zero with leading zero", "o\n00\n" + root + "\n"},
      {"plus sign", "o\n+8\n" + root + "\n"},
      {"negative", "o\n-1\n" + root + "\n"},
      {"empty size", "o\n\n" + root + "\n"},
      {"size with space", "o\n8 \n" + root + "\n"},
      {"size overflow", "o\n18446744073709551616\n" + root + "\n"},
      {"missing root line", "o\n8\n"},
      {"only origin", "o\n"},
      {"no final newline", "o\n8\n" + root},
      {"empty text", ""},
      {"empty origin", "\n8\n" + root + "\n"},
      {"root 43 chars", "o\n8\n" + root.substr(1) + "\n"},
      {"root 45 chars", "o\n8\nA" + root + "\n"},
      {"root of 31 bytes", "o\n8\n" + Base64Encode(std::string(31, 'r')) + "AAAA\n"},
      {"root of 33 bytes", "o\n8\n" + Base64Encode(std::string(33, 'r')) + "\n"},
      {"root not base64", "o\n8\n" + std::string(43, '*') + "=\n"},
      {"root unpadded", "o\n8\n" + root.substr(0, 43) + "A\n"},
      {"empty extension line", "o\n8\n" + root + "\n\n"},
      {"empty line between extensions", "o\n8\n" + root + "\next\n\nmore\n"},
      {"control character", "o\x01\n8\n" + root + "\n"},
      {"invalid UTF-8", "o\xFF\n8\n" + root + "\n"},
  };
  for (const auto& [what, text] : bad) {
    INFO(what);
    Checkpoint out;
    out.origin = "untouched";
    Status st = ParseCheckpointText(text, &out);
    CHECK(st.code() == Status::Code::kCorruption);
    CHECK(out.origin == "untouched");
  }
  Status st = ParseCheckpointText("o\n08\n" + root + "\n", &cp);
  CHECK(st.message().find("\"08\"") != std::string::npos);
}

TEST_CASE("extension lines round-trip through format, sign and open", "[checkpoint]") {
  NoteSigner signer = Signer(kLogSkey);
  Checkpoint cp = LogCheckpoint();
  cp.extensions = {"ext one", "\xE2\x80\x94 looks like a signature"};
  const std::string text = FormatCheckpointText(cp);
  CHECK(text == kLogText + "ext one\n\xE2\x80\x94 looks like a signature\n");
  Checkpoint parsed;
  REQUIRE(ParseCheckpointText(text, &parsed).ok());
  CHECK(parsed.extensions == cp.extensions);

  std::string note;
  REQUIRE(SignCheckpoint(cp, signer, &note).ok());
  Checkpoint opened;
  REQUIRE(OpenCheckpoint(note, signer.Verifier(), &opened).ok());
  CHECK(opened.extensions == cp.extensions);
  CHECK(opened.root == cp.root);
}

TEST_CASE("SignCheckpoint refuses what would not parse back", "[checkpoint]") {
  NoteSigner signer = Signer(kLogSkey);
  std::string note = "unchanged";
  Checkpoint cp = LogCheckpoint();

  Checkpoint empty_ext = cp;
  empty_ext.extensions = {""};
  CHECK(SignCheckpoint(empty_ext, signer, &note).code() == Status::Code::kInvalidArgument);
  Checkpoint nl_ext = cp;
  nl_ext.extensions = {"a\nb"};
  CHECK(SignCheckpoint(nl_ext, signer, &note).code() == Status::Code::kInvalidArgument);
  Checkpoint other_origin = cp;
  other_origin.origin = "example.com/other";
  Status st = SignCheckpoint(other_origin, signer, &note);
  CHECK(st.code() == Status::Code::kInvalidArgument);
  CHECK(st.message().find("is not the origin") != std::string::npos);
  CHECK(note == "unchanged");
}

TEST_CASE("OpenCheckpoint rejects wrong keys, tampering and a foreign origin", "[checkpoint]") {
  NoteVerifier log = Verifier(kLogVkey);
  Checkpoint cp;

  // Same seed, other name: the PeterNeumann key does not know this signature.
  NoteVerifier peter =
      Verifier("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
  CHECK(OpenCheckpoint(kLogNote, peter, &cp).code() == Status::Code::kCorruption);

  std::string tampered = kLogNote;
  tampered[kLogNote.find("\n8\n") + 1] = '9';
  Status st = OpenCheckpoint(tampered, log, &cp);
  CHECK(st.code() == Status::Code::kCorruption);
  CHECK(st.message().find("does not verify") != std::string::npos);

  // A validly signed note whose text names another origin.
  NoteSigner signer = Signer(kLogSkey);
  std::string foreign;
  REQUIRE(SignNote("example.com/other\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
                   {&signer}, &foreign)
              .ok());
  st = OpenCheckpoint(foreign, log, &cp);
  CHECK(st.code() == Status::Code::kCorruption);
  CHECK(st.message().find("origin \"example.com/other\"") != std::string::npos);

  // A validly signed note that is not a checkpoint.
  std::string not_cp;
  REQUIRE(SignNote("example.com/log\n08\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n", {&signer},
                   &not_cp)
              .ok());
  CHECK(OpenCheckpoint(not_cp, log, &cp).code() == Status::Code::kCorruption);
  CHECK(cp.origin.empty());  // never filled by a failed open
}

TEST_CASE("a generated key signs checkpoints its verifier opens", "[checkpoint]") {
  NoteSigner gen;
  REQUIRE(NoteSigner::Generate("ledger.example.com/acme", &gen).ok());
  Checkpoint cp;
  cp.origin = "ledger.example.com/acme";
  cp.size = 0;
  cp.root = EmptyTreeHash();
  std::string note;
  REQUIRE(SignCheckpoint(cp, gen, &note).ok());
  NoteVerifier v = Verifier(gen.Verifier().ToString());
  Checkpoint opened;
  REQUIRE(OpenCheckpoint(note, v, &opened).ok());
  CHECK(opened.root == EmptyTreeHash());
  CHECK(FormatCheckpointText(opened) ==
        "ledger.example.com/acme\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
}

}  // namespace ledger
