// Signed notes against the official vectors (golang/mod sumdb/note, C2SP signed-note; spec/tlog.md
// §6.3): exact signatures, key text forms, Go's malformed cases and the trust rules.
#include "ledger/note.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "ledger/encoding.h"

namespace ledger {
namespace {

const std::string kPeterVkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const std::string kPeterSkey =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const std::string kText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
const std::string kPeterSig =
    "\xE2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const std::string kEnochVkey = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const std::string kEnochSig =
    "\xE2\x80\x94 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/"
    "5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

NoteVerifier MustVerifier(const std::string& vkey) {
  NoteVerifier v;
  Status st = NoteVerifier::Parse(vkey, &v);
  INFO(st.ToString());
  REQUIRE(st.ok());
  return v;
}

NoteSigner MustSigner(const std::string& skey) {
  NoteSigner s;
  Status st = NoteSigner::Parse(skey, &s);
  INFO(st.ToString());
  REQUIRE(st.ok());
  return s;
}

// A signature line for (name, key id) with arbitrary signature bytes.
std::string SigLine(const std::string& name, uint32_t id, const std::string& sig) {
  std::string blob = {static_cast<char>(id >> 24), static_cast<char>(id >> 16),
                      static_cast<char>(id >> 8), static_cast<char>(id)};
  return "\xE2\x80\x94 " + name + " " + Base64Encode(blob + sig) + "\n";
}

Status Open(const std::string& msg, const std::vector<const NoteVerifier*>& vs, Note* n) {
  return OpenNote(msg, vs, n);
}

}  // namespace

TEST_CASE("Peter's vkey parses into name, key ID and 32-byte key, and prints back", "[note]") {
  NoteVerifier v = MustVerifier(kPeterVkey);
  CHECK(v.name() == "PeterNeumann");
  CHECK(v.key_id() == 0xc74f20a3u);
  CHECK(v.public_key().size() == 32);
  CHECK(v.ToString() == kPeterVkey);
  CHECK(Ed25519KeyId(v.name(), v.public_key()) == 0xc74f20a3u);
}

TEST_CASE("Peter's skey (base64 holding '+') signs the text to the exact Go signature", "[note]") {
  NoteSigner s = MustSigner(kPeterSkey);
  CHECK(s.name() == "PeterNeumann");
  CHECK(s.key_id() == 0xc74f20a3u);
  CHECK(s.ToString() == kPeterSkey);
  CHECK(s.Verifier().ToString() == kPeterVkey);

  std::string note;
  REQUIRE(SignNote(kText, {&s}, &note).ok());
  CHECK(note == kText + "\n" + kPeterSig);

  std::string raw;
  REQUIRE(s.Sign(kText, &raw).ok());
  CHECK(raw.size() == 64);
  CHECK(s.Verifier().Verify(kText, raw));
  CHECK_FALSE(s.Verifier().Verify(kText + "x", raw));
}

TEST_CASE("Peter and Enoch signatures verify; each key counts only for itself", "[note]") {
  NoteVerifier peter = MustVerifier(kPeterVkey);
  NoteVerifier enoch = MustVerifier(kEnochVkey);
  const std::string msg = kText + "\n" + kPeterSig + kEnochSig;

  Note n;
  REQUIRE(Open(msg, {&peter, &enoch}, &n).ok());
  CHECK(n.text == kText);
  REQUIRE(n.signatures.size() == 2);
  REQUIRE(n.verified.size() == 2);
  CHECK(n.verified[0].name == "PeterNeumann");
  CHECK(n.verified[0].key_id == 0xc74f20a3u);
  CHECK(n.verified[0].signature.size() == 64);
  CHECK(n.verified[1].name == "EnochRoot");
  CHECK(n.verified[1].key_id == 0xaf0cfe78u);

  Note only_enoch;
  REQUIRE(Open(msg, {&enoch}, &only_enoch).ok());
  CHECK(only_enoch.signatures.size() == 2);  // Peter's is present but unknown: ignored
  REQUIRE(only_enoch.verified.size() == 1);
  CHECK(only_enoch.verified[0].name == "EnochRoot");
}

TEST_CASE("the C2SP signed-note example verifies", "[note]") {
  NoteVerifier v =
      MustVerifier("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k");
  const std::string msg =
      "This is an example message.\n\n"
      "\xE2\x80\x94 example.com/foo "
      "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM="
      "\n";
  Note n;
  Status st = Open(msg, {&v}, &n);
  INFO(st.ToString());
  REQUIRE(st.ok());
  CHECK(n.text == "This is an example message.\n");
  CHECK(n.verified.size() == 1);

  // One changed byte of text breaks it, and a known key that fails rejects the note.
  std::string bad = msg;
  bad[0] = 't';
  Status st2 = Open(bad, {&v}, &n);
  CHECK(st2.code() == Status::Code::kCorruption);
  CHECK(st2.message().find("does not verify") != std::string::npos);
}

TEST_CASE("Go's negative vkeys are refused with the reason", "[note]") {
  NoteVerifier v;
  // Go's "wrong key length" vector; its tail is also non-canonical base64, which we refuse first.
  CHECK_FALSE(NoteVerifier::Parse(
                  "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", &v)
                  .ok());
  Status type =
      NoteVerifier::Parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &v);
  CHECK(type.code() == Status::Code::kInvalidArgument);
  CHECK(type.message().find("key type 0x65") != std::string::npos);

