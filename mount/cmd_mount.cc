// `ledgerfs mount STORE MOUNTPOINT …` and its fstab form: the per-tenant daemon (docs/mount.md).
// Opens the store (taking its lock), rebuilds the record namespace from the log, mounts the FUSE
// filesystem and serves it until SIGTERM/SIGINT or `fusermount3 -u`; then publishes a final
// checkpoint and releases the store. Unless --foreground, the command forks first and returns
// once the mount is ready, with the child's exit code if it is not.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "fs/ledger_fs.h"
#include "ledger/log.h"
#include "mount/cli_util.h"
#include "mount/commands.h"
#include "mount/mount_options.h"
#include "mount/tenant_store.h"
#include "spdlog/sinks/syslog_sink.h"
#include "spdlog/spdlog.h"

namespace ledgerfs {

namespace {

// Parallel FUSE requests served at most: every concurrent close() waits in one thread while its
// seal is committed, so this also bounds how many seals share one group commit.
constexpr unsigned kMaxFuseThreads = 64;

// The child tells the waiting parent its outcome through a pipe: one byte, the exit code.
class ReadyPipe {
 public:
  int write_fd = -1;
  void Tell(int code) {
    if (write_fd < 0) return;
    const unsigned char b = static_cast<unsigned char>(code);
    [[maybe_unused]] ssize_t n = ::write(write_fd, &b, 1);
    ::close(write_fd);
    write_fd = -1;
  }
};

// Forks. The parent waits for the child's ready byte, puts it in *parent_exit and gets false;
// the child gets true and goes on in a new session.
bool Detach(ReadyPipe* ready, int* parent_exit) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    *parent_exit = ReportError("mount", "", ledger::Status::FromErrno("pipe", errno));
    return false;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    *parent_exit = ReportError("mount", "", ledger::Status::FromErrno("fork", errno));
    return false;
  }
  if (pid > 0) {
    ::close(fds[1]);
    unsigned char b = kExitFailed;
    ssize_t n;
    do {
      n = ::read(fds[0], &b, 1);
    } while (n < 0 && errno == EINTR);
    *parent_exit = n == 1 ? b : kExitFailed;
    return false;
  }
  ::close(fds[0]);
  ready->write_fd = fds[1];
  ::setsid();
  return true;
}

// Once detached and ready: no terminal, logs to syslog (journald) with the tenant in each line.
void BecomeDaemon(const std::string& tenant) {
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, STDIN_FILENO);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    if (null > STDERR_FILENO) ::close(null);
  }
  [[maybe_unused]] int rc = ::chdir("/");
  auto logger = spdlog::syslog_logger_mt("ledgerfs-syslog", "ledgerfs", LOG_PID, LOG_DAEMON);
  logger->set_pattern("[tenant " + tenant + "] %v");
  logger->set_level(spdlog::default_logger()->level());
  spdlog::set_default_logger(logger);
}

ledger::Status WritePidFile(const std::string& path) {
  const std::string text = std::to_string(::getpid()) + "\n";
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ledger::Status::FromErrno("pid file " + tmp, errno);
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return ledger::Status::FromErrno("pid file " + path, errno);
  }
  return ledger::Status::Ok();
}

// The FUSE arguments: our identity, permission checks by the kernel, and the user's options.
std::vector<std::string> FuseArguments(const MountOptions& o) {
  std::string list = "fsname=ledgerfs:" + o.tenant + ",subtype=ledgerfs,default_permissions";
  // Root serves every user (the modes decide who may do what); another daemon user needs
  // user_allow_other in /etc/fuse.conf and asks for allow_other itself.
  if (::geteuid() == 0) list += ",allow_other";
  for (const std::string& opt : o.fuse_options) {
    if (opt == "allow_other" && ::geteuid() == 0) continue;
    if (opt == "default_permissions") continue;
    list += "," + opt;
  }
  return {"ledgerfs", "-o", list};
}

