#include "mount/published_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

#include "ledger/bundle.h"
#include "ledger/hash.h"
#include "ledger/log.h"
#include "ledger/note.h"
#include "ledger/tile_path.h"
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

bool StoreLockHeld(const std::string& store) {
  struct stat lock;
  const std::string name = store + "/" + ledger::store_layout::kLockName;
  if (::stat(name.c_str(), &lock) != 0) return false;  // never locked: no log ever opened it
  std::ifstream locks("/proc/locks");
  if (!locks) return true;
  // "1: FLOCK  ADVISORY  WRITE 1234 fe:00:10953148 0 EOF": the file is major:minor:inode. Only
  // the inode is compared (the device numbers of overlay and FUSE file systems differ between
  // stat and /proc/locks); a false match only makes a failure wait.
  const std::string inode = ":" + std::to_string(lock.st_ino);
  std::string line;
  while (std::getline(locks, line)) {
    std::istringstream fields(line);
    std::string id, kind, field;
    fields >> id >> kind;
    if (kind == "->") fields >> kind;  // a waiter: "1: -> FLOCK ..."
    if (kind != "FLOCK") continue;
    while (fields >> field) {
      if (field.size() > inode.size() && field.ends_with(inode) &&
          std::count(field.begin(), field.end(), ':') == 2) {
        return true;
      }
    }
  }
  return false;
}

namespace {

constexpr size_t kReadChunk = 1 << 20;
// Entries that start otherwise are not records (as for Records::CheckEntryContent).
constexpr std::string_view kManifestMagic = "service-fs/record/v1\n";

std::string Shown(const std::string& path) {
  return "records/" + ledger::EscapeRecordPath(path);
}

std::string Describe(uint64_t index, const ledger::RecordInfo& info) {
  return "record " + std::to_string(index) + " (" +
         (info.kind == ledger::RecordInfo::Kind::kDirectory ? "folder " : "file ") +
         ledger::EscapeRecordPath(info.path) + ")";
}

// Whether an earlier record `q` keeps record `p` out of records/: the mount keeps the first
// record of a path, and a file never doubles as a folder.
bool Holds(const ledger::RecordInfo& q, const ledger::RecordInfo& p) {
  if (q.path == p.path) return true;
  if (q.kind == ledger::RecordInfo::Kind::kFile && p.path.size() > q.path.size() &&
      p.path.starts_with(q.path) && p.path[q.path.size()] == '/') {
    return true;  // q is a file where p needs a folder
  }
  return p.kind == ledger::RecordInfo::Kind::kFile && q.path.size() > p.path.size() &&
         q.path.starts_with(p.path) && q.path[p.path.size()] == '/';  // p is already a folder
}

}  // namespace

void MountRecordChecker::Reset() {
  files_checked_ = 0;
  hidden_.clear();
  bundle_ = UINT64_MAX;
  bundle_entries_.clear();
}

ledger::Status MountRecordChecker::Check(uint64_t index, std::string_view entry) {
  if (index / ledger::kTileWidth != bundle_) {
    bundle_ = index / ledger::kTileWidth;
    bundle_entries_.clear();
  }
  ledger::Status st = ledger::Status::Ok();
  ledger::RecordInfo info;
  // Not a record manifest: nothing to check (a log may hold other entries).
  if (entry.starts_with(kManifestMagic)) {
    st = ledger::ParseManifest(entry, &info);
    if (!st.ok()) {
      st = ledger::Status::Corruption(st.message() + " (entry " + std::to_string(index) + ")");
    } else {
      st = CheckShown(index, info);
      // Only what the mount shows wrongly can be an earlier record's doing; I/O and permission
      // errors are reported as they are.
      if (st.code() == ledger::Status::Code::kCorruption) {
        bool found = false;
        std::string by;
        LEDGER_RETURN_IF_ERROR(FindEarlierHolder(index, info, &found, &by));
        if (found) {
          hidden_.push_back(Describe(index, info) + " is hidden by " + by);
          st = ledger::Status::Ok();
        }
      }
    }
  }
  bundle_entries_.emplace_back(entry);
  return st;
}