  // A canonical 31-byte Ed25519 key: the length itself is the complaint.
  std::string short_key = std::string(1, '\x01') + std::string(31, 'k');
  Status len = NoteVerifier::Parse("PeterNeumann+00000000+" + Base64Encode(short_key), &v);
  CHECK(len.message().find("31 bytes, want 32") != std::string::npos);

  Status id =
      NoteVerifier::Parse("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &v);
  CHECK(id.message().find("want c74f20a3") != std::string::npos);
  CHECK_FALSE(
      NoteVerifier::Parse("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &v)
          .ok());  // uppercase key ID: one key, one text form
  CHECK_FALSE(NoteVerifier::Parse("PeterNeumann+c74f20a3", &v).ok());
  CHECK_FALSE(NoteVerifier::Parse("", &v).ok());
  CHECK(v.name().empty());  // failures leave the output alone
}

TEST_CASE("every substring and one-byte mutation of a valid vkey is refused", "[note]") {
  NoteVerifier v;
  const std::string& k = kPeterVkey;
  for (size_t i = 0; i <= k.size(); ++i) {
    for (size_t j = i + 1; j <= k.size(); ++j) {
      if (i == 0 && j == k.size()) continue;
      std::string sub = k.substr(i, j - i);
      INFO(sub);
      REQUIRE_FALSE(NoteVerifier::Parse(sub, &v).ok());
    }
  }
  for (size_t i = 0; i < k.size(); ++i) {
    for (int b = 0; b < 256; ++b) {
      if (static_cast<char>(b) == k[i]) continue;
      std::string m = k;
      m[i] = static_cast<char>(b);
      INFO("byte " << i << " = " << b);
      REQUIRE_FALSE(NoteVerifier::Parse(m, &v).ok());
    }
  }
}

TEST_CASE("skey text is parsed strictly", "[note]") {
  NoteSigner s;
  const std::string tail = "PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
  CHECK(NoteSigner::Parse("PRIVATE+KEY+" + tail, &s).ok());
  CHECK_FALSE(NoteSigner::Parse(tail, &s).ok());
  CHECK_FALSE(NoteSigner::Parse("PRIVATE+KYE+" + tail, &s).ok());
  CHECK_FALSE(NoteSigner::Parse("private+key+" + tail, &s).ok());
  Status id = NoteSigner::Parse(
      "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", &s);
  CHECK(id.message().find("does not match") != std::string::npos);
  CHECK(id.message().find("AYEKFALV") == std::string::npos);  // never echo the secret
  // Another name with the same seed changes the key ID.
  CHECK_FALSE(
      NoteSigner::Parse(
          "PRIVATE+KEY+PeterNeuman+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", &s)
          .ok());
  Status type = NoteSigner::Parse(
      "PRIVATE+KEY+PeterNeumann+c74f20a3+BYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", &s);
  CHECK(type.message().find("type") != std::string::npos);
  for (size_t i = 0; i < kPeterSkey.size(); ++i) {
    std::string m = kPeterSkey;
    ++m[i];
    INFO(m);
    CHECK_FALSE(NoteSigner::Parse(m, &s).ok());
  }
}

TEST_CASE("key names: non-empty UTF-8 without whitespace or '+'", "[note]") {
  CHECK(IsValidKeyName("PeterNeumann"));
  CHECK(IsValidKeyName("example.com/log/testdata"));
  CHECK(IsValidKeyName("caf\xC3\xA9"));
  CHECK_FALSE(IsValidKeyName(""));
  CHECK_FALSE(IsValidKeyName("a b"));
  CHECK_FALSE(IsValidKeyName("a\tb"));
  CHECK_FALSE(IsValidKeyName("a+b"));
  CHECK_FALSE(
      IsValidKeyName("a\xC2\xA0"
                     "b"));  // U+00A0 no-break space
  CHECK_FALSE(
      IsValidKeyName("a\xE3\x80\x80"
                     "b"));  // U+3000 ideographic space
  CHECK_FALSE(
      IsValidKeyName("a\xE2\x80\x89"
                     "b"));  // U+2009 thin space
  CHECK_FALSE(IsValidKeyName("a\xFF"));
}

TEST_CASE("note text: ends in newline, valid UTF-8, no control characters", "[note]") {
  CHECK(IsValidNoteText("a\n"));
  CHECK(IsValidNoteText("a\n\nb\n"));
  CHECK(IsValidNoteText("caf\xC3\xA9 \xF0\x9F\x98\x80\n"));
  CHECK_FALSE(IsValidNoteText(""));
  CHECK_FALSE(IsValidNoteText("a"));
  CHECK_FALSE(IsValidNoteText("a\tb\n"));
  CHECK_FALSE(IsValidNoteText("a\r\n"));
  CHECK_FALSE(IsValidNoteText(std::string("a\0b\n", 4)));
  CHECK_FALSE(IsValidNoteText("\xFF\n"));
  CHECK_FALSE(IsValidNoteText("\xC0\xAF\n"));          // overlong '/'
  CHECK_FALSE(IsValidNoteText("\xED\xA0\x80\n"));      // surrogate U+D800
  CHECK_FALSE(IsValidNoteText("\xF4\x90\x80\x80\n"));  // above U+10FFFF
  CHECK_FALSE(IsValidNoteText("\xE2\x80\n"));          // truncated sequence

  NoteSigner s = MustSigner(kPeterSkey);
  std::string note = "unchanged";
  CHECK(SignNote("no newline", {&s}, &note).code() == Status::Code::kInvalidArgument);
  CHECK(SignNote("bell\x07\n", {&s}, &note).code() == Status::Code::kInvalidArgument);
  CHECK(SignNote(kText, {}, &note).code() == Status::Code::kInvalidArgument);
  CHECK(SignNote(kText, {nullptr}, &note).code() == Status::Code::kInvalidArgument);
  CHECK(note == "unchanged");
}

TEST_CASE("Go's malformed notes are refused", "[note]") {
  NoteVerifier peter = MustVerifier(kPeterVkey);
  const std::string good = kText + "\n" + kPeterSig;
  Note n;
  REQUIRE(Open(good, {&peter}, &n).ok());

  const std::string sig_no_nl = kPeterSig.substr(0, kPeterSig.size() - 1);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"no blank line", kText + kPeterSig},
      {"last line lacks newline", kText + "\n" + sig_no_nl},
      {"control byte", "\x01" + good},
      {"invalid UTF-8", "\xFF" + good},
      {"name with a space",
       kText + "\n\xE2\x80\x94 Peter Neumann " + kPeterSig.substr(kPeterSig.rfind(' ') + 1)},
      {"line after signatures", good + "abc\n"},
      {"hyphen instead of em dash",
       kText + "\n- PeterNeumann " + kPeterSig.substr(kPeterSig.rfind(' ') + 1)},
      {"signature shorter than 5 bytes", good + SigLine("x", 1, "")},
      {"empty base64", good + "\xE2\x80\x94 x \n"},
      {"no space after name", good + "\xE2\x80\x94 PeterNeumann\n"},
      {"bad base64", good + "\xE2\x80\x94 x AAAA*AAA\n"},
      {"no signatures", kText + "\n"},
      {"nothing", ""},
  };
  for (const auto& [what, msg] : cases) {
    INFO(what);
    Status st = Open(msg, {&peter}, &n);
    CHECK(st.code() == Status::Code::kCorruption);
    CHECK(st.message().find("malformed") != std::string::npos);
  }
}

