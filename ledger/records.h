// Records (PRODUCT §3): one stored file = one log entry. The entry is a small UTF-8 manifest a
// person can read with `cat`; the content is a plain file named by its SHA-256 hex digest
// ("content/<first 2 hex>/<64 hex>"), fsync'd under a staged name before the entry is committed
// and moved into place by the log's publisher. Identical content is stored once. Content of any
// size is streamed, never held in memory.
//
// Manifest (every line "key value\n", in this order; docs/format.md):
//   service-fs/record/v1
//   kind file|directory
//   path <percent-escaped path>      bytes < 0x21, 0x7f, '%' and invalid UTF-8 escaped as %XX
//   size <decimal>                   (files only)
//   sha256 <64 lowercase hex>        (files only)
//   received <RFC 3339 UTC, millisecond precision, e.g. 2026-11-25T21:54:35.123Z>
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ledger/hash.h"
#include "ledger/log.h"
#include "ledger/status.h"
#include "ledger/storage.h"

namespace ledger {

struct RecordInfo {
  enum class Kind { kFile, kDirectory };
  Kind kind = Kind::kFile;
  std::string path;  // raw (unescaped) relative path, '/'-separated
  uint64_t size = 0;
  std::string sha256_hex;  // files only
  std::string received;    // RFC 3339 UTC
  uint64_t index = 0;      // log index, once committed
};

// Relative path rules shared by every access layer (inbox, HTTP, CLI): non-empty components, no
// "." or "..", no NUL, no leading '/', at most 4096 bytes, each component at most 255 bytes.
inline constexpr size_t kMaxRecordPath = 4096;
inline constexpr size_t kMaxRecordPathComponent = 255;
Status ValidateRecordPath(std::string_view path);

// The manifest's path escaping (see above) and its inverse; UnescapeRecordPath refuses malformed
// and non-canonical escapes (Corruption with the reason).
std::string EscapeRecordPath(std::string_view path);
Status UnescapeRecordPath(std::string_view escaped, std::string* out);

std::string FormatManifest(const RecordInfo& info);
Status ParseManifest(std::string_view entry, RecordInfo* out);  // strict; Corruption with reason
std::string ContentName(const std::string& sha256_hex);         // "content/ab/ab…"
std::string Rfc3339Now();
// True if `s` is "YYYY-MM-DDTHH:MM:SS.mmmZ", a real calendar date and time of day: the one form
// FormatManifest writes (RFC 3339 allows others; a strict reader refuses them).
bool IsCanonicalTimestamp(std::string_view s);

// Streams one file's content into the store. Not thread-safe; one writer per file.
class RecordWriter {
 public:
  virtual ~RecordWriter() = default;
  virtual Status Write(std::string_view data) = 0;  // appends
  // Writes at an offset (out-of-order writers); the digest is then recomputed at Commit.
  virtual Status WriteAt(uint64_t offset, std::string_view data) = 0;
  virtual uint64_t size() const = 0;
  // fsyncs the content, then appends the manifest to the log; durable on return.
  virtual Status Commit(RecordInfo* info) = 0;
  // Drops the staged content; no record is made.
  virtual void Abort() = 0;
};

class Records {
 public:
  Records(Log* log, Storage* storage) : log_(log), storage_(storage) {}
  // InvalidArgument if `path` fails ValidateRecordPath.
  Status BeginFile(const std::string& path, std::unique_ptr<RecordWriter>* out);
  // BeginFile without ValidateRecordPath, so tests can reach the manifest-size check at Commit.
  // Access layers must use BeginFile: ParseManifest refuses a path that fails the rules.
  Status BeginFileUnchecked(const std::string& path, std::unique_ptr<RecordWriter>* out);
  // Reads fd to its end and commits it as one record.
  Status AppendFromFd(const std::string& path, int fd, RecordInfo* info);
  Status AppendDirectory(const std::string& path, RecordInfo* info);

  // For the verifier: if `entry` is a record manifest, its content exists in `storage` with the
  // stated size and digest. Corruption naming the content file otherwise. Entries that are not
  // manifests are accepted (a log may hold other entries).
  static Status CheckEntryContent(Storage* storage, uint64_t index, std::string_view entry);

 private:
  Log* log_;
  Storage* storage_;
};

}  // namespace ledger
