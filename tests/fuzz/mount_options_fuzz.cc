// Fuzzes the mount option parsers (mount/mount_options.h) that read /etc/fstab and mount(8)'s
// command line: AddOptionList, ParseFstabArgs and ParseOwner. FinishMountOptions is left out: it
// looks at the file system. Properties: what goes to FUSE is a subsequence of the list's own
// items, never one of ours or of mount(8)'s; ParseFstabArgs with "-o LIST" means exactly
// AddOptionList(LIST); a numeric owner means that uid and gid, exactly (no wrap-around).
#include <sys/types.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "mount/mount_options.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? s.npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

bool SameOptions(const ledgerfs::MountOptions& a, const ledgerfs::MountOptions& b) {
  return a.tenant == b.tenant && a.owner == b.owner && a.key == b.key && a.pid_file == b.pid_file &&
         a.foreground == b.foreground && a.checkpoint_delay_ms == b.checkpoint_delay_ms &&
         a.fuse_options == b.fuse_options && a.http.listen == b.http.listen &&
         a.http.max_body == b.http.max_body;
}

void CheckOptionList(std::string_view list) {
  ledgerfs::MountOptions o;
  const bool ok = ledgerfs::AddOptionList(list, &o).ok();
  const std::vector<std::string_view> items = Split(list, ',');
  // Each FUSE option is a whole item of the list, in the list's order.
  size_t next = 0;
  for (const std::string& opt : o.fuse_options) {
    while (next < items.size() && items[next] != opt) ++next;
    FUZZ_CHECK(next < items.size());
    ++next;
    // Our keys are ours with or without a value; mount(8)'s flags only in their bare form.
    const std::string_view key = std::string_view(opt).substr(0, opt.find('='));
    for (std::string_view ours : {"tenant", "owner", "key", "pid_file", "listen", "max_body",
                                  "foreground", "checkpoint_delay"}) {
      FUZZ_CHECK(key != ours);
    }
    for (std::string_view helper : {"rw", "defaults", "nofail", "_netdev", "noauto"}) {
      FUZZ_CHECK(opt != helper);
    }
    FUZZ_CHECK(!opt.starts_with("x-") && !opt.starts_with("comment="));
  }
  if (ok) FUZZ_CHECK(o.checkpoint_delay_ms >= 0);
  if (!ok) return;
  // The last tenant item wins ("tenant" alone sets it empty, which means the default).
  for (size_t i = items.size(); i-- > 0;) {
    const size_t eq = items[i].find('=');
    if (items[i].substr(0, eq) == "tenant") {
      FUZZ_CHECK(o.tenant == (eq == std::string_view::npos ? "" : items[i].substr(eq + 1)));
      break;
    }
  }
}

// The input's lines are argv[1..]; a line equal to "-o" takes the next one as its list.
void CheckFstabArgs(std::string_view in) {
  std::vector<std::string> args{"ledgerfs"};
  for (std::string_view line : Split(in, '\n')) args.emplace_back(line);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ledgerfs::MountOptions o;
  const bool ok = ledgerfs::ParseFstabArgs(static_cast<int>(args.size()), argv.data(), &o).ok();
  if (ok) FUZZ_CHECK(!o.store.starts_with("-") && !o.mountpoint.starts_with("-"));
  // "STORE MOUNTPOINT -o LIST" is AddOptionList(LIST), store and mountpoint aside. argv holds C
  // strings, so a list with a NUL cannot get there whole.
  if (in.find_first_of(std::string_view("\n\0", 2)) != std::string_view::npos) return;
  std::string list(in);
  std::vector<std::string> fstab{"ledgerfs", "/store", "/mnt", "-o", list};
  std::vector<char*> fstab_argv;
  for (std::string& a : fstab) fstab_argv.push_back(a.data());
  ledgerfs::MountOptions via_argv, direct;
  const bool argv_ok = ledgerfs::ParseFstabArgs(5, fstab_argv.data(), &via_argv).ok();
  FUZZ_CHECK(argv_ok == ledgerfs::AddOptionList(list, &direct).ok());
  if (argv_ok) {
    FUZZ_CHECK(via_argv.store == "/store" && via_argv.mountpoint == "/mnt");
    FUZZ_CHECK(SameOptions(via_argv, direct));
  }
}

// A numeric USER[:GROUP] is taken as ids without looking anything up; a number that does not fit
// a uid_t / gid_t must be refused, not wrapped (4294967296 would otherwise be root).
void CheckOwner(std::string_view in) {
  if (in.find('\0') != std::string_view::npos) return;  // cannot come from a C string
  const std::string spec(in);
  uid_t uid = 0;
  gid_t gid = 0;
  const bool ok = ledgerfs::ParseOwner(spec, &uid, &gid).ok();
  const std::vector<std::string_view> parts = Split(in, ':');
  auto number = [](std::string_view s, uint64_t* v) {
    if (s.empty() || s.size() > 19) return false;
    *v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      *v = *v * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
  };
  uint64_t u = 0, g = 0;
  if (parts.size() == 1 && number(parts[0], &u)) {
    if (ok) FUZZ_CHECK(uid == u);
  } else if (parts.size() == 2 && number(parts[0], &u) && number(parts[1], &g)) {
    if (ok) FUZZ_CHECK(uid == u && gid == g);
  }
  // chown(2) reads (uid_t)-1 and (gid_t)-1 as "leave unchanged": never a real owner.
  if (ok) FUZZ_CHECK(uid != std::numeric_limits<uid_t>::max());
  if (ok) FUZZ_CHECK(gid != std::numeric_limits<gid_t>::max());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in = fuzz::AsView(data, size);
  CheckOptionList(in);
  CheckFstabArgs(in);
  if (size <= 64) CheckOwner(in);  // it asks NSS: keep it to plausible lengths
  return 0;
}
