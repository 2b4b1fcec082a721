#include "fs/ledger_fs.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "fs/inbox_file.h"
#include "spdlog/spdlog.h"

namespace fs {

namespace {

using NodeId = ledger::RecordIndex::NodeId;

// --- inode numbers --------------------------------------------------------------------------
enum class View { kRoot = 0, kInbox = 1, kRecords = 2, kPublished = 3 };

constexpr fuse_ino_t kRootIno = FUSE_ROOT_ID;
constexpr fuse_ino_t InoOf(View view, uint64_t id) {
  return static_cast<fuse_ino_t>((id << 2) | static_cast<uint64_t>(view));
}
View ViewOf(fuse_ino_t ino) {
  return ino == kRootIno ? View::kRoot : static_cast<View>(ino & 3);
}
uint64_t IdOf(fuse_ino_t ino) {
  return ino >> 2;
}

// --- cache lifetimes (seconds) ----------------------------------------------------------------
constexpr double kForever = 86400.0;  // records, full tiles: never change
constexpr double kShort = 1.0;        // folders (children come and go), sealed inbox names
constexpr double kNever = 0.0;        // the checkpoint's size, files being written

constexpr mode_t kInboxDirMode = 0700, kInboxFileMode = 0600;
constexpr mode_t kReadDirMode = 0550, kReadFileMode = 0440;

// A record of records/: its content, read through Storage. The content sits under a staged name
// until the publisher moves it to content/<hh>/<hex>; a read that finds it gone asks again.
class RecordFile final : public Handle {
 public:
  RecordFile(ledger::Storage* storage, std::string content_name, std::string readable)
      : storage_(storage), content_name_(std::move(content_name)), readable_(std::move(readable)) {}

  int Read(uint64_t offset, size_t n, std::string* out) override {
    const std::string name = Readable();
    ledger::Status st = storage_->ReadAt(name, offset, n, out);
    if (st.code() == ledger::Status::Code::kNotFound && name != content_name_) {
      // Moved (or dropped as a duplicate) since the open: a rename is atomic, so the content is
      // under its final name now.
      st = storage_->ReadAt(content_name_, offset, n, out);
      if (st.ok()) SetReadable(content_name_);
    }
    if (!st.ok()) {
      spdlog::error("read {}: {}", content_name_, st.ToString());
      return st.ToErrno();
    }
    return 0;
  }

 private:
  std::string Readable() {
    std::lock_guard<std::mutex> lock(mu_);
    return readable_;
  }
  void SetReadable(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    readable_ = name;
  }

  ledger::Storage* const storage_;
  const std::string content_name_;
  std::mutex mu_;
  std::string readable_;
};

// A folder listing taken at opendir, served by offset.
struct DirListing {
  struct Item {
    std::string name;
    fuse_ino_t ino;
    mode_t type;
  };
  std::vector<Item> items;
};

mode_t TypeOf(bool directory) {
  return directory ? S_IFDIR : S_IFREG;
}

Handle* HandleOf(fuse_file_info* fi) {
  return reinterpret_cast<Handle*>(fi->fh);
}

void SetTime(struct stat* st, int64_t ms) {
  st->st_mtim.tv_sec = st->st_atim.tv_sec = st->st_ctim.tv_sec = static_cast<time_t>(ms / 1000);
  st->st_mtim.tv_nsec = st->st_atim.tv_nsec = st->st_ctim.tv_nsec =
      static_cast<long>(ms % 1000) * 1000000;
}

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Status of a failed Reserve -> the errno a create or mkdir answers.
int ReserveErrno(const ledger::Status& st) {
  switch (st.code()) {
    case ledger::Status::Code::kAlreadyExists:
      return EEXIST;
    case ledger::Status::Code::kNotFound:
      return ENOENT;
    case ledger::Status::Code::kInvalidArgument:
      return st.message().find("exceeds") != std::string::npos ? ENAMETOOLONG : EINVAL;
    default:
      return st.ToErrno();
  }
}

}  // namespace

// The handlers. Each is a static function libfuse calls with the LedgerFs as userdata.
class LedgerFs::Ops_ {
 public:
  static LedgerFs* Self(fuse_req_t req) { return static_cast<LedgerFs*>(fuse_req_userdata(req)); }

