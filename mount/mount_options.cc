#include "mount/mount_options.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <limits>

namespace ledgerfs {

namespace {

// Options mount(8)/mount.fuse3 may pass that are for them, not for the daemon.
bool IsMountHelperOption(std::string_view opt) {
  for (std::string_view o :
       {"rw", "dev", "suid", "nodev", "nosuid", "exec", "noexec", "auto", "noauto", "user",
        "nouser", "users", "nofail", "_netdev", "defaults", "async"}) {
    if (opt == o) return true;
  }
  return opt.starts_with("x-") || opt.starts_with("comment=");
}

bool ParseInt(std::string_view s, long long* out) {
  if (s.empty() || s.size() > 18) return false;
  long long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

ledger::Status AddOptionList(std::string_view list, MountOptions* o) {
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = list.find(',', start);
    const std::string_view opt =
        list.substr(start, comma == std::string_view::npos ? list.npos : comma - start);
    start = comma == std::string_view::npos ? list.size() + 1 : comma + 1;
    if (opt.empty()) continue;
    const size_t eq = opt.find('=');
    const std::string_view key = opt.substr(0, eq);
    const std::string value = eq == std::string_view::npos ? "" : std::string(opt.substr(eq + 1));
    if (key == "tenant") {
      o->tenant = value;
    } else if (key == "owner") {
      o->owner = value;
    } else if (key == "key") {
      o->key = value;
    } else if (key == "pid_file") {
      o->pid_file = value;
    } else if (key == "listen") {
      o->http.listen = value;
    } else if (key == "max_body") {
      o->http.max_body = value;
    } else if (key == "foreground") {
      o->foreground = true;
    } else if (key == "checkpoint_delay") {
      long long ms = 0;
      if (!ParseInt(value, &ms)) {
        return ledger::Status::InvalidArgument("-o checkpoint_delay=" + value +
                                               ": not a number of milliseconds");
      }
      o->checkpoint_delay_ms = static_cast<int>(std::min<long long>(ms, 1 << 30));
    } else if (!IsMountHelperOption(opt)) {
      o->fuse_options.emplace_back(opt);
    }
  }
  return ledger::Status::Ok();
}

ledger::Status ParseFstabArgs(int argc, char** argv, MountOptions* o) {
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-o") {
      if (i + 1 >= argc) return ledger::Status::InvalidArgument("-o needs a list of options");
      LEDGER_RETURN_IF_ERROR(AddOptionList(argv[++i], o));
    } else if (arg.starts_with("-o")) {
      LEDGER_RETURN_IF_ERROR(AddOptionList(arg.substr(2), o));
    } else if (arg == "-f") {
      o->foreground = true;
    } else if (arg.starts_with("-")) {
      return ledger::Status::InvalidArgument("unknown argument " + std::string(arg));
    } else {
      positional.emplace_back(arg);
    }
  }
  if (positional.size() != 2) {
    return ledger::Status::InvalidArgument("expected STORE MOUNTPOINT -o OPTIONS");
  }
  o->store = positional[0];
  o->mountpoint = positional[1];
  return ledger::Status::Ok();
}

ledger::Status ParseOwner(const std::string& spec, uid_t* uid, gid_t* gid) {
  const size_t colon = spec.find(':');
  const std::string user = spec.substr(0, colon);
  const std::string group = colon == std::string::npos ? "" : spec.substr(colon + 1);
  long long n = 0;
  bool have_gid = false;
  // Ids are 32 bits and chown(2) reads (uid_t)-1 as "unchanged": refuse, never wrap.
  constexpr long long kMaxId = static_cast<long long>(std::numeric_limits<uid_t>::max()) - 1;
  if (ParseInt(user, &n)) {
    if (n > kMaxId)
      return ledger::Status::InvalidArgument("--owner " + spec + ": uid out of range");
    *uid = static_cast<uid_t>(n);
    if (const passwd* pw = ::getpwuid(*uid)) {
      *gid = pw->pw_gid;
      have_gid = true;
    }
  } else {
    const passwd* pw = ::getpwnam(user.c_str());
    if (pw == nullptr) {
      return ledger::Status::InvalidArgument("--owner " + spec + ": no user named '" + user + "'");
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    have_gid = true;
  }
  if (!group.empty()) {
    if (ParseInt(group, &n)) {
      if (n > kMaxId)
        return ledger::Status::InvalidArgument("--owner " + spec + ": gid out of range");
      *gid = static_cast<gid_t>(n);
    } else {
      const struct group* gr = ::getgrnam(group.c_str());
      if (gr == nullptr) {
        return ledger::Status::InvalidArgument("--owner " + spec + ": no group named '" + group +
                                               "'");
      }
      *gid = gr->gr_gid;
    }
  } else if (!have_gid) {
    *gid = static_cast<gid_t>(*uid);  // a numeric user with no passwd entry: same-numbered group
  }
  return ledger::Status::Ok();
}

ledger::Status FinishMountOptions(MountOptions* o) {
  namespace stdfs = std::filesystem;
  std::error_code ec;
  if (!stdfs::is_directory(o->store, ec)) {
    return ledger::Status::InvalidArgument("store " + o->store + " is not a folder");
  }
  if (!stdfs::is_directory(o->mountpoint, ec)) {
    return ledger::Status::InvalidArgument("mountpoint " + o->mountpoint + " is not a folder");
  }
  // Absolute paths: the daemon changes to / when it detaches.
  o->store = stdfs::absolute(o->store, ec).lexically_normal().string();
  o->mountpoint = stdfs::absolute(o->mountpoint, ec).lexically_normal().string();
  if (!o->pid_file.empty()) o->pid_file = stdfs::absolute(o->pid_file, ec).string();
  if (!o->key.empty()) o->key = stdfs::absolute(o->key, ec).string();
  while (o->store.size() > 1 && o->store.back() == '/') o->store.pop_back();
  while (o->mountpoint.size() > 1 && o->mountpoint.back() == '/') o->mountpoint.pop_back();
  if (o->tenant.empty()) o->tenant = stdfs::path(o->store).filename().string();
  if (!ledger::IsValidTenantId(o->tenant)) {
    return ledger::Status::InvalidArgument("tenant id '" + o->tenant +
                                           "' must match [A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  }
  if (o->checkpoint_delay_ms < 1) {
    return ledger::Status::InvalidArgument("checkpoint delay must be at least 1 ms");
  }
  if (!o->owner.empty()) {
    uid_t uid;
    gid_t gid;
    LEDGER_RETURN_IF_ERROR(ParseOwner(o->owner, &uid, &gid));
  }
  return ledger::Status::Ok();
}

}  // namespace ledgerfs
