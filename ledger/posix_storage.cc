// PosixStorage: the Storage interface on a local directory.
//
// Every operation is relative to a directory fd for the store root that stays open for the life of
// the store, so names never depend on the working directory. Durability follows the usual
// discipline: write a temp file, fsync it, publish it under its final name (link for
// create-if-absent, rename for replace), then fsync the folder through the *same* directory fd
// that was used to publish, held open across the whole operation, so a writeback error on the
// folder cannot be lost between the change and the fsync (see the PostgreSQL "fsyncgate" notes).
#include "ledger/posix_storage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include <spdlog/spdlog.h>

namespace ledger {
namespace {

// Staged objects are pre-created this many at a time, so one folder fsync covers a whole batch.
constexpr int kStagedPoolBatch = 32;
// Temp files (half-written PutIfAbsent/Replace objects) start with this; List never shows them
// and callers may not use it, so a name can never collide with a temp file.
constexpr std::string_view kTempPrefix = ".tmp.";

// Retries a system call that failed with EINTR (a signal arrived before it did anything).
template <typename F>
auto RetryOnEintr(F f) {
  for (;;) {
    auto r = f();
    if (r != -1 || errno != EINTR) return r;
  }
}

// Owns a file descriptor; closes it on destruction (errors on that path are unreportable).
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    // close() is not retried on EINTR: on Linux the descriptor is gone either way.
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

uint64_t RandomU64() {
  // One generator per thread: no lock on the hot path, and distinct seeds per thread.
  thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    uint64_t seed = (uint64_t{rd()} << 32) ^ rd();
    return seed ^ std::hash<std::thread::id>{}(std::this_thread::get_id());
  }());
  return rng();
}

std::string RandomHex16() {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t v = RandomU64();
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[i] = kHex[v & 0xf];
  return out;
}

// Object and folder names are '/'-separated relative paths without empty, "." or ".."
// components, so a name can never escape the store or alias another name.
Status CheckName(const std::string& name, bool allow_root) {
  if (name.empty()) {
    if (allow_root) return Status::Ok();
    return Status::InvalidArgument("empty object name");
  }
  if (name.find('\0') != std::string::npos) {
    return Status::InvalidArgument("object name contains NUL");
  }
  if (name.front() == '/') return Status::InvalidArgument("absolute object name: " + name);
  size_t start = 0;
  for (;;) {
    size_t end = name.find('/', start);
    std::string_view part = std::string_view(name).substr(
        start, end == std::string::npos ? std::string::npos : end - start);
    if (part.empty() || part == "." || part == "..") {
      return Status::InvalidArgument("bad object name: " + name);
    }
    if (part.starts_with(kTempPrefix)) {
      return Status::InvalidArgument("reserved object name: " + name);
    }
    if (end == std::string::npos) return Status::Ok();
    start = end + 1;
  }
}

std::string BaseOf(const std::string& name) {
  size_t slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

std::string Join(const std::string& dir, const std::string& base) {
  return dir.empty() ? base : dir + "/" + base;
}

// The relative path for *at() calls: the root itself is ".".
const char* AtPath(const std::string& name) {
  return name.empty() ? "." : name.c_str();
}

// Writes all of `data` at `offset`, continuing after short writes.
Status WriteAllAt(int fd, std::string_view data, uint64_t offset, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = RetryOnEintr(
        [&] { return ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset)); });
    if (n < 0) return Status::FromErrno("write " + path, errno);
    if (n == 0) return Status::FromErrno("write " + path, EIO);  // no progress: don't spin
    data.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Status Fsync(int fd, const std::string& path) {
  if (RetryOnEintr([&] { return ::fsync(fd); }) != 0) {
    return Status::FromErrno("fsync " + path, errno);
  }
  return Status::Ok();
}

Status CloseFd(UniqueFd* fd, const std::string& path) {
  // Some file systems (NFS) report deferred write errors only at close.
  if (::close(fd->release()) != 0 && errno != EINTR) {
    return Status::FromErrno("close " + path, errno);
  }
  return Status::Ok();
}

// A stream onto one open file; owned by one caller at a time (not thread-safe by itself).
class PosixWriter final : public StorageWriter {
 public:
  PosixWriter(std::string name, std::string path, UniqueFd fd, uint64_t size)
      : name_(std::move(name)), path_(std::move(path)), fd_(std::move(fd)), size_(size) {}

  const std::string& name() const override { return name_; }
  uint64_t size() const override { return size_; }

