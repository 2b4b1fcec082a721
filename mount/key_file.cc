#include "mount/key_file.h"

#include "ledger/log.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "spdlog/spdlog.h"

namespace ledgerfs {

namespace {

constexpr size_t kMaxKeyFileBytes = 4096;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

std::string ParentDir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// mkdir -p; folders made here get `mode`.
ledger::Status MakeDirs(const std::string& dir, mode_t mode) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return ledger::Status::InvalidArgument(dir + ": not a folder");
    return ledger::Status::Ok();
  }
  if (errno != ENOENT) return ledger::Status::FromErrno("stat " + dir, errno);
  const std::string parent = ParentDir(dir);
  if (parent != dir) LEDGER_RETURN_IF_ERROR(MakeDirs(parent, mode));
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) {
    return ledger::Status::FromErrno("mkdir " + dir, errno);
  }
  return ledger::Status::Ok();
}

ledger::Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ledger::Status::FromErrno("open " + dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ledger::Status::FromErrno("fsync " + dir, err);
  return ledger::Status::Ok();
}

}  // namespace

std::string SanitiseOrigin(std::string_view origin) {
  std::string out;
  for (char c : origin) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
    out += keep ? c : '_';
  }
  if (!out.empty() && out[0] == '.') out[0] = '_';
  return out;
}

ledger::Status DefaultKeyDir(std::string* dir) {
  const std::string configured = Env("LEDGERFS_KEY_DIR");
  if (!configured.empty()) {
    *dir = configured;
    return ledger::Status::Ok();
  }
  if (::geteuid() == 0) {
    *dir = "/etc/ledgerfs/keys";
    return ledger::Status::Ok();
  }
  std::string config = Env("XDG_CONFIG_HOME");
  if (config.empty() || config[0] != '/') {
    std::string home = Env("HOME");
    if (home.empty()) {
      const struct passwd* pw = ::getpwuid(::geteuid());
      if (pw != nullptr && pw->pw_dir != nullptr) home = pw->pw_dir;
    }
    if (home.empty()) {
      return ledger::Status::InvalidArgument(
          "no home folder for the default key location; set LEDGERFS_KEY_DIR or pass --key");
    }
    config = home + "/.config";
  }
  *dir = config + "/ledgerfs/keys";
  return ledger::Status::Ok();
}

ledger::Status DefaultKeyPath(std::string_view origin, std::string* path) {
  std::string dir;
  LEDGER_RETURN_IF_ERROR(DefaultKeyDir(&dir));
  *path = dir + "/" + SanitiseOrigin(origin) + ".key";
  return ledger::Status::Ok();
}

ledger::Status CheckKeyOutsideStore(const std::string& key_path, const std::string& store_path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path key = fs::weakly_canonical(fs::absolute(key_path, ec), ec);
  if (ec) return ledger::Status::FromErrno("resolve " + key_path, ec.value());
  const fs::path store = fs::weakly_canonical(fs::absolute(store_path, ec), ec);
  if (ec) return ledger::Status::FromErrno("resolve " + store_path, ec.value());
  auto k = key.begin();
  for (auto s = store.begin(); s != store.end(); ++s, ++k) {
    if (s->empty()) continue;  // a trailing '/' on the store path
    if (k == key.end() || *k != *s) return ledger::Status::Ok();
  }
  return ledger::Status::InvalidArgument(
      "the signing key " + key_path +
      " would be inside the store, which is public data; keep it elsewhere (--key)");
}

ledger::Status WriteNewKeyFile(const std::string& path, const ledger::NoteSigner& signer) {
  const std::string dir = ParentDir(path);
  LEDGER_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return ledger::Status::AlreadyExists("key file " + path +
                                           " already exists; refusing to overwrite it");
    }
    return ledger::Status::FromErrno("create key file " + path, errno);
  }
  const std::string text = signer.ToString() + "\n";
  ledger::Status st;
  if (::fchmod(fd, 0600) != 0) st = ledger::Status::FromErrno("chmod " + path, errno);
  size_t done = 0;
  while (st.ok() && done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = ledger::Status::FromErrno("write " + path, errno);
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (st.ok() && ::fsync(fd) != 0) st = ledger::Status::FromErrno("fsync " + path, errno);
  if (::close(fd) != 0 && st.ok()) st = ledger::Status::FromErrno("close " + path, errno);
  if (st.ok()) st = SyncDir(dir);
  if (!st.ok()) ::unlink(path.c_str());
  return st;
}

ledger::Status ReadKeyFile(const std::string& path, ledger::NoteSigner* signer) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    ledger::Status st = ledger::Status::FromErrno("key file " + path, errno);
    if (st.code() == ledger::Status::Code::kNotFound) {
      return ledger::Status::NotFound("key file " + path +
                                      " does not exist (pass the store's key with --key)");
    }
    return st;
  }
  struct stat info;
  if (::fstat(fd, &info) == 0 && (info.st_mode & 077) != 0) {
    spdlog::warn("key file {} may be read by group or others (mode {:o}); chmod 600 it", path,
                 info.st_mode & 0777);
  }
  std::string text;
  char buf[1024];
  ledger::Status st;
  while (text.size() <= kMaxKeyFileBytes) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = ledger::Status::FromErrno("read " + path, errno);
      break;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  LEDGER_RETURN_IF_ERROR(st);
  if (text.size() > kMaxKeyFileBytes) {
    return ledger::Status::InvalidArgument("key file " + path + " is too large to be a key");
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return ledger::NoteSigner::Parse(text, signer).WithContext("key file " + path);
}

ledger::Status LoadStoreSigner(ledger::Storage* storage, const std::string& key_flag,
                               ledger::NoteSigner* signer) {
  std::string origin, vkey, key_path = key_flag;
  LEDGER_RETURN_IF_ERROR(ledger::Log::ReadIdentity(storage, &origin, &vkey));
  if (key_path.empty()) LEDGER_RETURN_IF_ERROR(DefaultKeyPath(origin, &key_path));
  return ReadKeyFile(key_path, signer);
}

}  // namespace ledgerfs