TEST_CASE("more than 100 signatures is malformed; 100 is fine", "[note]") {
  NoteVerifier peter = MustVerifier(kPeterVkey);
  std::string msg = kText + "\n" + kPeterSig;
  for (uint32_t i = 0; i < 99; ++i) msg += SigLine("other", i, std::string(64, 's'));
  Note n;
  REQUIRE(Open(msg, {&peter}, &n).ok());
  CHECK(n.signatures.size() == 100);
  CHECK(n.verified.size() == 1);
  msg += SigLine("other", 99, std::string(64, 's'));
  Status st = Open(msg, {&peter}, &n);
  CHECK(st.code() == Status::Code::kCorruption);
  CHECK(st.message().find("more than 100") != std::string::npos);
}

TEST_CASE("exact duplicate signature lines are ignored", "[note]") {
  NoteVerifier peter = MustVerifier(kPeterVkey);
  std::string unknown = SigLine("someone", 7, std::string(64, 'u'));
  Note n;
  REQUIRE(Open(kText + "\n" + kPeterSig + unknown + kPeterSig + unknown, {&peter}, &n).ok());
  CHECK(n.signatures.size() == 2);
  CHECK(n.verified.size() == 1);
}

TEST_CASE("unknown signatures are ignored, but some trusted key must verify", "[note]") {
  NoteVerifier peter = MustVerifier(kPeterVkey);
  NoteVerifier enoch = MustVerifier(kEnochVkey);
  // Right name, wrong key ID, and right key ID, wrong name: both are unknown pairs.
  std::string junk = SigLine("PeterNeumann", 0xaf0cfe78u, std::string(64, 'j')) +
                     SigLine("EnochRoot", 0xc74f20a3u, std::string(64, 'j')) +
                     SigLine("witness.example/w", 0x20e9690bu, std::string(72, 'w'));
  Note n;
  REQUIRE(Open(kText + "\n" + junk + kPeterSig, {&peter}, &n).ok());
  CHECK(n.signatures.size() == 4);
  REQUIRE(n.verified.size() == 1);
  CHECK(n.verified[0].name == "PeterNeumann");

  Status none = Open(kText + "\n" + kPeterSig, {&enoch}, &n);
  CHECK(none.code() == Status::Code::kCorruption);
  CHECK(none.message().find("no signature from a trusted key") != std::string::npos);
  CHECK(Open(kText + "\n" + kPeterSig, {}, &n).code() == Status::Code::kCorruption);
}

