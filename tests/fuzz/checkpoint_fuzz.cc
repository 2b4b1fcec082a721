// Fuzzes the checkpoint body parser and OpenCheckpoint (ledger/checkpoint.h). The input is taken
// both as a bare body and as a signed note (the spec's checkpoint files are the seeds).
// Properties: a body that parses formats back to the same bytes; any parsed checkpoint, re-signed
// under the test key's origin, opens to the same fields; an opened note's text is its body.
#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/checkpoint.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/testdata_signer.h"

namespace {

bool SameFields(const ledger::Checkpoint& a, const ledger::Checkpoint& b) {
  return a.origin == b.origin && a.size == b.size && a.root == b.root &&
         a.extensions == b.extensions;
}

void CheckBody(std::string_view body) {
  ledger::Checkpoint cp;
  if (!ledger::ParseCheckpointText(body, &cp).ok()) return;
  FUZZ_CHECK(ledger::FormatCheckpointText(cp) == body);
  FUZZ_CHECK(!cp.origin.empty());
  for (const std::string& ext : cp.extensions) FUZZ_CHECK(!ext.empty());

  // The same fields under our key's origin go through sign and open unchanged.
  ledger::Checkpoint ours = cp;
  ours.origin = fuzz::TestdataSigner().name();
  std::string note;
  FUZZ_CHECK(ledger::SignCheckpoint(ours, fuzz::TestdataSigner(), &note).ok());
  ledger::Checkpoint opened;
  FUZZ_CHECK(ledger::OpenCheckpoint(note, fuzz::TestdataSigner().Verifier(), &opened).ok());
  FUZZ_CHECK(SameFields(ours, opened));
}

void CheckNote(std::string_view in) {
  ledger::Checkpoint cp;
  if (!ledger::OpenCheckpoint(in, fuzz::TestdataSigner().Verifier(), &cp).ok()) return;
  FUZZ_CHECK(cp.origin == fuzz::TestdataSigner().name());
  FUZZ_CHECK(in.starts_with(ledger::FormatCheckpointText(cp) + "\n"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in = fuzz::AsView(data, size);
  CheckBody(in);
  // A signed note's body, so mutations of the seeds reach the body parser too.
  if (size_t split = in.rfind("\n\n"); split != std::string_view::npos) {
    CheckBody(in.substr(0, split + 1));
  }
  CheckNote(in);
  return 0;
}
