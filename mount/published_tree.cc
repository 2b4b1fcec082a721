#include "mount/published_tree.h"

#include <algorithm>

#include "ledger/log.h"
#include "ledger/note.h"
#include "ledger/tile_reader.h"
#include "ledger/tlog_math.h"

namespace ledgerfs {

ledger::Status TrustedKeys(ledger::Storage* tree, const std::vector<std::string>& given,
                           std::vector<std::string>* keys, bool* from_identity) {
  *from_identity = false;
  if (!given.empty()) {
    *keys = given;
    return ledger::Status::Ok();
  }
  std::string origin, vkey;
  if (!tree->Exists(ledger::store_layout::kIdentity)) {
    return ledger::Status::InvalidArgument(
        "not a store (no " + std::string(ledger::store_layout::kIdentity) +
        "), so there is no key to trust by default; pass --vkey");
  }
  LEDGER_RETURN_IF_ERROR(ledger::Log::ReadIdentity(tree, &origin, &vkey));
  *keys = {vkey};
  *from_identity = true;
  return ledger::Status::Ok();
}

ledger::Status ReadVerifiedCheckpoint(ledger::Storage* tree, const std::vector<std::string>& vkeys,
                                      std::string* note, ledger::Checkpoint* cp) {
  LEDGER_RETURN_IF_ERROR(tree->Read(ledger::store_layout::kCheckpoint, note));
  ledger::Status last = ledger::Status::InvalidArgument("no verifier key given");
  for (const std::string& text : vkeys) {
    ledger::NoteVerifier verifier;
    LEDGER_RETURN_IF_ERROR(ledger::NoteVerifier::Parse(text, &verifier).WithContext("--vkey"));
    last = ledger::OpenCheckpoint(*note, verifier, cp);
    if (last.ok()) return last;
  }
  return last.WithContext(ledger::store_layout::kCheckpoint);
}

ledger::Status ReadUnverifiedCheckpoint(ledger::Storage* tree, ledger::Checkpoint* cp) {
  std::string note;
  LEDGER_RETURN_IF_ERROR(tree->Read(ledger::store_layout::kCheckpoint, &note));
  // The signatures follow the last blank line; the text is everything before it.
  const size_t sep = note.rfind("\n\n");
  if (sep == std::string::npos) {
    return ledger::Status::Corruption(std::string(ledger::store_layout::kCheckpoint) +
                                      ": not a signed note (no blank line)");
  }
  return ledger::ParseCheckpointText(note.substr(0, sep + 1), cp)
      .WithContext(ledger::store_layout::kCheckpoint);
}

}  // namespace ledgerfs
