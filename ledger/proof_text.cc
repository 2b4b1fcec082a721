// The tlog-proof text formats. Parsing is strict: every line must be exactly what the formatter
// would have written, so a proof has one spelling and a stray byte is an error, not a guess.
#include "ledger/proof_text.h"

#include "ledger/encoding.h"

namespace ledger {

namespace {

constexpr std::string_view kInclusionHeader = "c2sp.org/tlog-proof@v1";
constexpr std::string_view kConsistencyHeader = "c2sp.org/tlog-consistency@v1";
// A Merkle path in a tree of at most 2^64 leaves has at most 64 hashes.
constexpr size_t kMaxProofHashes = 64;

// Reads one '\n'-terminated line starting at *pos (without the '\n'); false if none is left.
bool NextLine(std::string_view text, size_t* pos, std::string_view* line) {
  size_t end = text.find('\n', *pos);
  if (end == std::string_view::npos) return false;
  *line = text.substr(*pos, end - *pos);
  *pos = end + 1;
  return true;
}

// "<keyword> <decimal>" with the C2SP decimal rules.
bool ParseKeywordNumber(std::string_view line, std::string_view keyword, uint64_t* value) {
  if (line.size() <= keyword.size() + 1 || line.substr(0, keyword.size()) != keyword ||
      line[keyword.size()] != ' ') {
    return false;
  }
  std::optional<uint64_t> v = ParseDecimal(line.substr(keyword.size() + 1));
  if (!v) return false;
  *value = *v;
  return true;
}

// Hash lines up to the blank separator, then the checkpoint (everything after it, verbatim).
Status ParseHashesAndCheckpoint(std::string_view text, size_t pos, std::vector<Hash>* proof,
                                std::string* checkpoint) {
  std::vector<Hash> hashes;
  while (true) {
    std::string_view line;
    if (!NextLine(text, &pos, &line)) {
      return Status::InvalidArgument("proof: missing blank line before the checkpoint");
    }
    if (line.empty()) break;
    Hash h;
    if (!HashFromBase64(line, &h)) {
      return Status::InvalidArgument("proof: line " + std::to_string(hashes.size() + 1) +
                                     " of the path is not a base64 SHA-256 hash");
    }
    if (hashes.size() == kMaxProofHashes) {
      return Status::InvalidArgument("proof: more than 64 hashes");
    }
    hashes.push_back(h);
  }
  if (pos >= text.size()) return Status::InvalidArgument("proof: checkpoint is missing");
  *proof = std::move(hashes);
  *checkpoint = std::string(text.substr(pos));
  return Status::Ok();
}

void AppendHashesAndCheckpoint(const std::vector<Hash>& proof, const std::string& checkpoint,
                               std::string* out) {
  for (const Hash& h : proof) {
    *out += HashToBase64(h);
    *out += '\n';
  }
  *out += '\n';
  *out += checkpoint;
}

}  // namespace

std::string FormatInclusionProof(const InclusionProofText& p) {
  std::string out(kInclusionHeader);
  out += '\n';
  if (p.extra) out += "extra " + Base64Encode(*p.extra) + "\n";
  out += "index " + std::to_string(p.index) + "\n";
  AppendHashesAndCheckpoint(p.proof, p.checkpoint, &out);
  return out;
}

Status ParseInclusionProof(std::string_view text, InclusionProofText* out) {
  size_t pos = 0;
  std::string_view line;
  if (!NextLine(text, &pos, &line) || line != kInclusionHeader) {
    return Status::InvalidArgument("proof: first line is not \"c2sp.org/tlog-proof@v1\"");
  }
  InclusionProofText parsed;
  if (!NextLine(text, &pos, &line)) return Status::InvalidArgument("proof: missing index line");
  if (line.substr(0, 6) == "extra ") {
    std::optional<std::string> extra = Base64Decode(line.substr(6));
    if (!extra) return Status::InvalidArgument("proof: extra line is not canonical base64");
    parsed.extra = std::move(*extra);
    if (!NextLine(text, &pos, &line)) return Status::InvalidArgument("proof: missing index line");
  }
  if (!ParseKeywordNumber(line, "index", &parsed.index)) {
    return Status::InvalidArgument("proof: expected \"index <decimal>\"");
  }
  LEDGER_RETURN_IF_ERROR(ParseHashesAndCheckpoint(text, pos, &parsed.proof, &parsed.checkpoint));
  *out = std::move(parsed);
  return Status::Ok();
}

std::string FormatConsistencyProof(const ConsistencyProofText& p) {
  std::string out(kConsistencyHeader);
  out += '\n';
  out += "old " + std::to_string(p.old_size) + "\n";
  AppendHashesAndCheckpoint(p.proof, p.checkpoint, &out);
  return out;
}

Status ParseConsistencyProof(std::string_view text, ConsistencyProofText* out) {
  size_t pos = 0;
  std::string_view line;
  if (!NextLine(text, &pos, &line) || line != kConsistencyHeader) {
    return Status::InvalidArgument("proof: first line is not \"c2sp.org/tlog-consistency@v1\"");
  }
  ConsistencyProofText parsed;
  if (!NextLine(text, &pos, &line) || !ParseKeywordNumber(line, "old", &parsed.old_size)) {
    return Status::InvalidArgument("proof: expected \"old <decimal>\"");
  }
  LEDGER_RETURN_IF_ERROR(ParseHashesAndCheckpoint(text, pos, &parsed.proof, &parsed.checkpoint));
  *out = std::move(parsed);
  return Status::Ok();
}

}  // namespace ledger