  Status Append(std::string_view data) override { return WriteAt(size_, data); }

  Status WriteAt(uint64_t offset, std::string_view data) override {
    LEDGER_RETURN_IF_ERROR(CheckOpen());
    if (offset > size_) {
      return Status::InvalidArgument("write " + path_ + ": offset " + std::to_string(offset) +
                                     " is past the end (" + std::to_string(size_) + ")");
    }
    LEDGER_RETURN_IF_ERROR(WriteAllAt(fd_.get(), data, offset, path_));
    size_ = std::max(size_, offset + data.size());
    return Status::Ok();
  }

  Status Truncate(uint64_t size) override {
    LEDGER_RETURN_IF_ERROR(CheckOpen());
    if (RetryOnEintr([&] { return ::ftruncate(fd_.get(), static_cast<off_t>(size)); }) != 0) {
      return Status::FromErrno("truncate " + path_, errno);
    }
    size_ = size;
    return Status::Ok();
  }

  Status Sync() override {
    LEDGER_RETURN_IF_ERROR(CheckOpen());
    // fdatasync also writes the metadata needed to read the data back, including a new size.
    if (RetryOnEintr([&] { return ::fdatasync(fd_.get()); }) != 0) {
      return Status::FromErrno("fsync " + path_, errno);
    }
    return Status::Ok();
  }

  Status Close() override {
    if (fd_.get() < 0) return Status::Ok();
    return CloseFd(&fd_, path_);
  }

 private:
  Status CheckOpen() const {
    if (fd_.get() < 0) return Status::InvalidArgument(path_ + ": writer is closed");
    return Status::Ok();
  }

  const std::string name_;
  const std::string path_;
  UniqueFd fd_;
  uint64_t size_;
};

// flock locks belong to the open file description, so the lock lives exactly as long as fd_.
class PosixLock final : public StorageLock {
 public:
  explicit PosixLock(UniqueFd fd) : fd_(std::move(fd)) {}

 private:
  UniqueFd fd_;
};

class PosixStorage final : public Storage {
 public:
  PosixStorage(std::string root, UniqueFd root_fd)
      : root_(std::move(root)), root_fd_(std::move(root_fd)) {}

  std::string Describe() const override { return root_; }

