// C2SP tlog-checkpoint: the signed note body "<origin>\n<size>\n<base64 root>\n[extension lines]".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/hash.h"
#include "ledger/note.h"
#include "ledger/status.h"

namespace ledger {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;  // opaque, non-empty lines
};

std::string FormatCheckpointText(const Checkpoint& cp);  // the note text, ending in '\n'
Status ParseCheckpointText(std::string_view text, Checkpoint* out);  // strict

// Formats, then signs with `signer` (whose name should equal the origin).
Status SignCheckpoint(const Checkpoint& cp, const NoteSigner& signer, std::string* note);
// Opens a signed checkpoint note with `verifier` and parses its text; the origin must equal the
// verifier's key name.
Status OpenCheckpoint(std::string_view note, const NoteVerifier& verifier, Checkpoint* out);

}  // namespace ledger
