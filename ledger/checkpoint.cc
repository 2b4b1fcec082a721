// C2SP tlog-checkpoint text: format, strict parse, and sign/open as a signed note whose key name
// is the origin. Signing refuses any checkpoint that would not parse back to the same fields.
#include "ledger/checkpoint.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ledger/encoding.h"

namespace ledger {
namespace {

constexpr size_t kRootBase64Size = 44;  // padded base64 of 32 bytes

bool SameFields(const Checkpoint& a, const Checkpoint& b) {
  return a.origin == b.origin && a.size == b.size && a.root == b.root &&
         a.extensions == b.extensions;
}

}  // namespace

std::string FormatCheckpointText(const Checkpoint& cp) {
  std::string text =
      cp.origin + "\n" + std::to_string(cp.size) + "\n" + HashToBase64(cp.root) + "\n";
  for (const std::string& ext : cp.extensions) text += ext + "\n";
  return text;
}

Status ParseCheckpointText(std::string_view text, Checkpoint* out) {
  if (text.empty() || text.back() != '\n') {
    return Status::Corruption("checkpoint: text is empty or does not end in '\\n'");
  }
  if (!IsValidNoteText(text)) {
    return Status::Corruption("checkpoint: text is not valid UTF-8 or has control characters");
  }
  std::vector<std::string_view> lines;
  for (size_t start = 0; start < text.size();) {
    size_t nl = text.find('\n', start);  // found: text ends in '\n'
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  if (lines.size() < 3) {
    return Status::Corruption("checkpoint: " + std::to_string(lines.size()) +
                              " lines, want at least 3 (origin, tree size, root hash)");
  }
  Checkpoint cp;
  if (lines[0].empty()) return Status::Corruption("checkpoint: empty origin line");
  cp.origin = std::string(lines[0]);

  std::optional<uint64_t> size = ParseDecimal(lines[1]);
  if (!size) {
    return Status::Corruption("checkpoint: tree size \"" + std::string(lines[1]) +
                              "\" is not a decimal uint64 without leading zeros");
  }
  cp.size = *size;

  std::optional<std::string> root =
      lines[2].size() == kRootBase64Size ? Base64Decode(lines[2]) : std::nullopt;
  if (!root || root->size() != cp.root.size()) {
    return Status::Corruption("checkpoint: root hash \"" + std::string(lines[2]) +
                              "\" is not 44 characters of padded base64 of 32 bytes");
  }
  std::copy(root->begin(), root->end(), cp.root.begin());

  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) {
      return Status::Corruption("checkpoint: extension line " + std::to_string(i - 2) +
                                " is empty");
    }
    cp.extensions.emplace_back(lines[i]);
  }
  *out = std::move(cp);
  return Status::Ok();
}

Status SignCheckpoint(const Checkpoint& cp, const NoteSigner& signer, std::string* note) {
  // The product promises key name = origin, and OpenCheckpoint enforces it: signing anything
  // else would publish a checkpoint no client of ours accepts.
  if (signer.name() != cp.origin) {
    return Status::InvalidArgument("sign checkpoint: key name \"" + signer.name() +
                                   "\" is not the origin \"" + cp.origin + "\"");
  }
  std::string text = FormatCheckpointText(cp);
  Checkpoint parsed;
  Status st = ParseCheckpointText(text, &parsed);
  if (!st.ok()) return Status::InvalidArgument("sign checkpoint: " + st.message());
  if (!SameFields(cp, parsed)) {
    return Status::InvalidArgument("sign checkpoint: origin or an extension holds a newline");
  }
  return SignNote(text, {&signer}, note);
}

Status OpenCheckpoint(std::string_view note, const NoteVerifier& verifier, Checkpoint* out) {
  Note opened;
  LEDGER_RETURN_IF_ERROR(OpenNote(note, {&verifier}, &opened).WithContext("checkpoint"));
  Checkpoint cp;
  LEDGER_RETURN_IF_ERROR(ParseCheckpointText(opened.text, &cp));
  if (cp.origin != verifier.name()) {
    return Status::Corruption("checkpoint: origin \"" + cp.origin + "\" is not the key name \"" +
                              verifier.name() + "\"");
  }
  *out = std::move(cp);
  return Status::Ok();
}

}  // namespace ledger
