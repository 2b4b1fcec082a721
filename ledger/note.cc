// Signed notes: the key text forms, Ed25519 through OpenSSL EVP, and the strict open rules of
// Go's sumdb/note (which C2SP signed-note restates). Every refusal names what was wrong.
#include "ledger/note.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <memory>
#include <set>
#include <utility>

#include "ledger/encoding.h"
#include "ledger/hash.h"

namespace ledger {
namespace {

constexpr uint8_t kAlgEd25519 = 0x01;
constexpr size_t kEd25519KeySize = 32;  // both the public key and the private seed
constexpr size_t kEd25519SigSize = 64;
constexpr size_t kMaxSignatures = 100;  // Go's limit: more is "malformed", not slow
constexpr std::string_view kSigPrefix = "\xE2\x80\x94 ";  // U+2014 EM DASH, then a space

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// Holds key material and wipes it when it goes out of scope, so seeds do not linger on the heap.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::string s) : s_(std::move(s)) {}
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes() { OPENSSL_cleanse(s_.data(), s_.size()); }
  std::string& str() { return s_; }

 private:
  std::string s_;
};

// The OpenSSL error queue is per thread: report the newest entry and leave the queue empty so
// a later, unrelated failure is not blamed on this one.
std::string OpensslError(const char* what) {
  unsigned long err = ERR_get_error();
  ERR_clear_error();
  char buf[256];
  if (err == 0) return std::string(what) + ": OpenSSL failed";
  ERR_error_string_n(err, buf, sizeof(buf));
  return std::string(what) + ": " + buf;
}

// Decodes the UTF-8 sequence at s[i]: its length (1-4) with the code point in *cp, or 0 if it is
// not the shortest encoding of a Unicode scalar value (overlong, surrogate, > U+10FFFF,
// truncated). These are exactly the sequences Go's utf8.DecodeRune reports as RuneError/1.
size_t DecodeRune(std::string_view s, size_t i, char32_t* cp) {
  auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t b0 = b(i);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // UTF-16 surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  char32_t c = b0 & (0xFF >> (len + 1));
  for (size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    c = (c << 6) | (b(i + k) & 0x3F);
  }
  *cp = c;
  return len;
}

// Go's unicode.IsSpace: the Latin-1 spaces plus the White_Space code points above U+00FF.
bool IsUnicodeSpace(char32_t c) {
  switch (c) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

// Empty if every byte of `s` is valid UTF-8 with no control character but '\n'; otherwise the
// reason, naming the offending byte offset.
std::string TextProblem(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    char32_t c;
    size_t n = DecodeRune(s, i, &c);
    if (n == 0) return "invalid UTF-8 at byte " + std::to_string(i);
    if (c < 0x20 && c != '\n') {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "control character 0x%02x at byte %zu",
                    static_cast<unsigned>(c), i);
      return buf;
    }
    i += n;
  }
  return {};
}

std::string BigEndian32(uint32_t v) {
  std::string out(4, '\0');
  for (int k = 0; k < 4; ++k) out[k] = static_cast<char>(v >> (24 - 8 * k));
  return out;
}

uint32_t ReadBigEndian32(std::string_view b) {
  uint32_t v = 0;
  for (int k = 0; k < 4; ++k) v = (v << 8) | static_cast<uint8_t>(b[k]);
  return v;
}

std::string KeyIdHex(uint32_t id) {
  return HexEncode(BigEndian32(id));
}

// Splits `s` at its first '+'. Only the first separators count: base64 may itself hold '+'.
bool CutPlus(std::string_view s, std::string_view* before, std::string_view* after) {
  size_t p = s.find('+');
  if (p == std::string_view::npos) return false;
  *before = s.substr(0, p);
  *after = s.substr(p + 1);
  return true;
}

// The 8 lowercase hex digits of a key ID; uppercase is refused so each key has one text form.
bool ParseKeyIdHex(std::string_view hex, uint32_t* id) {
  if (hex.size() != 8) return false;
  std::optional<std::string> raw = HexDecode(hex);
  if (!raw || raw->size() != 4) return false;
  *id = ReadBigEndian32(*raw);
  return true;
}

Status PublicKeyFromSeed(std::string_view seed, std::string* pub) {
  PkeyPtr key(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed.data()), seed.size()));
  if (!key) return Status::InvalidArgument(OpensslError("ed25519 private key"));
  std::string out(kEd25519KeySize, '\0');
  size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(out.data()), &len) !=
          1 ||
      len != kEd25519KeySize) {
    return Status::InvalidArgument(OpensslError("ed25519 public key"));
  }
  *pub = std::move(out);
  return Status::Ok();
}

}  // namespace