// Everything from opening the store to the end of the session. Returns the exit code; tells
// `ready` once mounted (or why not).
int Serve(const MountOptions& o, uid_t owner_uid, gid_t owner_gid, ReadyPipe* ready) {
  TenantStore store;
  ledger::Status st = OpenTenantStore(o.store, o.key, o.checkpoint_delay_ms, &store);
  if (!st.ok()) return ReportError("mount", o.store, st);
  ledger::Log* log = store.log.get();

  fs::MountConfig config;
  config.tenant = o.tenant;
  config.store_path = o.store;
  config.owner_uid = owner_uid;
  config.owner_gid = owner_gid;
  fs::LedgerFs ledger_fs(log, store.storage.get(), &store.index, config);

  std::vector<std::string> args_text = FuseArguments(o);
  std::vector<char*> argv;
  for (std::string& a : args_text) argv.push_back(a.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  fuse_session* se =
      fuse_session_new(&args, fs::LedgerFs::Ops(), sizeof(fuse_lowlevel_ops), &ledger_fs);
  fuse_opt_free_args(&args);  // libfuse may have copied them; the session keeps what it needs
  if (se == nullptr) {
    return ReportUsage("mount", o.mountpoint, "FUSE refused the options " + args_text[2]);
  }
  struct SessionGuard {
    fuse_session* se;
    bool mounted = false;
    bool signals = false;
    ~SessionGuard() {
      if (mounted) fuse_session_unmount(se);
      if (signals) fuse_remove_signal_handlers(se);
      fuse_session_destroy(se);
    }
  } guard{se};
  if (fuse_set_signal_handlers(se) != 0) {
    return ReportError("mount", o.mountpoint, ledger::Status::Failed("cannot install signals"));
  }
  guard.signals = true;
  if (fuse_session_mount(se, o.mountpoint.c_str()) != 0) {
    return ReportError("mount", o.mountpoint,
                       ledger::Status::Failed("FUSE mount failed (is /dev/fuse usable, and the "
                                              "mountpoint not already mounted?)"));
  }
  guard.mounted = true;
  // The HTTP API shares the store, the log and the record namespace with the mount. Started
  // before the parent is told, so a busy address fails the mount command.
  HttpListener listener;
  if (!o.http.listen.empty()) {
    st = StartHttpListener(o.http, o.tenant, o.checkpoint_delay_ms, &store, &listener);
    if (!st.ok()) return ReportError("mount", o.mountpoint, st);
  }
  if (!o.pid_file.empty()) {
    st = WritePidFile(o.pid_file);
    if (!st.ok()) return ReportError("mount", o.mountpoint, st);
  }
  spdlog::info("mounted {} at {} ({} records, {} names, read in {} ms; owner {}:{})", o.store,
               o.mountpoint, log->committed_size(), store.index.size(), store.index_load_ms,
               owner_uid, owner_gid);
  if (store.index.duplicates() > 0) {
    spdlog::warn("{} records repeat an earlier record's path; records/ shows the earliest",
                 store.index.duplicates());
  }
  if (!o.foreground) BecomeDaemon(o.tenant);
  ready->Tell(kExitOk);

  fuse_loop_config* loop = fuse_loop_cfg_create();
  fuse_loop_cfg_set_max_threads(loop, kMaxFuseThreads);
  const int rc = fuse_session_loop_mt(se, loop);
  fuse_loop_cfg_destroy(loop);

  spdlog::info("unmounting {} ({} inbox files still open are not sealed)", o.mountpoint,
               ledger_fs.open_inbox_files());
  if (listener.server) listener.server->Stop();
  st = log->Publish();
  if (!o.pid_file.empty()) ::unlink(o.pid_file.c_str());
  if (!st.ok()) {
    spdlog::error("final publication failed: {}", st.ToString());
    return ExitCodeFor(st);
  }
  spdlog::info("stopped; checkpoint covers {} records", log->published_size());
  // libfuse's loop returns the number of the signal that ended it: a requested, clean stop.
  const bool clean = rc == 0 || rc == SIGTERM || rc == SIGINT || rc == SIGHUP;
  if (!clean) spdlog::error("the FUSE session ended with error {}", rc);
  return clean ? kExitOk : kExitFailed;
}

}  // namespace

int RunMount(MountOptions o) {
  ledger::Status st = FinishMountOptions(&o);
  if (!st.ok()) return ReportUsage("mount", o.store, st.message());
  uid_t uid = ::getuid();
  gid_t gid = ::getgid();
  if (!o.owner.empty()) ParseOwner(o.owner, &uid, &gid);  // checked by FinishMountOptions

  ReadyPipe ready;
  if (!o.foreground) {
    int parent_exit = kExitOk;
    if (!Detach(&ready, &parent_exit)) return parent_exit;
  }
  SetLogTenant(o.tenant, /*journald=*/o.foreground && !::isatty(STDERR_FILENO));
  spdlog::set_level(spdlog::level::info);
  const int code = Serve(o, uid, gid, &ready);
  ready.Tell(code);  // no-op once ready was told
  return code;
}

int RunFstabMount(int argc, char** argv) {
  MountOptions o;
  ledger::Status st = ParseFstabArgs(argc, argv, &o);
  if (!st.ok()) {
    return ReportUsage("mount", argc > 1 ? argv[1] : "",
                       st.message() + " (usage: ledgerfs STORE MOUNTPOINT -o tenant=ID,...)");
  }
  return RunMount(std::move(o));
}

Command AddMountCommand(CLI::App& parent) {
  auto o = std::make_shared<MountOptions>();
  auto fuse_lists = std::make_shared<std::vector<std::string>>();
  CLI::App* app = parent.add_subcommand(
      "mount",
      "Mount a tenant's store: inbox/ takes records, records/, tile/ and checkpoint show "
      "them (docs/mount.md)");
  app->add_option("STORE", o->store, "The store folder")->required();
  app->add_option("MOUNTPOINT", o->mountpoint, "An empty folder to mount on")->required();
  app->add_option("--tenant", o->tenant,
                  "Tenant id for logs and the mount's name (default: the store folder's name)");
  app->add_option("--owner", o->owner,
                  "USER[:GROUP] who writes inbox/; GROUP reads the rest (default: you)");
  app->add_option("--key", o->key,
                  "The store's signing key file (default: the key location for its origin)");
  app->add_option("--pid-file", o->pid_file, "Write the daemon's pid here once mounted");
  app->add_option("--checkpoint-delay", o->checkpoint_delay_ms,
                  "Milliseconds from a record's close() to a signed checkpoint covering it")
      ->default_val(1000);
  app->add_flag("-f,--foreground", o->foreground, "Stay in the foreground, log to stderr");
  app->add_option("-o", *fuse_lists, "Mount options (ours and FUSE's), comma-separated");
  AddHttpListenOptions(app, &o->http, /*listen_required=*/false);
  return {app, [o, fuse_lists] {
            for (const std::string& list : *fuse_lists) {
              ledger::Status st = AddOptionList(list, o.get());
              if (!st.ok()) return ReportUsage("mount", o->store, st.message());
            }
            return RunMount(*o);
          }};
}

}  // namespace ledgerfs