TEST_CASE("a known key whose signature fails rejects the note", "[note]") {
  NoteVerifier peter = MustVerifier(kPeterVkey);
  NoteVerifier enoch = MustVerifier(kEnochVkey);
  // Enoch verifies, but a forged Peter line sits beside it.
  std::string forged = SigLine("PeterNeumann", 0xc74f20a3u, std::string(64, 'f'));
  Note n;
  Status st = Open(kText + "\n" + kEnochSig + forged, {&peter, &enoch}, &n);
  CHECK(st.code() == Status::Code::kCorruption);
  CHECK(st.message().find("PeterNeumann+c74f20a3 does not verify") != std::string::npos);
  // The same note is fine for someone who trusts only Enoch.
  CHECK(Open(kText + "\n" + kEnochSig + forged, {&enoch}, &n).ok());
  // Peter's real signature over other text does not verify this text.
  CHECK_FALSE(Open("other text\n\n" + kPeterSig, {&peter}, &n).ok());
}

TEST_CASE("the last blank line separates text from signatures", "[note]") {
  NoteSigner s = MustSigner(kPeterSkey);
  NoteVerifier v = s.Verifier();
  for (std::string text : {"a\n\nb\n", "a\n\n", "\n", "\xE2\x80\x94 PeterNeumann x\n"}) {
    std::string note;
    REQUIRE(SignNote(text, {&s}, &note).ok());
    Note n;
    INFO(note);
    REQUIRE(OpenNote(note, {&v}, &n).ok());
    CHECK(n.text == text);
  }
}