bool IsValidKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size();) {
    char32_t c;
    size_t n = DecodeRune(name, i, &c);
    if (n == 0 || c == '+' || IsUnicodeSpace(c)) return false;
    i += n;
  }
  return true;
}

bool IsValidNoteText(std::string_view text) {
  return !text.empty() && text.back() == '\n' && TextProblem(text).empty();
}

uint32_t Ed25519KeyId(std::string_view name, std::string_view public_key) {
  std::string data;
  data.reserve(name.size() + 2 + public_key.size());
  data.append(name);
  data.push_back('\n');
  data.push_back(static_cast<char>(kAlgEd25519));
  data.append(public_key);
  Hash h = Sha256(data);
  return (uint32_t{h[0]} << 24) | (uint32_t{h[1]} << 16) | (uint32_t{h[2]} << 8) | h[3];
}

// ---- NoteVerifier ----

Status NoteVerifier::Parse(std::string_view vkey, NoteVerifier* out) {
  std::string_view name, rest, hex, b64;
  if (!CutPlus(vkey, &name, &rest)) {
    return Status::InvalidArgument("vkey: no '+' after the key name");
  }
  if (!CutPlus(rest, &hex, &b64)) return Status::InvalidArgument("vkey: no '+' after the key ID");
  if (!IsValidKeyName(name)) {
    return Status::InvalidArgument(
        "vkey: invalid key name (empty, invalid UTF-8, whitespace or '+')");
  }
  uint32_t id;
  if (!ParseKeyIdHex(hex, &id)) {
    return Status::InvalidArgument("vkey: key ID is not 8 lowercase hex digits");
  }
  std::optional<std::string> key = Base64Decode(b64);
  if (!key) return Status::InvalidArgument("vkey: key is not canonical padded base64");
  if (key->empty()) return Status::InvalidArgument("vkey: empty key");
  if (static_cast<uint8_t>((*key)[0]) != kAlgEd25519) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "vkey: unsupported key type 0x%02x (only Ed25519, 0x01)",
                  static_cast<unsigned>(static_cast<uint8_t>((*key)[0])));
    return Status::InvalidArgument(buf);
  }
  std::string_view pub = std::string_view(*key).substr(1);
  if (pub.size() != kEd25519KeySize) {
    return Status::InvalidArgument("vkey: Ed25519 public key is " + std::to_string(pub.size()) +
                                   " bytes, want 32");
  }
  uint32_t want = Ed25519KeyId(name, pub);
  if (id != want) {
    return Status::InvalidArgument("vkey: key ID " + KeyIdHex(id) +
                                   " does not match the name and key (want " + KeyIdHex(want) +
                                   ")");
  }
  out->name_ = std::string(name);
  out->key_id_ = id;
  out->public_key_ = std::string(pub);
  return Status::Ok();
}

std::string NoteVerifier::ToString() const {
  return name_ + "+" + KeyIdHex(key_id_) + "+" +
         Base64Encode(std::string(1, static_cast<char>(kAlgEd25519)) + public_key_);
}

bool NoteVerifier::Verify(std::string_view message, std::string_view signature) const {
  if (public_key_.size() != kEd25519KeySize || signature.size() != kEd25519SigSize) return false;
  PkeyPtr key(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(public_key_.data()),
      public_key_.size()));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  // Ed25519 hashes internally, so the digest is NULL (one-shot EVP_DigestVerify only).
  bool ok =
      key && ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) == 1;
  if (!ok) ERR_clear_error();  // a bad signature is an answer, not an error to report later
  return ok;
}

// ---- NoteSigner ----

