// The options of a tenant mount, from either command line (docs/mount.md):
//   ledgerfs mount STORE MOUNTPOINT [--tenant ID] [--owner U[:G]] [--foreground] [-o OPTS] ...
//   ledgerfs STORE MOUNTPOINT -o tenant=ID,owner=U:G,...     (mount -t fuse.ledgerfs, fstab)
// Our keys are taken out of -o lists; everything else is passed to FUSE.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "ledger/status.h"
#include "ledger/tenant_id.h"
#include "mount/http_listener.h"

namespace ledgerfs {

struct MountOptions {
  std::string store;
  std::string mountpoint;
  std::string tenant;  // default: the store folder's name
  std::string owner;   // "USER[:GROUP]" or numeric; default: the caller
  std::string key;     // signing key file; default: the location for the store's origin
  std::string pid_file;
  bool foreground = false;
  int checkpoint_delay_ms = 1000;
  std::vector<std::string> fuse_options;  // single options ("allow_other", "max_read=…")
  HttpListenOptions http;                 // --listen / -o listen=ADDR: the HTTP API too
};

// Takes one -o list ("a,b=c"): our keys set fields of *o, the rest are appended to
// o->fuse_options. Options mount(8) adds that mean nothing to a FUSE daemon are dropped.
ledger::Status AddOptionList(std::string_view list, MountOptions* o);

// The fstab / mount.fuse3 form: argv = {prog, STORE, MOUNTPOINT, "-o", list, ...}.
ledger::Status ParseFstabArgs(int argc, char** argv, MountOptions* o);

// Fills defaults and checks every value: tenant id, owner, delay, the folders exist.
ledger::Status FinishMountOptions(MountOptions* o);

// "acme", "acme:readers", "4242", "4242:4242" -> ids. InvalidArgument naming what is unknown.
ledger::Status ParseOwner(const std::string& spec, uid_t* uid, gid_t* gid);

}  // namespace ledgerfs
