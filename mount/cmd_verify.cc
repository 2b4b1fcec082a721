// `ledgerfs verify PATH [--vkey KEY]... [--since OLD_CHECKPOINT]`: runs the full verifier
// (ledger/verifier.h) over a store, a mount or a copied tile tree; in a store it also checks that
// every record's content file exists with the stated size and digest, in a mount that every
// record shows in records/ with them. Exit 0 only if all holds. A mount, or a store a running
// log holds, is verified as a live tree (VerifyLiveTree): files the log publishes during the run
// are left to the next run, and a run that fails while the checkpoint changes is repeated.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include "ledger/encoding.h"
#include "ledger/log.h"
#include "ledger/posix_storage.h"
#include "ledger/records.h"
#include "ledger/verifier.h"
#include "mount/cli_util.h"
#include "mount/commands.h"
#include "mount/published_tree.h"

namespace ledgerfs {

namespace {

struct VerifyCommandOptions {
  std::string path;
  std::vector<std::string> vkeys;
  std::string since_file;
};

constexpr size_t kMaxCheckpointBytes = 1 << 20;

ledger::Status ReadSmallFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ledger::Status::FromErrno(path, errno);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return ledger::Status::FromErrno("read " + path, EIO);
  *out = buf.str();
  if (out->size() > kMaxCheckpointBytes) {
    return ledger::Status::InvalidArgument(path + ": too large to be a checkpoint");
  }
  return ledger::Status::Ok();
}

// A one-line progress bar, redrawn in place; only used when stderr is a terminal.
void DrawProgress(uint64_t done, uint64_t total) {
  const int width = 40;
  const double frac = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
  const int filled = static_cast<int>(frac * width);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(width, '.');
  std::fprintf(stderr, "\rverify [%s] %3d%% %llu/%llu entries", bar.c_str(),
               static_cast<int>(frac * 100), static_cast<unsigned long long>(done),
               static_cast<unsigned long long>(total));
  if (done == total) std::fputc('\n', stderr);
  std::fflush(stderr);
}

// What PATH is: its kind decides how record contents are checked and whether a log may be
// publishing into it while it is read.
enum class TreeKind { kStore, kMount, kTileTree };

TreeKind KindOf(ledger::Storage* tree) {
  if (tree->Exists("content") || tree->Exists(ledger::store_layout::kIdentity)) {
    return TreeKind::kStore;
  }
  // A mount (docs/mount.md) shows records/ beside checkpoint and tile/, and no content/.
  if (tree->Exists("records")) return TreeKind::kMount;
  return TreeKind::kTileTree;
}

// Passes against a live tree, and how long a pass waits for the log to finish a publication it
// caught half-way (far beyond what one publication takes; spent only when the tree really is
// broken, or the log is that slow).
constexpr int kLiveAttempts = 5;
constexpr std::chrono::milliseconds kLiveSettle{5000};

int RunVerify(const VerifyCommandOptions& o) {
  SetLogStore(o.path);
  std::unique_ptr<ledger::Storage> tree;
  ledger::Status st = ledger::OpenPosixStorage(o.path, /*create=*/false, &tree);
  if (!st.ok()) return ReportError("verify", o.path, st);

  ledger::VerifyOptions options;
  bool from_identity = false;
  st = TrustedKeys(tree.get(), o.vkeys, &options.vkeys, &from_identity);
  if (!st.ok()) return ReportUsage("verify", o.path, st.message());
  if (from_identity) {
    Note("verify", o.path,
         "using the store's own key " + options.vkeys[0] +
             " (pass --vkey to check against a key you got elsewhere)");
  }
  if (!o.since_file.empty()) {
    std::string old;
    st = ReadSmallFile(o.since_file, &old);
    if (!st.ok()) return ReportError("verify", o.path, st.WithContext("--since"));
    options.since_checkpoint = std::move(old);
  }

  // Record contents live in a store's content/ folder, and in a mount's records/ folder under
  // their paths; a bare tile tree has neither.
  const TreeKind kind = KindOf(tree.get());
  uint64_t content_files = 0;
  MountRecordChecker mount_records(o.path, tree.get());
  if (kind == TreeKind::kStore) {
    ledger::Storage* storage = tree.get();
    options.entry_check = [storage, &content_files](uint64_t index, std::string_view entry) {
      ledger::RecordInfo info;
      if (ledger::ParseManifest(entry, &info).ok() &&
          info.kind == ledger::RecordInfo::Kind::kFile) {
        ++content_files;
      }
      return ledger::Records::CheckEntryContent(storage, index, entry);
    };
  } else if (kind == TreeKind::kMount) {
    options.entry_check = [&mount_records](uint64_t index, std::string_view entry) {
      return mount_records.Check(index, entry);
    };
  } else {
    Note("verify", o.path, "no content/ folder here: record contents are not checked");
  }
  if (::isatty(STDERR_FILENO)) options.progress = DrawProgress;

  // A mount, or a store a running log holds, changes while it is read (ledger/verifier.h).
  ledger::LiveVerifyOptions live;
  live.max_attempts = kLiveAttempts;
  const bool is_live =
      kind == TreeKind::kMount || (kind == TreeKind::kStore && StoreLockHeld(o.path));
  if (is_live) live.settle = kLiveSettle;
  live.on_retry = [&](int attempt, const ledger::Status& failure) {
    if (options.progress) std::fputc('\n', stderr);
    Note("verify", o.path,
         "the log published a new checkpoint while this run failed (" + failure.message() +
             "); verifying again against it (attempt " + std::to_string(attempt) + " of " +
             std::to_string(live.max_attempts) + ")");
    content_files = 0;
    mount_records.Reset();
  };

  ledger::VerifyReport report;
  st = ledger::VerifyLiveTree(*tree, options, live, &report);
  if (!st.ok()) {
    if (options.progress) std::fputc('\n', stderr);
    if (report.checkpoint_moved) {
      Note("verify", o.path,
           "the log published a new checkpoint during each of " + std::to_string(report.attempts) +
               " runs; the last one failed as follows (run verify again to tell damage from a "
               "busy log)");
    }
    return ReportError("verify", o.path, st);
  }
  for (const std::string& n : report.notes) {
    // A mount's own folders beside the published files are no news.
    if (kind == TreeKind::kMount && (n == "ignored unexpected entry at the root: inbox" ||
                                     n == "ignored unexpected entry at the root: records")) {
      continue;
    }
    Note("verify", o.path, n);
  }
  if (kind == TreeKind::kMount) {
    content_files = mount_records.files_checked();
    const std::vector<std::string>& hidden = mount_records.hidden();
    for (size_t i = 0; i < hidden.size() && i < 10; ++i) {
      Note("verify", o.path, hidden[i] + ": the mount shows the first record of a path only");
    }
    if (hidden.size() > 10) {
      Note("verify", o.path,
           std::to_string(hidden.size() - 10) + " more records are hidden by earlier ones");
    }
  }
  std::cout << "OK: " << report.checkpoint.origin << " size " << report.checkpoint.size << ", root "
            << ledger::HashToBase64(report.checkpoint.root) << ", " << report.entries
            << " entries, " << report.tiles_checked << " tiles, " << report.bundles_checked
            << " bundles, " << content_files << " content files" << std::endl;
  return kExitOk;
}

}  // namespace

Command AddVerifyCommand(CLI::App& parent) {
  auto o = std::make_shared<VerifyCommandOptions>();
  CLI::App* app = parent.add_subcommand(
      "verify",
      "Recompute every hash of a store, mount or copied tile tree and check the signature");
  app->add_option("PATH", o->path, "A store, a mount or a copied tile tree")->required();
  app->add_option("--vkey", o->vkeys,
                  "A verifier key to trust (repeatable; default for a store: its own key)")
      ->allow_extra_args(false);
  app->add_option("--since", o->since_file,
                  "A file holding an older signed checkpoint the tree must extend");
  return {app, [o] { return RunVerify(*o); }};
}

}  // namespace ledgerfs