  // --- attributes ------------------------------------------------------------------------------
  static void Owned(const LedgerFs* fs, struct stat* st) {
    st->st_uid = fs->config_.owner_uid;
    st->st_gid = fs->config_.owner_gid;
    st->st_blksize = 4096;
  }

  static uint64_t PendingSize(const LedgerFs* fs, NodeId node) {
    std::lock_guard<std::mutex> lock(fs->open_mu_);
    auto it = fs->open_files_.find(node);
    return it == fs->open_files_.end() ? 0 : it->second->size();
  }

  // Attributes of a namespace name as `view` shows it; ENOENT if that view does not show it.
  static int NamespaceAttr(const LedgerFs* fs, View view, const ledger::RecordIndex::Entry& e,
                           struct stat* st, double* attr_timeout) {
    if (view == View::kRecords && !e.sealed) return ENOENT;  // not a record (yet)
    *st = {};
    st->st_ino = InoOf(view, e.id);
    Owned(fs, st);
    const bool inbox = view == View::kInbox;
    if (e.directory) {
      st->st_mode = S_IFDIR | (inbox ? kInboxDirMode : kReadDirMode);
      st->st_nlink = 2;
      *attr_timeout = kShort;
    } else {
      st->st_mode = S_IFREG | (inbox ? kInboxFileMode : kReadFileMode);
      st->st_nlink = 1;
      st->st_size = static_cast<off_t>(e.sealed ? e.size : PendingSize(fs, e.id));
      *attr_timeout = !e.sealed ? kNever : inbox ? kShort : kForever;
    }
    st->st_blocks = (st->st_size + 511) / 512;
    SetTime(st, e.recorded ? e.received_ms : fs->mount_time_ms_);
    return 0;
  }

  static int PublishedAttr(LedgerFs* fs, uint64_t id, const PublishedView::Attr& a, struct stat* st,
                           double* attr_timeout) {
    *st = {};
    st->st_ino = InoOf(View::kPublished, id);
    Owned(fs, st);
    if (a.directory) {
      st->st_mode = S_IFDIR | kReadDirMode;
      st->st_nlink = 2;
      *attr_timeout = kShort;
    } else {
      st->st_mode = S_IFREG | kReadFileMode;
      st->st_nlink = 1;
      st->st_size = static_cast<off_t>(a.size);
      st->st_blocks = (st->st_size + 511) / 512;
      *attr_timeout = a.changes ? kNever : kForever;
    }
    SetTime(st, fs->mount_time_ms_);
    return 0;
  }

  static int Attr(LedgerFs* fs, fuse_ino_t ino, struct stat* st, double* attr_timeout) {
    switch (ViewOf(ino)) {
      case View::kRoot:
        *st = {};
        st->st_ino = kRootIno;
        st->st_mode = S_IFDIR | kReadDirMode;
        st->st_nlink = 4;
        Owned(fs, st);
        SetTime(st, fs->mount_time_ms_);
        *attr_timeout = kShort;
        return 0;
      case View::kInbox:
      case View::kRecords: {
        ledger::RecordIndex::Entry e;
        if (!fs->index_->Get(IdOf(ino), &e)) return ENOENT;
        return NamespaceAttr(fs, ViewOf(ino), e, st, attr_timeout);
      }
      case View::kPublished: {
        PublishedView::Attr a;
        const int err = fs->published_.GetAttr(IdOf(ino), &a);
        if (err != 0) return err;
        return PublishedAttr(fs, IdOf(ino), a, st, attr_timeout);
      }
    }
    return ENOENT;
  }

  static void ReplyEntry(fuse_req_t req, LedgerFs* fs, fuse_ino_t ino) {
    fuse_entry_param e{};
    const int err = Attr(fs, ino, &e.attr, &e.attr_timeout);
    if (err != 0) {
      fuse_reply_err(req, err);
      return;
    }
    e.ino = ino;
    // Names that never go away are cached for good; inbox names being written may be dropped
    // (a failed or killed writer), and partial tiles are removed once their tile is full.
    const bool immutable = e.attr_timeout == kForever || S_ISDIR(e.attr.st_mode);
    e.entry_timeout = ViewOf(ino) == View::kInbox ? (e.attr_timeout == kNever ? kNever : kShort)
                      : immutable                 ? kForever
                                                  : kShort;
    if (ViewOf(ino) == View::kPublished && S_ISDIR(e.attr.st_mode)) e.entry_timeout = kShort;
    fuse_reply_entry(req, &e);
  }

