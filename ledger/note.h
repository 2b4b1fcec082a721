// C2SP signed notes with Ed25519 keys (through OpenSSL), strict as Go's sumdb/note: a note is
// text ending in '\n', a blank line, then signature lines "— <name> <base64(keyid||sig)>\n".
// Key ID = SHA-256(name || '\n' || 0x01 || pubkey)[:4]. Text forms:
//   verifier key  "<name>+<8 hex keyid>+<base64(0x01||pubkey)>"
//   signer key    "PRIVATE+KEY+<name>+<8 hex keyid>+<base64(0x01||seed)>"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/status.h"

namespace ledger {

// A key name is non-empty, valid UTF-8, contains no Unicode whitespace and no '+'.
bool IsValidKeyName(std::string_view name);

// A note text is non-empty, ends in '\n', is valid UTF-8 and has no ASCII control character
// other than '\n' (bytes below 0x20, as Go's sumdb/note checks).
bool IsValidNoteText(std::string_view text);

class NoteVerifier {
 public:
  // Parses a vkey string; InvalidArgument with the reason if malformed (bad name, wrong key id,
  // unknown type byte, wrong key length, bad base64).
  static Status Parse(std::string_view vkey, NoteVerifier* out);
  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  const std::string& public_key() const { return public_key_; }  // 32 raw bytes
  std::string ToString() const;                                  // the vkey text form
  bool Verify(std::string_view message, std::string_view signature) const;

 private:
  std::string name_;
  uint32_t key_id_ = 0;
  std::string public_key_;
};

class NoteSigner {
 public:
  // Parses "PRIVATE+KEY+..." text; InvalidArgument with the reason if malformed.
  static Status Parse(std::string_view skey, NoteSigner* out);
  // A fresh random Ed25519 key under `name`.
  static Status Generate(std::string_view name, NoteSigner* out);
  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  std::string ToString() const;  // the PRIVATE+KEY text form
  NoteVerifier Verifier() const;
  // Ed25519 signature (64 bytes) over message.
  Status Sign(std::string_view message, std::string* signature) const;

 private:
  std::string name_;
  uint32_t key_id_ = 0;
  std::string seed_;        // 32 bytes
  std::string public_key_;  // 32 bytes
};

uint32_t Ed25519KeyId(std::string_view name, std::string_view public_key);

struct NoteSignature {
  std::string name;
  uint32_t key_id = 0;
  std::string signature;  // raw signature bytes after the 4-byte key id
};

struct Note {
  std::string text;                       // ends in '\n'
  std::vector<NoteSignature> signatures;  // all signatures present (known or not)
  std::vector<NoteSignature> verified;    // those verified by a trusted key
};

// Signs `text` (must end in '\n' and be a valid note text) with each signer; returns the whole
// note: text, blank line, signature lines.
Status SignNote(std::string_view text, const std::vector<const NoteSigner*>& signers,
                std::string* note);
// Parses and verifies `msg`. Signatures from unknown (name, key id) pairs are ignored; a known
// pair that does not verify rejects the note; at least one known key must verify. Corruption with
// the reason on any malformed input (no separator, control characters, invalid UTF-8, bad
// signature line, more than 100 signatures).
Status OpenNote(std::string_view msg, const std::vector<const NoteVerifier*>& verifiers, Note* out);

}  // namespace ledger
