// Fuzzes the signed-note parsers (ledger/note.h): verifier key text, signer key text and OpenNote.
// Every input goes to all three, so the spec's checkpoints and the key strings seed each other.
// Properties: a key that parses prints back as its input; a note that opens has a valid text, a
// verified signature from a trusted key, and signature lines taken from the input; any valid
// note text can be signed and opened back to the same text, even behind unknown signatures.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/encoding.h"
#include "ledger/note.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/testdata_signer.h"

namespace {

// The key of Go's sumdb/note tests (beside fuzz::kTestdataSkey): a test key, public on purpose.
constexpr std::string_view kNeumannSkey =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";

struct Keys {
  ledger::NoteSigner testdata_signer, neumann_signer;
  ledger::NoteVerifier testdata, neumann;
  Keys() {
    testdata_signer = fuzz::TestdataSigner();
    FUZZ_CHECK(ledger::NoteSigner::Parse(kNeumannSkey, &neumann_signer).ok());
    testdata = testdata_signer.Verifier();
    neumann = neumann_signer.Verifier();
  }
};

const Keys& TestKeys() {
  static const Keys keys;
  return keys;
}

std::string SignatureLine(const ledger::NoteSignature& sig) {
  std::string id(4, '\0');
  for (int k = 0; k < 4; ++k) id[k] = static_cast<char>(sig.key_id >> (24 - 8 * k));
  return "\xE2\x80\x94 " + sig.name + " " + ledger::Base64Encode(id + sig.signature) + "\n";
}

void CheckVerifierKey(std::string_view in) {
  ledger::NoteVerifier v;
  if (!ledger::NoteVerifier::Parse(in, &v).ok()) return;
  FUZZ_CHECK(v.ToString() == in);
  FUZZ_CHECK(ledger::IsValidKeyName(v.name()));
  FUZZ_CHECK(v.public_key().size() == 32);
  FUZZ_CHECK(v.key_id() == ledger::Ed25519KeyId(v.name(), v.public_key()));
}

void CheckSignerKey(std::string_view in) {
  ledger::NoteSigner s;
  if (!ledger::NoteSigner::Parse(in, &s).ok()) return;
  FUZZ_CHECK(s.ToString() == in);
  // The signer's own verifier accepts what it signs.
  const ledger::NoteVerifier v = s.Verifier();
  FUZZ_CHECK(v.name() == s.name() && v.key_id() == s.key_id());
  std::string sig;
  FUZZ_CHECK(s.Sign("fuzz\n", &sig).ok());
  FUZZ_CHECK(v.Verify("fuzz\n", sig));
}

void CheckOpen(std::string_view in) {
  const Keys& k = TestKeys();
  ledger::Note note;
  if (!ledger::OpenNote(in, {&k.testdata, &k.neumann}, &note).ok()) return;
  FUZZ_CHECK(ledger::IsValidNoteText(note.text));
  FUZZ_CHECK(in.starts_with(note.text + "\n"));
  FUZZ_CHECK(!note.verified.empty());
  FUZZ_CHECK(note.signatures.size() <= 100);
  const std::string_view block = in.substr(note.text.size() + 1);
  for (const ledger::NoteSignature& sig : note.signatures) {
    FUZZ_CHECK(block.find(SignatureLine(sig)) != std::string_view::npos);
  }
  for (const ledger::NoteSignature& sig : note.verified) {
    const ledger::NoteVerifier& v = sig.name == k.testdata.name() ? k.testdata : k.neumann;
    FUZZ_CHECK(sig.name == v.name() && sig.key_id == v.key_id());
    FUZZ_CHECK(v.Verify(note.text, sig.signature));
  }
}

// Signs the input as a note text: possible exactly when it is a valid note text, and the note
// opens to the same text.
void CheckSignOpen(std::string_view in) {
  const Keys& k = TestKeys();
  std::string signed_note;
  const bool valid = ledger::IsValidNoteText(in);
  FUZZ_CHECK(ledger::SignNote(in, {&k.neumann_signer}, &signed_note).ok() == valid);
  if (!valid) return;
  ledger::Note note;
  FUZZ_CHECK(ledger::OpenNote(signed_note, {&k.neumann}, &note).ok());
  FUZZ_CHECK(note.text == in);
  FUZZ_CHECK(note.signatures.size() == 1 && note.verified.size() == 1);
}

// Takes the input as a note and appends a genuine signature over its text: whatever the fuzzed
// signature lines before it, an accepted note must be that text with that signature.
void CheckAppendedSignature(std::string_view in) {
  const size_t split = in.rfind("\n\n");
  if (split == std::string_view::npos) return;
  const std::string_view text = in.substr(0, split + 1);
  if (!ledger::IsValidNoteText(text)) return;
  const Keys& k = TestKeys();
  std::string one;
  FUZZ_CHECK(ledger::SignNote(text, {&k.testdata_signer}, &one).ok());
  const std::string line = one.substr(text.size() + 1);
  ledger::Note note;
  if (!ledger::OpenNote(std::string(in) + line, {&k.testdata}, &note).ok()) return;
  FUZZ_CHECK(note.text == text);
  FUZZ_CHECK(note.verified.size() == 1 && note.verified[0].key_id == k.testdata.key_id());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in = fuzz::AsView(data, size);
  CheckVerifierKey(in);
  CheckSignerKey(in);
  CheckOpen(in);
  CheckSignOpen(in);
  CheckAppendedSignature(in);
  return 0;
}