Status NoteSigner::Parse(std::string_view skey, NoteSigner* out) {
  // Errors never echo the text: it holds the private key.
  std::string_view priv, key_word, rest, name, hex, b64;
  if (!CutPlus(skey, &priv, &rest) || priv != "PRIVATE" || !CutPlus(rest, &key_word, &rest) ||
      key_word != "KEY") {
    return Status::InvalidArgument("skey: does not start with \"PRIVATE+KEY+\"");
  }
  if (!CutPlus(rest, &name, &rest))
    return Status::InvalidArgument("skey: no '+' after the key name");
  if (!CutPlus(rest, &hex, &b64)) return Status::InvalidArgument("skey: no '+' after the key ID");
  if (!IsValidKeyName(name)) {
    return Status::InvalidArgument(
        "skey: invalid key name (empty, invalid UTF-8, whitespace or '+')");
  }
  uint32_t id;
  if (!ParseKeyIdHex(hex, &id)) {
    return Status::InvalidArgument("skey: key ID is not 8 lowercase hex digits");
  }
  std::optional<std::string> decoded = Base64Decode(b64);
  if (!decoded) return Status::InvalidArgument("skey: key is not canonical padded base64");
  // Read the type byte before the bytes move into the wiping holder (GCC 12 at -O2 misreads the
  // moved-into string as possibly uninitialized).
  if (decoded->empty()) return Status::InvalidArgument("skey: empty key");
  const uint8_t key_type = static_cast<uint8_t>(decoded->front());
  SecretBytes key(std::move(*decoded));
  if (key_type != kAlgEd25519) {
    return Status::InvalidArgument("skey: unsupported key type (only Ed25519, 0x01)");
  }
  std::string_view seed = std::string_view(key.str()).substr(1);
  if (seed.size() != kEd25519KeySize) {
    return Status::InvalidArgument("skey: Ed25519 seed is " + std::to_string(seed.size()) +
                                   " bytes, want 32");
  }
  std::string pub;
  LEDGER_RETURN_IF_ERROR(PublicKeyFromSeed(seed, &pub));
  uint32_t want = Ed25519KeyId(name, pub);
  if (id != want) {
    return Status::InvalidArgument("skey: key ID " + KeyIdHex(id) +
                                   " does not match the name and key (want " + KeyIdHex(want) +
                                   ")");
  }
  OPENSSL_cleanse(out->seed_.data(), out->seed_.size());
  out->name_ = std::string(name);
  out->key_id_ = id;
  out->seed_ = std::string(seed);
  out->public_key_ = std::move(pub);
  return Status::Ok();
}

Status NoteSigner::Generate(std::string_view name, NoteSigner* out) {
  if (!IsValidKeyName(name)) {
    return Status::InvalidArgument(
        "generate key: invalid key name (empty, invalid UTF-8, whitespace or '+')");
  }
  SecretBytes seed(std::string(kEd25519KeySize, '\0'));
  if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.str().data()),
                 static_cast<int>(seed.str().size())) != 1) {
    return Status::Failed(OpensslError("generate key: RAND_bytes"));
  }
  std::string pub;
  LEDGER_RETURN_IF_ERROR(PublicKeyFromSeed(seed.str(), &pub));
  OPENSSL_cleanse(out->seed_.data(), out->seed_.size());
  out->name_ = std::string(name);
  out->key_id_ = Ed25519KeyId(name, pub);
  out->seed_ = seed.str();
  out->public_key_ = std::move(pub);
  return Status::Ok();
}

std::string NoteSigner::ToString() const {
  SecretBytes key(std::string(1, static_cast<char>(kAlgEd25519)) + seed_);
  return "PRIVATE+KEY+" + name_ + "+" + KeyIdHex(key_id_) + "+" + Base64Encode(key.str());
}

NoteVerifier NoteSigner::Verifier() const {
  // Built through the text form so the fields stay private to NoteVerifier.
  NoteVerifier v;
  Status st = NoteVerifier::Parse(
      name_ + "+" + KeyIdHex(key_id_) + "+" +
          Base64Encode(std::string(1, static_cast<char>(kAlgEd25519)) + public_key_),
      &v);
  (void)st;  // cannot fail for a signer built by Parse or Generate; a default one gives {}
  return v;
}

Status NoteSigner::Sign(std::string_view message, std::string* signature) const {
  if (seed_.size() != kEd25519KeySize) return Status::InvalidArgument("sign: signer has no key");
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                           reinterpret_cast<const unsigned char*>(seed_.data()),
                                           seed_.size()));
  if (!key) return Status::InvalidArgument(OpensslError("sign: ed25519 private key"));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
    return Status::Failed(OpensslError("sign: EVP_DigestSignInit"));
  }
  std::string sig(kEd25519SigSize, '\0');
  size_t len = sig.size();
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      len != kEd25519SigSize) {
    return Status::Failed(OpensslError("sign: EVP_DigestSign"));
  }
  *signature = std::move(sig);
  return Status::Ok();
}

// ---- Notes ----

