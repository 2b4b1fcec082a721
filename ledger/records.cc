// Records: record paths, the manifest text, and streaming a file's content into the store.
//
// Order of durability for a file record (log.cc tells the rest):
//   1. content is appended to a staged object (its name already durable) and fsync'd;
//   2. the manifest is appended to the log with the staged -> content/ab/<hex> move attached;
//   3. the publisher moves the content into place (or drops it if identical content exists).
// A crash before 2 leaves a staged object nothing refers to; Log::Open removes it.
#include "ledger/records.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <utility>
#include <vector>

#include "ledger/bundle.h"
#include "ledger/encoding.h"
#include "spdlog/spdlog.h"

namespace ledger {

namespace {

constexpr std::string_view kManifestMagic = "service-fs/record/v1\n";
// Content is moved through memory in pieces of this size, never whole.
constexpr size_t kChunk = 1 << 20;

// --- path escaping ------------------------------------------------------------------------------

// Length of the well-formed UTF-8 sequence of two or more bytes starting at s[i] (RFC 3629 §4: no
// overlong forms, no surrogates, nothing above U+10FFFF), or 0 if there is none.
size_t Utf8SequenceAt(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  auto cont = [&](size_t k, uint8_t lo, uint8_t hi) {
    return k < s.size() && byte(k) >= lo && byte(k) <= hi;
  };
  const uint8_t b = byte(i);
  if (b >= 0xC2 && b <= 0xDF) return cont(i + 1, 0x80, 0xBF) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    const uint8_t lo = b == 0xE0 ? 0xA0 : 0x80;
    const uint8_t hi = b == 0xED ? 0x9F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2, 0x80, 0xBF) ? 3 : 0;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    const uint8_t lo = b == 0xF0 ? 0x90 : 0x80;
    const uint8_t hi = b == 0xF4 ? 0x8F : 0xBF;
    return cont(i + 1, lo, hi) && cont(i + 2, 0x80, 0xBF) && cont(i + 3, 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

void AppendEscaped(uint8_t b, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out->push_back('%');
  out->push_back(kHex[b >> 4]);
  out->push_back(kHex[b & 0xF]);
}

int UpperHexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A path for an error message: escaped (so it is one printable line) and cut short.
std::string QuotePath(std::string_view path) {
  constexpr size_t kMaxShown = 64;
  std::string e = EscapeRecordPath(path.substr(0, kMaxShown));
  if (path.size() > kMaxShown) e += "...";
  return "\"" + e + "\"";
}

// --- manifest parsing ---------------------------------------------------------------------------

// Reads the manifest line "<key> <value>\n" at *pos; advances past it.
Status ReadLine(std::string_view entry, size_t* pos, std::string_view key,
                std::string_view* value) {
  const std::string_view rest = entry.substr(*pos);
  if (rest.size() <= key.size() || rest.substr(0, key.size()) != key || rest[key.size()] != ' ') {
    return Status::Corruption("manifest: expected a '" + std::string(key) + "' line at byte " +
                              std::to_string(*pos));
  }
  const size_t end = rest.find('\n');
  if (end == std::string_view::npos) {
    return Status::Corruption("manifest: the '" + std::string(key) +
                              "' line does not end in a newline");
  }
  *value = rest.substr(key.size() + 1, end - key.size() - 1);
  *pos += end + 1;
  return Status::Ok();
}

Status CheckManifestSize(const std::string& manifest) {
  if (manifest.size() > kMaxEntrySize) {
    return Status::InvalidArgument("manifest of " + std::to_string(manifest.size()) +
                                   " bytes exceeds the 65,535-byte entry limit");
  }
  return Status::Ok();
}

// SHA-256 of a stored object, read in chunks; *size is how many bytes were read.
Status HashStoredObject(Storage* storage, const std::string& name, Hash* digest, uint64_t* size) {
  Sha256Stream hash;
  std::string chunk;
  uint64_t offset = 0;
  for (;;) {
    LEDGER_RETURN_IF_ERROR(storage->ReadAt(name, offset, kChunk, &chunk));
    hash.Update(chunk);
    offset += chunk.size();
    if (chunk.size() < kChunk) break;
  }
  *digest = hash.Finish();
  *size = offset;
  return Status::Ok();
}

// --- the writer ---------------------------------------------------------------------------------

class StagedRecordWriter final : public RecordWriter {
 public:
  StagedRecordWriter(Log* log, Storage* storage, std::string path,
                     std::unique_ptr<StorageWriter> staged)
      : log_(log), storage_(storage), path_(std::move(path)), staged_(std::move(staged)) {}
  ~StagedRecordWriter() override { Abort(); }

  Status Write(std::string_view data) override {
    LEDGER_RETURN_IF_ERROR(CheckWritable());
    Status st = staged_->Append(data);
    if (!st.ok()) return Broken(st);
    if (!rehash_) hash_.Update(data);
    return Status::Ok();
  }

  Status WriteAt(uint64_t offset, std::string_view data) override {
    LEDGER_RETURN_IF_ERROR(CheckWritable());
    // A hole is filled with zeros (as a sparse file reads back), keeping the stream in order.
    if (offset > staged_->size()) {
      const std::string zeros(std::min<uint64_t>(kChunk, offset - staged_->size()), '\0');
      while (staged_->size() < offset) {
        const uint64_t n = std::min<uint64_t>(zeros.size(), offset - staged_->size());
        LEDGER_RETURN_IF_ERROR(Write(std::string_view(zeros).substr(0, n)));
      }
    }
    if (offset == staged_->size()) return Write(data);
    // Overwriting bytes already hashed: the stream is no longer the content's digest.
    Status st = staged_->WriteAt(offset, data);
    if (!st.ok()) return Broken(st);
    rehash_ = true;
    return Status::Ok();
  }

  uint64_t size() const override { return staged_->size(); }

  Status Commit(RecordInfo* info) override {
    LEDGER_RETURN_IF_ERROR(CheckWritable());
    done_ = true;
    const std::string staged_name = staged_->name();
    Status st = Seal(info);
    if (!st.ok()) {
      Discard(staged_name);
      return st.WithContext("record " + QuotePath(path_));
    }
    const std::string manifest = FormatManifest(*info);
    st = CheckManifestSize(manifest);
    if (!st.ok()) {
      Discard(staged_name);
      return st.WithContext("record " + QuotePath(path_));
    }
    std::vector<Attachment> attachments{{staged_name, ContentName(info->sha256_hex)}};
    st = log_->Append(manifest, std::move(attachments), &info->index);
    if (!st.ok()) {
      // While the log is healthy a failed Append committed nothing. Once it has failed, the entry
      // may be in the commit log: leave the content for recovery, which removes it if unused.
      if (log_->health().ok()) Discard(staged_name);
      return st.WithContext("record " + QuotePath(path_));
    }
    return Status::Ok();
  }

  void Abort() override {
    if (done_) return;
    done_ = true;
    Discard(staged_->name());
  }

 private:
  Status CheckWritable() const {
    if (done_) {
      return Status::InvalidArgument("record " + QuotePath(path_) +
                                     ": already committed or aborted");
    }
    return broken_;
  }

  // After a failed write the staged bytes are unknown, so the record can only be aborted.
  Status Broken(const Status& st) {
    broken_ = st;
    return st;
  }

  // Makes the content durable and fills in everything but the index.
  Status Seal(RecordInfo* info) {
    LEDGER_RETURN_IF_ERROR(staged_->Sync());
    LEDGER_RETURN_IF_ERROR(staged_->Close());
    Hash digest = hash_.Finish();
    uint64_t size = staged_->size();
    if (rehash_) {
      LEDGER_RETURN_IF_ERROR(HashStoredObject(storage_, staged_->name(), &digest, &size));
      if (size != staged_->size()) {
        return Status::Corruption(staged_->name() + ": reads back " + std::to_string(size) +
                                  " bytes, " + std::to_string(staged_->size()) + " were written");
      }
    }
    *info = RecordInfo{};
    info->kind = RecordInfo::Kind::kFile;
    info->path = path_;
    info->size = size;
    info->sha256_hex = HashToHex(digest);
    info->received = Rfc3339Now();
    return Status::Ok();
  }

  void Discard(const std::string& staged_name) {
    staged_->Close();  // its outcome no longer matters: the bytes are dropped
    Status rm = storage_->Remove(staged_name);
    if (!rm.ok() && rm.code() != Status::Code::kNotFound) {
      // Harmless: Log::Open removes staged objects no entry refers to.
      spdlog::warn("{}: could not remove {}: {}", storage_->Describe(), staged_name, rm.ToString());
    }
  }

  Log* const log_;
  Storage* const storage_;
  const std::string path_;
  std::unique_ptr<StorageWriter> staged_;
  Sha256Stream hash_;    // digest of bytes [0, size()) while !rehash_
  bool rehash_ = false;  // a WriteAt overwrote hashed bytes: digest is recomputed at Commit
  bool done_ = false;    // committed or aborted
  Status broken_;        // the first failed write, if any
};

}  // namespace

// --- paths --------------------------------------------------------------------------------------

Status ValidateRecordPath(std::string_view path) {
  auto invalid = [&](const std::string& why) {
    return Status::InvalidArgument("record path " + QuotePath(path) + ": " + why);
  };
  if (path.empty()) return Status::InvalidArgument("record path is empty");
  if (path.size() > kMaxRecordPath) {
    return invalid("path of " + std::to_string(path.size()) +
                   " bytes exceeds the 4,096-byte limit");
  }
  if (path.find('\0') != std::string_view::npos) return invalid("path contains a NUL byte");
  if (path.front() == '/') return invalid("path must be relative (it starts with '/')");
  size_t start = 0;
  for (;;) {
    const size_t slash = path.find('/', start);
    const std::string_view c =
        path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
    if (c.empty()) return invalid("path has an empty component (\"//\" or a trailing '/')");
    if (c == "." || c == "..")
      return invalid("path component '" + std::string(c) + "' is not allowed");
    if (c.size() > kMaxRecordPathComponent) {
      return invalid("path component of " + std::to_string(c.size()) +
                     " bytes exceeds the 255-byte limit");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return Status::Ok();
}

std::string EscapeRecordPath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size();) {
    const uint8_t b = static_cast<uint8_t>(path[i]);
    if (b < 0x80) {
      if (b < 0x21 || b == 0x7F || b == '%') {
        AppendEscaped(b, &out);
      } else {
        out.push_back(static_cast<char>(b));
      }
      ++i;
      continue;
    }
    const size_t n = Utf8SequenceAt(path, i);
    if (n == 0) {
      // One byte at a time: the next byte may begin a valid sequence of its own.
      AppendEscaped(b, &out);
      ++i;
    } else {
      out.append(path.substr(i, n));
      i += n;
    }
  }
  return out;
}

Status UnescapeRecordPath(std::string_view escaped, std::string* out) {
  std::string raw;
  raw.reserve(escaped.size());
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] != '%') {
      raw.push_back(escaped[i]);
      continue;
    }
    const int hi = i + 1 < escaped.size() ? UpperHexValue(escaped[i + 1]) : -1;
    const int lo = i + 2 < escaped.size() ? UpperHexValue(escaped[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return Status::Corruption("path: '%' at byte " + std::to_string(i) +
                                " is not followed by two uppercase hex digits");
    }
    raw.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  // Exactly one escaped form per path, so a manifest's bytes are determined by its record.
  if (EscapeRecordPath(raw) != escaped) {
    return Status::Corruption("path: not in canonical escaped form (expected \"" +
                              EscapeRecordPath(raw) + "\")");
  }
  *out = std::move(raw);
  return Status::Ok();
}

// --- manifest -----------------------------------------------------------------------------------

std::string FormatManifest(const RecordInfo& info) {
  const bool file = info.kind == RecordInfo::Kind::kFile;
  std::string m(kManifestMagic);
  m += file ? "kind file\n" : "kind directory\n";
  m += "path " + EscapeRecordPath(info.path) + "\n";
  if (file) {
    m += "size " + std::to_string(info.size) + "\n";
    m += "sha256 " + info.sha256_hex + "\n";
  }
  m += "received " + info.received + "\n";
  return m;
}

Status ParseManifest(std::string_view entry, RecordInfo* out) {
  if (!entry.starts_with(kManifestMagic)) {
    return Status::Corruption("manifest: does not start with \"service-fs/record/v1\"");
  }
  size_t pos = kManifestMagic.size();
  RecordInfo info;
  std::string_view v;
  LEDGER_RETURN_IF_ERROR(ReadLine(entry, &pos, "kind", &v));
  if (v == "file") {
    info.kind = RecordInfo::Kind::kFile;
  } else if (v == "directory") {
    info.kind = RecordInfo::Kind::kDirectory;
  } else {
    return Status::Corruption("manifest: kind \"" + EscapeRecordPath(v) +
                              "\" is neither \"file\" nor \"directory\"");
  }
  LEDGER_RETURN_IF_ERROR(ReadLine(entry, &pos, "path", &v));
  LEDGER_RETURN_IF_ERROR(UnescapeRecordPath(v, &info.path).WithContext("manifest"));
  Status valid = ValidateRecordPath(info.path);
  if (!valid.ok()) return Status::Corruption("manifest: " + valid.message());
  if (info.kind == RecordInfo::Kind::kFile) {
    LEDGER_RETURN_IF_ERROR(ReadLine(entry, &pos, "size", &v));
    std::optional<uint64_t> size = ParseDecimal(v);
    if (!size) {
      return Status::Corruption("manifest: size \"" + EscapeRecordPath(v) +
                                "\" is not a decimal without leading zeros");
    }
    info.size = *size;
    LEDGER_RETURN_IF_ERROR(ReadLine(entry, &pos, "sha256", &v));
    Hash digest;
    if (!HashFromHex(v, &digest)) {
      return Status::Corruption("manifest: sha256 \"" + EscapeRecordPath(v) +
                                "\" is not 64 lowercase hex digits");
    }
    info.sha256_hex = std::string(v);
  }
  LEDGER_RETURN_IF_ERROR(ReadLine(entry, &pos, "received", &v));
  if (!IsCanonicalTimestamp(v)) {
    return Status::Corruption("manifest: received \"" + EscapeRecordPath(v) +
                              "\" is not an RFC 3339 UTC time like 2026-11-25T21:54:35.123Z");
  }
  info.received = std::string(v);
  if (pos != entry.size()) {
    return Status::Corruption("manifest: " + std::to_string(entry.size() - pos) +
                              " unexpected bytes after the 'received' line");
  }
  *out = std::move(info);
  return Status::Ok();
}

std::string ContentName(const std::string& sha256_hex) {
  return "content/" + sha256_hex.substr(0, 2) + "/" + sha256_hex;
}

std::string Rfc3339Now() {
  using namespace std::chrono;
  const int64_t ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  const time_t secs = static_cast<time_t>(ms / 1000);
  struct tm t;
  gmtime_r(&secs, &t);
  char buf[80];  // room for any int fields, so the compiler can see nothing is cut
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

bool IsCanonicalTimestamp(std::string_view s) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (s.size() != kShape.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool digit = s[i] >= '0' && s[i] <= '9';
    if (kShape[i] == 'd' ? !digit : s[i] != kShape[i]) return false;
  }
  auto num = [&](size_t pos, size_t len) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  const int year = num(0, 4), month = num(5, 2), day = num(8, 2);
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int days = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  return day <= days && num(11, 2) <= 23 && num(14, 2) <= 59 && num(17, 2) <= 59;
}

// --- Records ------------------------------------------------------------------------------------

Status Records::BeginFile(const std::string& path, std::unique_ptr<RecordWriter>* out) {
  LEDGER_RETURN_IF_ERROR(ValidateRecordPath(path));
  return BeginFileUnchecked(path, out);
}

Status Records::BeginFileUnchecked(const std::string& path, std::unique_ptr<RecordWriter>* out) {
  std::unique_ptr<StorageWriter> staged;
  LEDGER_RETURN_IF_ERROR(storage_->CreateStaged(store_layout::kStagingDir, &staged));
  *out = std::make_unique<StagedRecordWriter>(log_, storage_, path, std::move(staged));
  return Status::Ok();
}

Status Records::AppendFromFd(const std::string& path, int fd, RecordInfo* info) {
  std::unique_ptr<RecordWriter> writer;
  LEDGER_RETURN_IF_ERROR(BeginFile(path, &writer));
  std::string buf(kChunk, '\0');
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno("read " + QuotePath(path), errno);
    if (n == 0) break;
    LEDGER_RETURN_IF_ERROR(writer->Write(std::string_view(buf.data(), static_cast<size_t>(n))));
  }
  return writer->Commit(info);  // on any early return the writer's destructor aborts
}