  // --- handlers --------------------------------------------------------------------------------
  static void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    LedgerFs* fs = Self(req);
    const std::string_view n(name);
    switch (ViewOf(parent)) {
      case View::kRoot:
        if (n == "inbox")
          return ReplyEntry(req, fs, InoOf(View::kInbox, ledger::RecordIndex::kRoot));
        if (n == "records") {
          return ReplyEntry(req, fs, InoOf(View::kRecords, ledger::RecordIndex::kRoot));
        }
        if (n == "checkpoint") {
          return ReplyEntry(req, fs, InoOf(View::kPublished, PublishedView::kCheckpointId));
        }
        if (n == "tile")
          return ReplyEntry(req, fs, InoOf(View::kPublished, PublishedView::kTileDirId));
        return (void)fuse_reply_err(req, ENOENT);
      case View::kInbox:
      case View::kRecords: {
        ledger::RecordIndex::Entry e;
        if (!fs->index_->Lookup(IdOf(parent), n, &e)) return (void)fuse_reply_err(req, ENOENT);
        return ReplyEntry(req, fs, InoOf(ViewOf(parent), e.id));
      }
      case View::kPublished: {
        uint64_t id = 0;
        PublishedView::Attr a;
        const int err = fs->published_.Lookup(IdOf(parent), n, &id, &a);
        if (err != 0) return (void)fuse_reply_err(req, err);
        return ReplyEntry(req, fs, InoOf(View::kPublished, id));
      }
    }
    fuse_reply_err(req, ENOENT);
  }