Status SignNote(std::string_view text, const std::vector<const NoteSigner*>& signers,
                std::string* note) {
  if (text.empty() || text.back() != '\n') {
    return Status::InvalidArgument("sign note: text is empty or does not end in '\\n'");
  }
  if (std::string problem = TextProblem(text); !problem.empty()) {
    return Status::InvalidArgument("sign note: text has " + problem);
  }
  if (signers.empty()) return Status::InvalidArgument("sign note: no signers");
  std::string out(text);
  out.push_back('\n');
  for (const NoteSigner* signer : signers) {
    if (signer == nullptr) return Status::InvalidArgument("sign note: null signer");
    if (!IsValidKeyName(signer->name())) {
      return Status::InvalidArgument("sign note: signer has an invalid key name");
    }
    std::string sig;
    LEDGER_RETURN_IF_ERROR(signer->Sign(text, &sig));
    out.append(kSigPrefix);
    out.append(signer->name());
    out.push_back(' ');
    out.append(Base64Encode(BigEndian32(signer->key_id()) + sig));
    out.push_back('\n');
  }
  *note = std::move(out);
  return Status::Ok();
}

Status OpenNote(std::string_view msg, const std::vector<const NoteVerifier*>& verifiers,
                Note* out) {
  // Two trusted keys with one (name, key ID) would make "the key for this signature" ambiguous.
  for (size_t i = 0; i < verifiers.size(); ++i) {
    for (size_t j = i + 1; j < verifiers.size(); ++j) {
      const NoteVerifier* a = verifiers[i];
      const NoteVerifier* b = verifiers[j];
      if (a && b && a->name() == b->name() && a->key_id() == b->key_id() &&
          a->public_key() != b->public_key()) {
        return Status::InvalidArgument("open note: two trusted keys share name " + a->name() +
                                       " and key ID " + KeyIdHex(a->key_id()));
      }
    }
  }
  if (std::string problem = TextProblem(msg); !problem.empty()) {
    return Status::Corruption("note: malformed: " + problem);
  }
  // The text may hold blank lines itself; the signature block never does, so the last "\n\n"
  // is the separator.
  size_t split = msg.rfind("\n\n");
  if (split == std::string_view::npos) {
    return Status::Corruption("note: malformed: no blank line before the signatures");
  }
  Note note;
  note.text = std::string(msg.substr(0, split + 1));
  std::string_view sigs = msg.substr(split + 2);
  if (sigs.empty()) return Status::Corruption("note: malformed: no signature lines");
  if (sigs.back() != '\n') {
    return Status::Corruption("note: malformed: last signature line does not end in '\\n'");
  }

  std::set<std::string_view> seen_lines;
  std::set<std::pair<std::string, uint32_t>> verified_keys;
  size_t count = 0;
  while (!sigs.empty()) {
    size_t nl = sigs.find('\n');  // always found: sigs ends in '\n'
    std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    ++count;
    std::string where = "signature line " + std::to_string(count);
    if (line.substr(0, kSigPrefix.size()) != kSigPrefix) {
      return Status::Corruption("note: malformed: " + where + " does not start with \"— \"");
    }
    std::string_view body = line.substr(kSigPrefix.size());
    size_t sp = body.find(' ');
    if (sp == std::string_view::npos) {
      return Status::Corruption("note: malformed: " + where + " has no space after the key name");
    }
    std::string_view name = body.substr(0, sp);
    std::string_view b64 = body.substr(sp + 1);
    if (!IsValidKeyName(name)) {
      return Status::Corruption("note: malformed: " + where + " has an invalid key name");
    }
    std::optional<std::string> blob = b64.empty() ? std::nullopt : Base64Decode(b64);
    if (!blob) {
      return Status::Corruption("note: malformed: " + where +
                                " signature is not canonical padded base64");
    }
    if (blob->size() < 5) {
      return Status::Corruption("note: malformed: " + where + " signature is shorter than 5 bytes");
    }
    if (count > kMaxSignatures) {
      return Status::Corruption("note: malformed: more than 100 signatures");
    }
    if (!seen_lines.insert(line).second) continue;  // an exact repeat adds nothing

    NoteSignature sig{std::string(name), ReadBigEndian32(*blob), blob->substr(4)};
    const NoteVerifier* key = nullptr;
    for (const NoteVerifier* v : verifiers) {
      if (v && v->name() == sig.name && v->key_id() == sig.key_id) {
        key = v;
        break;
      }
    }
    if (key != nullptr) {
      // A signature from a trusted key that fails is an attack or corruption: reject outright.
      if (!key->Verify(note.text, sig.signature)) {
        return Status::Corruption("note: signature by " + sig.name + "+" + KeyIdHex(sig.key_id) +
                                  " does not verify");
      }
      if (verified_keys.emplace(sig.name, sig.key_id).second) note.verified.push_back(sig);
    }
    note.signatures.push_back(std::move(sig));
  }
  if (note.verified.empty()) {
    return Status::Corruption("note: no signature from a trusted key (" +
                              std::to_string(note.signatures.size()) + " unknown signatures)");
  }
  *out = std::move(note);
  return Status::Ok();
}

}  // namespace ledger