Status Records::AppendDirectory(const std::string& path, RecordInfo* info) {
  LEDGER_RETURN_IF_ERROR(ValidateRecordPath(path));
  RecordInfo d;
  d.kind = RecordInfo::Kind::kDirectory;
  d.path = path;
  d.received = Rfc3339Now();
  const std::string manifest = FormatManifest(d);
  LEDGER_RETURN_IF_ERROR(CheckManifestSize(manifest).WithContext("record " + QuotePath(path)));
  LEDGER_RETURN_IF_ERROR(log_->Append(manifest, &d.index));
  *info = std::move(d);
  return Status::Ok();
}

Status Records::CheckEntryContent(Storage* storage, uint64_t index, std::string_view entry) {
  if (!entry.starts_with(kManifestMagic)) return Status::Ok();  // not a record
  const std::string at = " (entry " + std::to_string(index) + ")";
  RecordInfo info;
  Status st = ParseManifest(entry, &info);
  if (!st.ok()) return Status::Corruption(st.message() + at);
  if (info.kind == RecordInfo::Kind::kDirectory) return Status::Ok();

  const std::string name = ContentName(info.sha256_hex);
  uint64_t stored_size = 0;
  st = storage->Size(name, &stored_size);
  if (st.code() == Status::Code::kNotFound) {
    return Status::Corruption(name + ": content file is missing" + at);
  }
  LEDGER_RETURN_IF_ERROR(st.WithContext(name));
  if (stored_size != info.size) {
    return Status::Corruption(name + ": holds " + std::to_string(stored_size) +
                              " bytes, the manifest says " + std::to_string(info.size) + at);
  }
  Hash digest;
  uint64_t read = 0;
  LEDGER_RETURN_IF_ERROR(HashStoredObject(storage, name, &digest, &read).WithContext(name));
  if (read != info.size || HashToHex(digest) != info.sha256_hex) {
    return Status::Corruption(name + ": content hashes to " + HashToHex(digest) +
                              ", not the manifest's sha256" + at);
  }
  return Status::Ok();
}

}  // namespace ledger