  Status PutIfAbsent(const std::string& name, std::string_view data) override {
    LEDGER_RETURN_IF_ERROR(CheckName(name, false));
    const std::string base = BaseOf(name);
    UniqueFd dir;
    LEDGER_RETURN_IF_ERROR(OpenDirCreating(ParentOf(name), &dir));
    // Cheap early answer; the link below is what actually decides.
    struct stat st;
    if (::fstatat(dir.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      return Status::FromErrno("create " + Path(name), EEXIST);
    }
    std::string temp;
    LEDGER_RETURN_IF_ERROR(WriteTemp(dir.get(), ParentOf(name), data, 0444, &temp));
    // link() fails with EEXIST instead of replacing, which rename() cannot do portably.
    if (RetryOnEintr(
            [&] { return ::linkat(dir.get(), temp.c_str(), dir.get(), base.c_str(), 0); }) != 0) {
      int err = errno;
      ::unlinkat(dir.get(), temp.c_str(), 0);
      return Status::FromErrno("link " + Path(name), err);
    }
    if (::unlinkat(dir.get(), temp.c_str(), 0) != 0) {
      // The object is in place; a leftover temp is invisible and harmless.
      spdlog::warn("unlink {}: {}", Path(Join(ParentOf(name), temp)), std::strerror(errno));
    }
    return Fsync(dir.get(), Path(ParentOf(name)));
  }

  Status Replace(const std::string& name, std::string_view data) override {
    LEDGER_RETURN_IF_ERROR(CheckName(name, false));
    const std::string base = BaseOf(name);
    UniqueFd dir;
    LEDGER_RETURN_IF_ERROR(OpenDirCreating(ParentOf(name), &dir));
    std::string temp;
    LEDGER_RETURN_IF_ERROR(WriteTemp(dir.get(), ParentOf(name), data, 0644, &temp));
    if (RetryOnEintr(
            [&] { return ::renameat(dir.get(), temp.c_str(), dir.get(), base.c_str()); }) != 0) {
      int err = errno;
      ::unlinkat(dir.get(), temp.c_str(), 0);
      return Status::FromErrno("rename " + Path(name), err);
    }
    return Fsync(dir.get(), Path(ParentOf(name)));
  }

  Status Read(const std::string& name, std::string* out) override {
    LEDGER_RETURN_IF_ERROR(CheckName(name, false));
    UniqueFd fd;
    LEDGER_RETURN_IF_ERROR(OpenForRead(name, &fd));
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return Status::FromErrno("stat " + Path(name), errno);
    out->clear();
    out->reserve(static_cast<size_t>(st.st_size));
    // Read to EOF rather than trusting st_size: the object may be growing.
    char buf[64 * 1024];
    for (;;) {
      ssize_t n = RetryOnEintr([&] { return ::read(fd.get(), buf, sizeof buf); });
      if (n < 0) return Status::FromErrno("read " + Path(name), errno);
      if (n == 0) return Status::Ok();
      out->append(buf, static_cast<size_t>(n));
    }
  }

  Status ReadAt(const std::string& name, uint64_t offset, size_t n, std::string* out) override {
    LEDGER_RETURN_IF_ERROR(CheckName(name, false));
    UniqueFd fd;
    LEDGER_RETURN_IF_ERROR(OpenForRead(name, &fd));
    // The buffer starts at what the object holds now, not at n: callers ask for big chunks
    // (1 MiB) of objects that are mostly small, and zero-filling a whole chunk per object made
    // most of the cost of `ledgerfs verify` on a store of small records. It grows if the object
    // has grown since, so fewer than n bytes still means the end of the object.
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return Status::FromErrno("stat " + Path(name), errno);
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    out->resize(static_cast<size_t>(std::min<uint64_t>(n, size > offset ? size - offset : 0)));
    size_t got = 0;
    while (got < n) {
      if (got == out->size()) out->resize(std::min(n, got + std::max<size_t>(got, 4096)));
      ssize_t r = RetryOnEintr([&] {
        return ::pread(fd.get(), out->data() + got, out->size() - got,
                       static_cast<off_t>(offset + got));
      });
      if (r < 0) {
        out->clear();
        return Status::FromErrno("read " + Path(name), errno);
      }
      if (r == 0) break;  // end of object
      got += static_cast<size_t>(r);
    }
    out->resize(got);
    return Status::Ok();
  }

  Status Size(const std::string& name, uint64_t* out) override {
    LEDGER_RETURN_IF_ERROR(CheckName(name, false));
    struct stat st;
    if (::fstatat(root_fd_.get(), name.c_str(), &st, 0) != 0) {
      return Status::FromErrno("stat " + Path(name), errno);
    }
    *out = static_cast<uint64_t>(st.st_size);
    return Status::Ok();
  }

  bool Exists(const std::string& name) override {
    if (!CheckName(name, false).ok()) return false;
    struct stat st;
    return ::fstatat(root_fd_.get(), name.c_str(), &st, 0) == 0;
  }

  Status List(const std::string& dir, std::vector<std::string>* names) override {
    LEDGER_RETURN_IF_ERROR(CheckName(dir, true));
    std::vector<std::string> all;
    LEDGER_RETURN_IF_ERROR(ReadDirNames(root_fd_.get(), dir, &all));
    // Unissued staged files are an implementation detail of CreateStaged: hide them.
    std::set<std::string> pooled;
    {
      std::lock_guard<std::mutex> lock(pool_mu_);
      auto it = pool_.find(dir);
      if (it != pool_.end()) pooled.insert(it->second.begin(), it->second.end());
    }
    names->clear();
    for (auto& n : all) {
      if (std::string_view(n).starts_with(kTempPrefix) || pooled.count(n)) continue;
      names->push_back(std::move(n));
    }
    std::sort(names->begin(), names->end());
    return Status::Ok();
  }

  Status Remove(const std::string& name) override {
    LEDGER_RETURN_IF_ERROR(CheckName(name, false));
    if (::unlinkat(root_fd_.get(), name.c_str(), 0) != 0) {
      return Status::FromErrno("unlink " + Path(name), errno);
    }
    ForgetPooled(name, /*tree=*/false);
    return Status::Ok();
  }

  Status RemoveTree(const std::string& dir) override {
    LEDGER_RETURN_IF_ERROR(CheckName(dir, false));  // never the root
    UniqueFd parent;
    LEDGER_RETURN_IF_ERROR(OpenDir(ParentOf(dir), &parent));
    Status s = RemoveTreeAt(parent.get(), BaseOf(dir), dir);
    ForgetPooled(dir, /*tree=*/true);
    return s;
  }

  Status OpenAppendable(const std::string& name, std::unique_ptr<StorageWriter>* out) override {
    LEDGER_RETURN_IF_ERROR(CheckName(name, false));
    const std::string base = BaseOf(name);
    UniqueFd dir;
    LEDGER_RETURN_IF_ERROR(OpenDirCreating(ParentOf(name), &dir));
    bool created = false;
    UniqueFd fd(
        RetryOnEintr([&] { return ::openat(dir.get(), base.c_str(), O_WRONLY | O_CLOEXEC); }));
    if (fd.get() < 0 && errno == ENOENT) {
      fd.reset(RetryOnEintr([&] {
        return ::openat(dir.get(), base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      }));
      created = fd.get() >= 0;
      if (fd.get() < 0 && errno == EEXIST) {  // lost a race with another creator
        fd.reset(
            RetryOnEintr([&] { return ::openat(dir.get(), base.c_str(), O_WRONLY | O_CLOEXEC); }));
      }
    }
    if (fd.get() < 0) return Status::FromErrno("open " + Path(name), errno);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return Status::FromErrno("stat " + Path(name), errno);
    if (created) LEDGER_RETURN_IF_ERROR(Fsync(dir.get(), Path(ParentOf(name))));
    *out = std::make_unique<PosixWriter>(name, Path(name), std::move(fd),
                                         static_cast<uint64_t>(st.st_size));
    return Status::Ok();
  }

  Status CreateStaged(const std::string& dir, std::unique_ptr<StorageWriter>* out) override {
    LEDGER_RETURN_IF_ERROR(CheckName(dir, true));
    std::string base;
    {
      // Refilling under the lock makes concurrent callers wait for one batch instead of each
      // paying a folder fsync.
      std::lock_guard<std::mutex> lock(pool_mu_);
      std::vector<std::string>& pool = pool_[dir];
      if (pool.empty()) LEDGER_RETURN_IF_ERROR(RefillPool(dir, &pool));
      base = std::move(pool.back());
      pool.pop_back();
    }
    const std::string name = Join(dir, base);
    UniqueFd fd(
        RetryOnEintr([&] { return ::openat(root_fd_.get(), name.c_str(), O_WRONLY | O_CLOEXEC); }));
    if (fd.get() < 0) return Status::FromErrno("open " + Path(name), errno);
    *out = std::make_unique<PosixWriter>(name, Path(name), std::move(fd), 0);
    return Status::Ok();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    LEDGER_RETURN_IF_ERROR(CheckName(from, false));
    LEDGER_RETURN_IF_ERROR(CheckName(to, false));
    UniqueFd to_dir;
    LEDGER_RETURN_IF_ERROR(OpenDirCreating(ParentOf(to), &to_dir));
    if (RetryOnEintr([&] {
          return ::renameat(root_fd_.get(), from.c_str(), to_dir.get(), BaseOf(to).c_str());
        }) != 0) {
      return Status::FromErrno("rename " + Path(from) + " to " + Path(to), errno);
    }
    return Status::Ok();
  }

  Status SyncDir(const std::string& dir) override {
    LEDGER_RETURN_IF_ERROR(CheckName(dir, true));
    UniqueFd fd;
    LEDGER_RETURN_IF_ERROR(OpenDir(dir, &fd));
    return Fsync(fd.get(), Path(dir));
  }

  Status Lock(const std::string& name, std::unique_ptr<StorageLock>* out) override {
    LEDGER_RETURN_IF_ERROR(CheckName(name, false));
    UniqueFd dir;
    LEDGER_RETURN_IF_ERROR(OpenDirCreating(ParentOf(name), &dir));
    UniqueFd fd(RetryOnEintr([&] {
      return ::openat(dir.get(), BaseOf(name).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    }));
    if (fd.get() < 0) return Status::FromErrno("open " + Path(name), errno);
    if (RetryOnEintr([&] { return ::flock(fd.get(), LOCK_EX | LOCK_NB); }) != 0) {
      if (errno == EWOULDBLOCK) {
        return Status::Busy(root_ + ": store is in use by another process (lock " + name +
                            " held)");
      }
      return Status::FromErrno("flock " + Path(name), errno);
    }
    *out = std::make_unique<PosixLock>(std::move(fd));
    return Status::Ok();
  }

 private:
  std::string Path(const std::string& name) const {
    return name.empty() ? root_ : root_ + "/" + name;
  }

  Status OpenForRead(const std::string& name, UniqueFd* fd) {
    fd->reset(
        RetryOnEintr([&] { return ::openat(root_fd_.get(), name.c_str(), O_RDONLY | O_CLOEXEC); }));
    if (fd->get() < 0) return Status::FromErrno("open " + Path(name), errno);
    return Status::Ok();
  }

  Status OpenDir(const std::string& dir, UniqueFd* fd) {
    fd->reset(RetryOnEintr(
        [&] { return ::openat(root_fd_.get(), AtPath(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC); }));
    if (fd->get() < 0) return Status::FromErrno("open " + Path(dir), errno);
    return Status::Ok();
  }

  // Opens folder `dir`, creating missing folders one level at a time. Each new folder's entry is
  // made durable (fsync of its parent) before anything is created inside it.
  Status OpenDirCreating(const std::string& dir, UniqueFd* out) {
    Status s = OpenDir(dir, out);
    if (s.ok() || s.error_number() != ENOENT) return s;
    UniqueFd cur;
    LEDGER_RETURN_IF_ERROR(OpenDir("", &cur));
    size_t start = 0;
    for (;;) {
      size_t end = dir.find('/', start);
      const std::string sofar = dir.substr(0, end);
      const std::string part = dir.substr(start, end == std::string::npos ? end : end - start);
      if (::mkdirat(cur.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
        return Status::FromErrno("mkdir " + Path(sofar), errno);
      }
      // Also after EEXIST: a concurrent creator may not have fsynced the parent yet.
      LEDGER_RETURN_IF_ERROR(Fsync(cur.get(), Path(ParentOf(sofar))));
      UniqueFd next(RetryOnEintr(
          [&] { return ::openat(cur.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); }));
      if (next.get() < 0) return Status::FromErrno("open " + Path(sofar), errno);
      cur = std::move(next);
      if (end == std::string::npos) break;
      start = end + 1;
    }
    *out = std::move(cur);
    return Status::Ok();
  }

  // Writes `data` to a new durable temp file in the open folder `dir_fd`; returns its name.
  Status WriteTemp(int dir_fd, const std::string& dir, std::string_view data, mode_t mode,
                   std::string* temp) {
    UniqueFd fd;
    for (int attempt = 0; fd.get() < 0; ++attempt) {
      *temp = std::string(kTempPrefix) + RandomHex16();
      fd.reset(RetryOnEintr([&] {
        return ::openat(dir_fd, temp->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
      }));
      if (fd.get() < 0 && (errno != EEXIST || attempt > 8)) {
        return Status::FromErrno("create " + Path(Join(dir, *temp)), errno);
      }
    }
    const std::string path = Path(Join(dir, *temp));
    Status s = WriteAllAt(fd.get(), data, 0, path);
    if (s.ok()) s = Fsync(fd.get(), path);
    if (s.ok()) s = CloseFd(&fd, path);
    if (!s.ok()) ::unlinkat(dir_fd, temp->c_str(), 0);
    return s;
  }

  // Pre-creates a batch of empty files in `dir` and makes all their names durable with one fsync.
  // REQUIRES: pool_mu_ held.
  Status RefillPool(const std::string& dir, std::vector<std::string>* pool) {
    UniqueFd dir_fd;
    LEDGER_RETURN_IF_ERROR(OpenDirCreating(dir, &dir_fd));
    std::vector<std::string> made;
    int collisions = 0;
    Status s;
    while (made.size() < kStagedPoolBatch) {
      std::string base = RandomHex16();
      UniqueFd fd(RetryOnEintr([&] {
        return ::openat(dir_fd.get(), base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      }));
      if (fd.get() < 0) {
        if (errno == EEXIST && ++collisions < 8) continue;
        s = Status::FromErrno("create " + Path(Join(dir, base)), errno);
        break;
      }
      made.push_back(std::move(base));
    }
    if (s.ok()) s = Fsync(dir_fd.get(), Path(dir));
    if (!s.ok()) {
      // Don't leave empty files behind that nobody will hand out.
      for (const auto& base : made) ::unlinkat(dir_fd.get(), base.c_str(), 0);
      return s;
    }
    pool->insert(pool->end(), made.begin(), made.end());
    return Status::Ok();
  }

  // Drops pooled (unissued) staged names that a Remove/RemoveTree just deleted.
  void ForgetPooled(const std::string& name, bool tree) {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (tree) {
      const std::string prefix = name + "/";
      for (auto it = pool_.begin(); it != pool_.end();) {
        bool under = it->first == name || it->first.starts_with(prefix);
        it = under ? pool_.erase(it) : std::next(it);
      }
      return;
    }
    auto it = pool_.find(ParentOf(name));
    if (it == pool_.end()) return;
    std::erase(it->second, BaseOf(name));
  }

  // Names in folder `rel` (relative to `at_fd`), excluding "." and "..".
  Status ReadDirNames(int at_fd, const std::string& rel, std::vector<std::string>* out) {
    int fd = RetryOnEintr(
        [&] { return ::openat(at_fd, AtPath(rel), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
    if (fd < 0) return Status::FromErrno("open " + Path(rel), errno);
    DIR* d = ::fdopendir(fd);
    if (d == nullptr) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno("opendir " + Path(rel), err);
    }
    Status s;
    for (;;) {
      errno = 0;
      struct dirent* e = ::readdir(d);
      if (e == nullptr) {
        if (errno != 0) s = Status::FromErrno("readdir " + Path(rel), errno);
        break;
      }
      std::string_view n = e->d_name;
      if (n == "." || n == "..") continue;
      out->emplace_back(n);
    }
    ::closedir(d);
    return s;
  }

  // Removes `base` (a file or a folder tree) from the open folder `parent_fd`; `name` is its
  // store name, for messages.
  Status RemoveTreeAt(int parent_fd, const std::string& base, const std::string& name) {
    struct stat st;
    if (::fstatat(parent_fd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Status::FromErrno("stat " + Path(name), errno);
    }
    if (S_ISDIR(st.st_mode)) {
      UniqueFd dir(RetryOnEintr([&] {
        return ::openat(parent_fd, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      }));
      if (dir.get() < 0) return Status::FromErrno("open " + Path(name), errno);
      // Collect first, then delete: readdir's view of a folder being changed is unspecified.
      std::vector<std::string> children;
      LEDGER_RETURN_IF_ERROR(ReadDirNames(dir.get(), "", &children));
      for (const auto& child : children) {
        LEDGER_RETURN_IF_ERROR(RemoveTreeAt(dir.get(), child, Join(name, child)));
      }
      if (::unlinkat(parent_fd, base.c_str(), AT_REMOVEDIR) != 0) {
        return Status::FromErrno("rmdir " + Path(name), errno);
      }
      return Status::Ok();
    }
    if (::unlinkat(parent_fd, base.c_str(), 0) != 0) {
      return Status::FromErrno("unlink " + Path(name), errno);
    }
    return Status::Ok();
  }

  const std::string root_;
  const UniqueFd root_fd_;  // the store root, open for the life of the store

  std::mutex pool_mu_;
  // Per folder: pre-created staged files whose names are durable and not yet handed out.
  std::map<std::string, std::vector<std::string>> pool_;  // GUARDED_BY(pool_mu_)
};

// mkdir -p for the root itself, making each new folder's entry durable.
Status MakeRootDirs(const std::string& root) {
  for (size_t pos = root.find('/', 1);; pos = root.find('/', pos + 1)) {
    const std::string sofar = root.substr(0, pos);
    if (::mkdir(sofar.c_str(), 0755) == 0) {
      std::string parent = ParentOf(sofar);
      if (parent.empty()) parent = sofar.front() == '/' ? "/" : ".";
      UniqueFd pfd(
          RetryOnEintr([&] { return ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); }));
      if (pfd.get() < 0) return Status::FromErrno("open " + parent, errno);
      LEDGER_RETURN_IF_ERROR(Fsync(pfd.get(), parent));
    } else if (errno != EEXIST) {
      return Status::FromErrno("mkdir " + sofar, errno);
    }
    if (pos == std::string::npos) return Status::Ok();
  }
}

}  // namespace

Status OpenPosixStorage(const std::string& root_in, bool create, std::unique_ptr<Storage>* out) {
  std::string root = root_in;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (root.empty()) return Status::InvalidArgument("empty store directory");
  if (create) LEDGER_RETURN_IF_ERROR(MakeRootDirs(root));
  UniqueFd fd(
      RetryOnEintr([&] { return ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); }));
  if (fd.get() < 0) return Status::FromErrno("open store " + root, errno);
  *out = std::make_unique<PosixStorage>(std::move(root), std::move(fd));
  return Status::Ok();
}

}  // namespace ledger