TEST_CASE("two signers sign one note, in order", "[note]") {
  NoteSigner peter = MustSigner(kPeterSkey);
  NoteSigner other;
  REQUIRE(NoteSigner::Generate("other.example/key", &other).ok());
  std::string note;
  REQUIRE(SignNote(kText, {&peter, &other}, &note).ok());
  CHECK(note.substr(0, kText.size() + 1 + kPeterSig.size()) == kText + "\n" + kPeterSig);
  NoteVerifier pv = peter.Verifier(), ov = other.Verifier();
  Note n;
  REQUIRE(OpenNote(note, {&pv, &ov}, &n).ok());
  REQUIRE(n.verified.size() == 2);
  CHECK(n.verified[1].name == "other.example/key");
}

TEST_CASE("the same trusted key listed twice is not ambiguous", "[note]") {
  NoteVerifier peter = MustVerifier(kPeterVkey);
  NoteVerifier peter2 = MustVerifier(kPeterVkey);
  Note n;
  CHECK(OpenNote(kText + "\n" + kPeterSig, {&peter, &peter2}, &n).ok());  // same key twice
}

TEST_CASE("Generate makes a working key that round-trips through text", "[note]") {
  NoteSigner a, b;
  REQUIRE(NoteSigner::Generate("example.com/gen", &a).ok());
  REQUIRE(NoteSigner::Generate("example.com/gen", &b).ok());
  CHECK(a.name() == "example.com/gen");
  CHECK(a.ToString() != b.ToString());  // fresh randomness each time
  CHECK(a.ToString().rfind("PRIVATE+KEY+example.com/gen+", 0) == 0);

  NoteSigner parsed = MustSigner(a.ToString());
  CHECK(parsed.ToString() == a.ToString());
  CHECK(parsed.key_id() == a.key_id());
  NoteVerifier v = MustVerifier(a.Verifier().ToString());
  CHECK(v.ToString() == a.Verifier().ToString());
  CHECK(v.key_id() == Ed25519KeyId(v.name(), v.public_key()));

  std::string note;
  REQUIRE(SignNote("hello\n", {&parsed}, &note).ok());
  Note n;
  REQUIRE(OpenNote(note, {&v}, &n).ok());
  CHECK(n.text == "hello\n");
  NoteVerifier vb = b.Verifier();
  CHECK_FALSE(OpenNote(note, {&vb}, &n).ok());  // same name, other key: unknown pair

  NoteSigner bad;
  CHECK(NoteSigner::Generate("bad name", &bad).code() == Status::Code::kInvalidArgument);
  CHECK(NoteSigner::Generate("", &bad).code() == Status::Code::kInvalidArgument);
  std::string sig;
  CHECK_FALSE(bad.Sign("x\n", &sig).ok());  // a default signer has no key
}

}  // namespace ledger