  static void GetAttr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
    struct stat st;
    double timeout = 0;
    const int err = Attr(Self(req), ino, &st, &timeout);
    if (err != 0) return (void)fuse_reply_err(req, err);
    fuse_reply_attr(req, &st, timeout);
  }

  // chmod, chown, utimes in inbox/ are accepted and change nothing (docs/mount.md); a size
  // change is the writer's ftruncate, or refused.
  static void SetAttr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set,
                      fuse_file_info* fi) {
    if (ViewOf(ino) != View::kInbox) return (void)fuse_reply_err(req, EROFS);
    if (to_set & FUSE_SET_ATTR_SIZE) {
      auto* file = fi != nullptr ? dynamic_cast<InboxFile*>(HandleOf(fi)) : nullptr;
      if (file == nullptr || file->node() != IdOf(ino)) return (void)fuse_reply_err(req, EPERM);
      const int err = file->Resize(static_cast<uint64_t>(attr->st_size));
      if (err != 0) return (void)fuse_reply_err(req, err);
    }
    GetAttr(req, ino, fi);
  }

  static void Mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t) {
    LedgerFs* fs = Self(req);
    if (ViewOf(parent) != View::kInbox) return (void)fuse_reply_err(req, EROFS);
    NodeId id = 0;
    std::string path;
    ledger::Status st = fs->index_->Reserve(IdOf(parent), name, /*directory=*/true, &id, &path);
    if (!st.ok()) return (void)fuse_reply_err(req, ReserveErrno(st));
    ledger::RecordInfo info;
    st = fs->records_.AppendDirectory(path, &info);
    if (!st.ok()) {
      fs->index_->Unreserve(id);
      spdlog::error("inbox/{}: mkdir not recorded: {}", ledger::EscapeRecordPath(path),
                    st.ToString());
      return (void)fuse_reply_err(req, st.ToErrno());
    }
    fs->index_->Seal(id, info);
    ReplyEntry(req, fs, InoOf(View::kInbox, id));
  }

  static void Create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
                     fuse_file_info* fi) {
    LedgerFs* fs = Self(req);
    if (ViewOf(parent) != View::kInbox) return (void)fuse_reply_err(req, EROFS);
    if (!S_ISREG(mode)) return (void)fuse_reply_err(req, EPERM);
    NodeId id = 0;
    std::string path;
    ledger::Status st = fs->index_->Reserve(IdOf(parent), name, /*directory=*/false, &id, &path);
    if (!st.ok()) return (void)fuse_reply_err(req, ReserveErrno(st));
    std::unique_ptr<ledger::RecordWriter> writer;
    st = fs->records_.BeginFile(path, &writer);
    if (!st.ok()) {
      fs->index_->Unreserve(id);
      spdlog::error("inbox/{}: cannot stage its content: {}", ledger::EscapeRecordPath(path),
                    st.ToString());
      return (void)fuse_reply_err(req, st.ToErrno());
    }
    const pid_t opener = fs->probe_->Inspect(fuse_req_ctx(req)->pid).tgid;
    auto* file = new InboxFile(fs->index_, fs->probe_.get(), id, path, std::move(writer), opener);
    {
      std::lock_guard<std::mutex> lock(fs->open_mu_);
      fs->open_files_[id] = file;
    }
    fi->fh = reinterpret_cast<uint64_t>(static_cast<Handle*>(file));
    fi->keep_cache = 0;
    fuse_entry_param e{};
    e.ino = InoOf(View::kInbox, id);
    double timeout = 0;
    if (Attr(fs, e.ino, &e.attr, &timeout) != 0) {
      // Cannot happen (the name was reserved above); answer rather than leak the handle.
      Forget(fs, file);
      file->Release();
      delete file;
      return (void)fuse_reply_err(req, EIO);
    }
    e.attr_timeout = kNever;
    e.entry_timeout = kNever;
    if (fuse_reply_create(req, &e, fi) != 0) {
      // The caller is gone (interrupted): nobody holds the file, so nothing is recorded.
      Forget(fs, file);
      delete file;
    }
  }

  static void Forget(LedgerFs* fs, InboxFile* file) {
    std::lock_guard<std::mutex> lock(fs->open_mu_);
    fs->open_files_.erase(file->node());
  }

  static void Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    LedgerFs* fs = Self(req);
    const bool writing = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC) != 0;
    switch (ViewOf(ino)) {
      case View::kRoot:
        return (void)fuse_reply_err(req, EISDIR);
      case View::kInbox: {
        ledger::RecordIndex::Entry e;
        if (!fs->index_->Get(IdOf(ino), &e)) return (void)fuse_reply_err(req, ENOENT);
        if (e.directory) return (void)fuse_reply_err(req, EISDIR);
        // Write-only for new names; an existing one (sealed, or being written by its creator)
        // is never opened again.
        return (void)fuse_reply_err(req, writing ? EPERM : EACCES);
      }
      case View::kRecords: {
        if (writing) return (void)fuse_reply_err(req, EROFS);
        ledger::RecordIndex::Entry e;
        if (!fs->index_->Get(IdOf(ino), &e) || !e.sealed) return (void)fuse_reply_err(req, ENOENT);
        if (e.directory) return (void)fuse_reply_err(req, EISDIR);
        const std::string content = ledger::ContentName(ledger::HashToHex(e.sha256));
        std::string readable;
        ledger::Status st = fs->log_->ResolveAttachment(content, &readable);
        if (!st.ok()) {
          spdlog::error("records/{}: content {}: {}",
                        ledger::EscapeRecordPath(fs->index_->PathOf(e.id)), content, st.ToString());
          return (void)fuse_reply_err(req, st.ToErrno());
        }
        fi->fh = reinterpret_cast<uint64_t>(
            static_cast<Handle*>(new RecordFile(fs->storage_, content, readable)));
        fi->keep_cache = 1;  // records never change
        fi->noflush = 1;
        return ReplyOpen(req, fi);
      }
      case View::kPublished: {
        if (writing) return (void)fuse_reply_err(req, EROFS);
        Handle* h = nullptr;
        const int err = fs->published_.Open(IdOf(ino), &h);
        if (err != 0) return (void)fuse_reply_err(req, err);
        fi->fh = reinterpret_cast<uint64_t>(h);
        if (IdOf(ino) == PublishedView::kCheckpointId) {
          fi->direct_io = 1;  // read fresh at every open, whatever size the kernel last saw
        } else {
          fi->keep_cache = 1;  // full and partial tiles never change
        }
        fi->noflush = 1;
        return ReplyOpen(req, fi);
      }
    }
    fuse_reply_err(req, ENOENT);
  }

  static void ReplyOpen(fuse_req_t req, fuse_file_info* fi) {
    if (fuse_reply_open(req, fi) != 0) delete HandleOf(fi);
  }

  static void Read(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
    std::string out;
    const int err = HandleOf(fi)->Read(static_cast<uint64_t>(off), size, &out);
    if (err != 0) return (void)fuse_reply_err(req, err);
    fuse_reply_buf(req, out.data(), out.size());
  }

  static void Write(fuse_req_t req, fuse_ino_t, const char* buf, size_t size, off_t off,
                    fuse_file_info* fi) {
    const int err = HandleOf(fi)->Write(static_cast<uint64_t>(off), std::string_view(buf, size));
    if (err != 0) return (void)fuse_reply_err(req, err);
    fuse_reply_write(req, size);
  }

  static void Flush(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
    fuse_reply_err(req, HandleOf(fi)->Flush(fuse_req_ctx(req)->pid));
  }

  static void Release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
    std::unique_ptr<Handle> h(HandleOf(fi));
    if (auto* file = dynamic_cast<InboxFile*>(h.get())) Forget(Self(req), file);
    h->Release();  // may seal; the kernel does not wait for RELEASE, so the writer does not either
    fuse_reply_err(req, 0);
  }

  static void Fsync(fuse_req_t req, fuse_ino_t, int, fuse_file_info*) {
    // Files being written become durable at their seal; published files already are.
    fuse_reply_err(req, 0);
  }

  static void Fallocate(fuse_req_t req, fuse_ino_t, int mode, off_t offset, off_t length,
                        fuse_file_info* fi) {
    auto* file = dynamic_cast<InboxFile*>(HandleOf(fi));
    if (file == nullptr) return (void)fuse_reply_err(req, EBADF);
    fuse_reply_err(
        req, file->Allocate(mode, static_cast<uint64_t>(offset), static_cast<uint64_t>(length)));
  }

  // --- folders ---------------------------------------------------------------------------------
  static void OpenDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    LedgerFs* fs = Self(req);
    auto listing = std::make_unique<DirListing>();
    listing->items.push_back({".", ino, S_IFDIR});
    listing->items.push_back({"..", kRootIno, S_IFDIR});
    switch (ViewOf(ino)) {
      case View::kRoot:
        listing->items.push_back({"checkpoint", InoOf(View::kPublished, 1), S_IFREG});
        listing->items.push_back(
            {"inbox", InoOf(View::kInbox, ledger::RecordIndex::kRoot), S_IFDIR});
        listing->items.push_back(
            {"records", InoOf(View::kRecords, ledger::RecordIndex::kRoot), S_IFDIR});
        listing->items.push_back({"tile", InoOf(View::kPublished, 2), S_IFDIR});
        break;
      case View::kInbox:
      case View::kRecords: {
        std::vector<std::pair<std::string, ledger::RecordIndex::Entry>> children;
        ledger::Status st = fs->index_->List(IdOf(ino), &children);
        if (!st.ok()) return (void)fuse_reply_err(req, ENOTDIR);
        for (const auto& [name, e] : children) {
          if (ViewOf(ino) == View::kRecords && !e.sealed) continue;
          listing->items.push_back({name, InoOf(ViewOf(ino), e.id), TypeOf(e.directory)});
        }
        break;
      }
      case View::kPublished: {
        std::vector<PublishedView::Child> children;
        const int err = fs->published_.List(IdOf(ino), &children);
        if (err != 0) return (void)fuse_reply_err(req, err);
        for (const auto& c : children) {
          listing->items.push_back({c.name, InoOf(View::kPublished, c.id), TypeOf(c.directory)});
        }
        break;
      }
    }
    fi->fh = reinterpret_cast<uint64_t>(listing.get());
    if (fuse_reply_open(req, fi) == 0) listing.release();
  }

  static void ReadDir(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
    const auto* listing = reinterpret_cast<const DirListing*>(fi->fh);
    std::string buf(size, '\0');
    size_t used = 0;
    for (size_t i = static_cast<size_t>(off); i < listing->items.size(); ++i) {
      const DirListing::Item& item = listing->items[i];
      struct stat st {};
      st.st_ino = item.ino;
      st.st_mode = item.type;
      const size_t need = fuse_add_direntry(req, buf.data() + used, size - used, item.name.c_str(),
                                            &st, static_cast<off_t>(i + 1));
      if (need > size - used) break;
      used += need;
    }
    fuse_reply_buf(req, buf.data(), used);
  }

  static void ReleaseDir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
    delete reinterpret_cast<DirListing*>(fi->fh);
    fuse_reply_err(req, 0);
  }

  // --- refusals --------------------------------------------------------------------------------
  // In inbox/ nothing written can be moved, removed or linked (EPERM); everywhere else the mount
  // is read-only (EROFS).
  static int Refusal(fuse_ino_t parent) { return ViewOf(parent) == View::kInbox ? EPERM : EROFS; }
  static void Unlink(fuse_req_t req, fuse_ino_t parent, const char*) {
    fuse_reply_err(req, Refusal(parent));
  }
  static void Rename(fuse_req_t req, fuse_ino_t parent, const char*, fuse_ino_t newparent,
                     const char*, unsigned int) {
    const bool inbox = ViewOf(parent) == View::kInbox && ViewOf(newparent) == View::kInbox;
    fuse_reply_err(req, inbox ? EPERM : EROFS);
  }
  static void Link(fuse_req_t req, fuse_ino_t, fuse_ino_t newparent, const char*) {
    fuse_reply_err(req, Refusal(newparent));
  }
  static void Symlink(fuse_req_t req, const char*, fuse_ino_t parent, const char*) {
    fuse_reply_err(req, Refusal(parent));
  }
  static void Mknod(fuse_req_t req, fuse_ino_t parent, const char*, mode_t, dev_t) {
    fuse_reply_err(req, Refusal(parent));
  }
  static void NoXattrs(fuse_req_t req) { fuse_reply_err(req, ENOSYS); }

  static void Statfs(fuse_req_t req, fuse_ino_t) {
    struct statvfs sv {};
    const std::string& path = Self(req)->config_.store_path;
    if (!path.empty() && ::statvfs(path.c_str(), &sv) != 0) sv = {};
    sv.f_namemax = ledger::kMaxRecordPathComponent;
    fuse_reply_statfs(req, &sv);
  }

  static void Init(void*, fuse_conn_info* conn) {
    // Inbox data must reach the daemon write by write (it hashes and refuses), never through a
    // writeback cache that would report errors late and read write-only files.
    conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
  }
};

