// What every `ledgerfs` subcommand shares: the exit codes (docs/cli.md), the one-line error report
// "ledgerfs: <command> <path>: <reason>" on stderr, and the stderr logger that names the store.
#pragma once

#include <string>
#include <string_view>

#include "ledger/status.h"

namespace ledgerfs {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // verification failed, or the operation failed
inline constexpr int kExitUsage = 2;   // bad command line
inline constexpr int kExitBusy = 3;    // the store is locked by another process
inline constexpr int kExitIo = 4;      // I/O error or no space

int ExitCodeFor(const ledger::Status& st);

// Prints "ledgerfs: <command> <path>: <reason>" (dropping a repeated "<path>: " at the start of
// the reason) and returns ExitCodeFor(st).
int ReportError(std::string_view command, std::string_view path, const ledger::Status& st);
// The same for a usage error found after parsing (a missing --vkey, …); returns kExitUsage.
int ReportUsage(std::string_view command, std::string_view path, std::string_view reason);
// "ledgerfs: <command> <path>: <message>" on stderr, for notes that are not errors.
void Note(std::string_view command, std::string_view path, std::string_view message);

// Installs the default spdlog logger (stderr, "ledgerfs: [level] message"), level warn
// (info with -v).
void InitLogging();
// From now on log lines name the store: "ledgerfs [store <path>] level: message".
void SetLogStore(const std::string& path);
// For the mount daemon: "ledgerfs [tenant <id>] level: message"; with `journald`, each line
// starts with its syslog priority ("<3>") so journald files it at the right level.
void SetLogTenant(const std::string& tenant, bool journald);

}  // namespace ledgerfs