// Opens `rel` below folder `root` one component at a time, so a record path of up to 4,096 bytes
// works whatever the mountpoint's own length (a whole path may exceed PATH_MAX). Symbolic links
// are not followed. -1 with errno on failure.
static int OpenBelow(const std::string& root, const std::string& rel, int flags) {
  int dir = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  size_t start = 0;
  while (dir >= 0) {
    const size_t slash = rel.find('/', start);
    const std::string part = rel.substr(start, slash == std::string::npos ? slash : slash - start);
    const bool last = slash == std::string::npos;
    const int next =
        ::openat(dir, part.c_str(), (last ? flags : O_PATH | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC);
    const int err = errno;
    ::close(dir);
    errno = err;
    if (last) return next;
    dir = next;
    start = slash + 1;
  }
  return -1;
}

ledger::Status MountRecordChecker::CheckShown(uint64_t index, const ledger::RecordInfo& info) {
  const std::string at = " (entry " + std::to_string(index) + ")";
  const std::string shown = Shown(info.path);
  if (info.kind == ledger::RecordInfo::Kind::kDirectory) {
    struct stat st;
    const int dfd = OpenBelow(mount_ + "/records", info.path, O_PATH);
    const bool ok = dfd >= 0 && ::fstat(dfd, &st) == 0;
    const int err = errno;
    if (dfd >= 0) ::close(dfd);
    errno = err;
    if (!ok) {
      if (errno == ENOENT || errno == ENOTDIR) {
        return ledger::Status::Corruption(shown + ": folder record is missing" + at);
      }
      return ledger::Status::FromErrno(shown, errno);
    }
    if (!S_ISDIR(st.st_mode)) {
      return ledger::Status::Corruption(shown + ": is not a folder, but a folder record" + at);
    }
    return ledger::Status::Ok();
  }

  const int fd = OpenBelow(mount_ + "/records", info.path, O_RDONLY);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return ledger::Status::Corruption(shown + ": record is missing" + at);
    }
    if (errno == EISDIR) return ledger::Status::Corruption(shown + ": is a folder" + at);
    return ledger::Status::FromErrno("open " + shown, errno);
  }
  struct stat st;
  ledger::Status result = ledger::Status::Ok();
  if (::fstat(fd, &st) != 0) {
    result = ledger::Status::FromErrno("stat " + shown, errno);
  } else if (!S_ISREG(st.st_mode)) {
    result = ledger::Status::Corruption(shown + ": is not a regular file" + at);
  } else if (static_cast<uint64_t>(st.st_size) != info.size) {
    result =
        ledger::Status::Corruption(shown + ": holds " + std::to_string(st.st_size) +
                                   " bytes, the manifest says " + std::to_string(info.size) + at);
  } else {
    ledger::Sha256Stream hash;
    std::string buf(kReadChunk, '\0');
    uint64_t total = 0;
    for (;;) {
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        result = ledger::Status::FromErrno("read " + shown, errno);
        break;
      }
      if (n == 0) break;
      hash.Update(buf.data(), static_cast<size_t>(n));
      total += static_cast<uint64_t>(n);
    }
    if (result.ok()) {
      const std::string hex = ledger::HashToHex(hash.Finish());
      if (total != info.size || hex != info.sha256_hex) {
        result = ledger::Status::Corruption(shown + ": content hashes to " + hex + " (" +
                                            std::to_string(total) +
                                            " bytes), not the manifest's sha256" + at);
      } else {
        ++files_checked_;
      }
    }
  }
  ::close(fd);
  return result;
}

ledger::Status MountRecordChecker::FindEarlierHolder(uint64_t index, const ledger::RecordInfo& info,
                                                     bool* found, std::string* by) {
  *found = false;
  auto consider = [&](uint64_t j, std::string_view entry) {
    ledger::RecordInfo q;
    if (!entry.starts_with(kManifestMagic) || !ledger::ParseManifest(entry, &q).ok()) {
      return false;
    }
    if (!Holds(q, info)) return false;
    *found = true;
    *by = Describe(j, q);
    return true;
  };
  // Earlier bundles are full (the checkpoint covers `index`, which lies beyond them).
  std::string bytes;
  std::vector<std::string_view> entries;
  for (uint64_t b = 0; b < index / ledger::kTileWidth; ++b) {
    const std::string path = ledger::EntryBundlePath(b, static_cast<int>(ledger::kTileWidth));
    LEDGER_RETURN_IF_ERROR(tree_->Read(path, &bytes).WithContext(path));
    LEDGER_RETURN_IF_ERROR(ledger::SplitBundle(bytes, &entries).WithContext(path));
    for (size_t i = 0; i < entries.size(); ++i) {
      if (consider(b * ledger::kTileWidth + i, entries[i])) return ledger::Status::Ok();
    }
  }
  const uint64_t first = index - index % ledger::kTileWidth;
  for (size_t i = 0; i < bundle_entries_.size(); ++i) {
    if (consider(first + i, bundle_entries_[i])) return ledger::Status::Ok();
  }
  return ledger::Status::Ok();
}

}  // namespace ledgerfs