namespace {

// Guards each handler: an exception (an allocation failure) becomes EIO instead of crossing
// into libfuse's C code. Every handler replies as its last step, so one that threw has not
// replied yet.
template <typename F>
void Guarded(fuse_req_t req, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    spdlog::error("FUSE request failed: {}", e.what());
    fuse_reply_err(req, EIO);
  } catch (...) {
    fuse_reply_err(req, EIO);
  }
}

}  // namespace

const fuse_lowlevel_ops* LedgerFs::Ops() {
  static const fuse_lowlevel_ops ops = [] {
    fuse_lowlevel_ops o{};
    using H = LedgerFs::Ops_;
    o.init = H::Init;
    o.lookup = [](fuse_req_t r, fuse_ino_t p, const char* n) {
      Guarded(r, [&] { H::Lookup(r, p, n); });
    };
    o.getattr = [](fuse_req_t r, fuse_ino_t i, fuse_file_info* fi) {
      Guarded(r, [&] { H::GetAttr(r, i, fi); });
    };
    o.setattr = [](fuse_req_t r, fuse_ino_t i, struct stat* a, int s, fuse_file_info* fi) {
      Guarded(r, [&] { H::SetAttr(r, i, a, s, fi); });
    };
    o.mkdir = [](fuse_req_t r, fuse_ino_t p, const char* n, mode_t m) {
      Guarded(r, [&] { H::Mkdir(r, p, n, m); });
    };
    o.create = [](fuse_req_t r, fuse_ino_t p, const char* n, mode_t m, fuse_file_info* fi) {
      Guarded(r, [&] { H::Create(r, p, n, m, fi); });
    };
    o.open = [](fuse_req_t r, fuse_ino_t i, fuse_file_info* fi) {
      Guarded(r, [&] { H::Open(r, i, fi); });
    };
    o.read = [](fuse_req_t r, fuse_ino_t i, size_t s, off_t off, fuse_file_info* fi) {
      Guarded(r, [&] { H::Read(r, i, s, off, fi); });
    };
    o.write = [](fuse_req_t r, fuse_ino_t i, const char* b, size_t s, off_t off,
                 fuse_file_info* fi) { Guarded(r, [&] { H::Write(r, i, b, s, off, fi); }); };
    o.flush = [](fuse_req_t r, fuse_ino_t i, fuse_file_info* fi) {
      Guarded(r, [&] { H::Flush(r, i, fi); });
    };
    o.release = [](fuse_req_t r, fuse_ino_t i, fuse_file_info* fi) {
      Guarded(r, [&] { H::Release(r, i, fi); });
    };
    o.fsync = [](fuse_req_t r, fuse_ino_t i, int d, fuse_file_info* fi) {
      Guarded(r, [&] { H::Fsync(r, i, d, fi); });
    };
    o.fallocate = [](fuse_req_t r, fuse_ino_t i, int m, off_t off, off_t len, fuse_file_info* fi) {
      Guarded(r, [&] { H::Fallocate(r, i, m, off, len, fi); });
    };
    o.opendir = [](fuse_req_t r, fuse_ino_t i, fuse_file_info* fi) {
      Guarded(r, [&] { H::OpenDir(r, i, fi); });
    };
    o.readdir = [](fuse_req_t r, fuse_ino_t i, size_t s, off_t off, fuse_file_info* fi) {
      Guarded(r, [&] { H::ReadDir(r, i, s, off, fi); });
    };
    o.releasedir = [](fuse_req_t r, fuse_ino_t i, fuse_file_info* fi) {
      Guarded(r, [&] { H::ReleaseDir(r, i, fi); });
    };
    o.fsyncdir = [](fuse_req_t r, fuse_ino_t, int, fuse_file_info*) { fuse_reply_err(r, 0); };
    o.unlink = [](fuse_req_t r, fuse_ino_t p, const char* n) { H::Unlink(r, p, n); };
    o.rmdir = [](fuse_req_t r, fuse_ino_t p, const char* n) { H::Unlink(r, p, n); };
    o.rename = [](fuse_req_t r, fuse_ino_t p, const char* n, fuse_ino_t np, const char* nn,
                  unsigned int f) { H::Rename(r, p, n, np, nn, f); };
    o.link = [](fuse_req_t r, fuse_ino_t i, fuse_ino_t np, const char* nn) {
      H::Link(r, i, np, nn);
    };
    o.symlink = [](fuse_req_t r, const char* l, fuse_ino_t p, const char* n) {
      H::Symlink(r, l, p, n);
    };
    o.mknod = [](fuse_req_t r, fuse_ino_t p, const char* n, mode_t m, dev_t d) {
      H::Mknod(r, p, n, m, d);
    };
    o.setxattr = [](fuse_req_t r, fuse_ino_t, const char*, const char*, size_t, int) {
      H::NoXattrs(r);
    };
    o.getxattr = [](fuse_req_t r, fuse_ino_t, const char*, size_t) { H::NoXattrs(r); };
    o.listxattr = [](fuse_req_t r, fuse_ino_t, size_t) { H::NoXattrs(r); };
    o.removexattr = [](fuse_req_t r, fuse_ino_t, const char*) { H::NoXattrs(r); };
    o.statfs = [](fuse_req_t r, fuse_ino_t i) { Guarded(r, [&] { H::Statfs(r, i); }); };
    return o;
  }();
  return &ops;
}

LedgerFs::LedgerFs(ledger::Log* log, ledger::Storage* storage, ledger::RecordIndex* index,
                   MountConfig config, std::unique_ptr<ProcessProbe> probe)
    : log_(log),
      storage_(storage),
      index_(index),
      config_(std::move(config)),
      probe_(std::move(probe)),
      records_(log, storage),
      published_(storage),
      mount_time_ms_(NowMs()) {}

LedgerFs::~LedgerFs() {
  std::lock_guard<std::mutex> lock(open_mu_);
  if (!open_files_.empty()) {
    spdlog::warn("{} inbox file(s) were still open at unmount: not sealed, no records made",
                 open_files_.size());
  }
  // The handles themselves belong to the kernel's open files; after unmount nobody releases
  // them, so drop them here (their destructors discard the staged content).
  for (auto& [node, file] : open_files_) delete file;
  open_files_.clear();
}

size_t LedgerFs::open_inbox_files() const {
  std::lock_guard<std::mutex> lock(open_mu_);
  return open_files_.size();
}

}  // namespace fs
