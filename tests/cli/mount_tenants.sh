#!/usr/bin/env bash
# Two tenants side by side (docs/mount.md "Users and permissions", research/fuse.md §4): two stores
# (0700, made by root) mounted by root daemons with --owner 4242:4242 and --owner 4343:4343. Each
# user writes its own inbox/ and reads its own records/, tile/ and checkpoint, and gets EACCES for
# everything inside the other tenant's mount (its root shows only owner and mode), for both store directories and for the signing
# keys. A user in the owner's group reads but cannot write; root cannot read through inbox/. The
# modes the mount reports are the documented ones.
# Needs: LEDGERFS (the binary), root (FUSE, setpriv), fusermount3, /usr/bin/python3.
set -euo pipefail

: "${LEDGERFS:?set LEDGERFS to the ledgerfs binary}"
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/mount.sh"
on_exit() { mount_cleanup; }

two_tenant_stores
[ "$(stat -c %a "$LEDGERFS_KEY_DIR")" = 700 ] || fail "key folder mode is $(stat -c %a "$LEDGERFS_KEY_DIR")"

start_mount "$storeA" "$mntA" --owner 4242:4242 --tenant a
daemonA=$mount_pid
start_mount "$storeB" "$mntB" --owner 4343:4343 --tenant b
daemonB=$mount_pid

# --- the documented owners and modes (docs/mount.md table) -----------------------------------------
expect_stat() {  # expect_stat PATH "UID:GID MODE"
  local got
  got=$(stat -c '%u:%g %a' "$1") || fail "stat $1 failed"
  [ "$got" = "$2" ] || fail "$1 is '$got', expected '$2'"
}
expect_stat "$mntA" "4242:4242 550"
expect_stat "$mntA/inbox" "4242:4242 700"
expect_stat "$mntA/records" "4242:4242 550"
expect_stat "$mntA/tile" "4242:4242 550"
expect_stat "$mntA/checkpoint" "4242:4242 440"
expect_stat "$mntB" "4343:4343 550"
expect_stat "$mntB/inbox" "4343:4343 700"

# probe.py ROLE OWN OTHER STORE_A STORE_B KEY_DIR UID: the checks for one user, every failure
# printed; exit 1 if any. ROLE "tenant": the owner of OWN; "reader": in OWN's group only.
cat >"$work/probe.py" <<'EOF'
import errno, os, sys
role, own, other, store_a, store_b, key_dir, uid = sys.argv[1:8]
failures = []

def ok(what, fn):
    try:
        return fn()
    except OSError as e:
        failures.append("%s: %s, expected success" % (what, e))

def denied(what, fn):
    try:
        fn()
        failures.append("%s: succeeded, expected EACCES" % what)
    except OSError as e:
        if e.errno != errno.EACCES:
            failures.append("%s: %s, expected EACCES" % (what, e))

def read(p):
    with open(p, "rb") as f:
        return f.read()

def create(p):
    with open(p, "wb") as f:
        f.write(b"x")

def _raise(e):
    raise e

def walk_read(top):
    n = 0
    for root, dirs, files in os.walk(top, onerror=_raise):
        for f in files:
            read(os.path.join(root, f))
            n += 1
    if n == 0:
        raise OSError(errno.ENOENT, "no file under " + top)

mine = "u" + uid
data = ("written by user %s\n" % uid).encode()
if role == "tenant":
    ok("stat own mount", lambda: os.stat(own))
    ok("list own mount", lambda: os.listdir(own))
    ok("mkdir own inbox/" + mine, lambda: os.mkdir(os.path.join(own, "inbox", mine)))
    def write_own():
        with open(os.path.join(own, "inbox", mine, "f.txt"), "wb") as f:
            f.write(data)
    ok("write own inbox/%s/f.txt" % mine, write_own)
    ok("list own inbox", lambda: os.listdir(os.path.join(own, "inbox")))
    got = ok("read own records/%s/f.txt" % mine, lambda: read(os.path.join(own, "records", mine, "f.txt")))
    if got is not None and got != data:
        failures.append("records/%s/f.txt differs from what was written" % mine)
    st = ok("stat own record", lambda: os.stat(os.path.join(own, "records", mine, "f.txt")))
    if st is not None and (st.st_mode & 0o7777 != 0o440 or st.st_uid != int(uid)):
        failures.append("own record: mode %o uid %d, expected 440 uid %s" % (st.st_mode & 0o7777, st.st_uid, uid))
    denied("read own inbox/%s/f.txt (write-only)" % mine, lambda: read(os.path.join(own, "inbox", mine, "f.txt")))
    # tile/ is filled once the checkpoint covers the two records (at most --checkpoint-delay).
    import time
    t0 = time.monotonic()
    while True:
        size = ok("read own checkpoint", lambda: int(read(os.path.join(own, "checkpoint")).split(b"\n")[1]))
        if size is None or size >= 2 or time.monotonic() - t0 > 5:
            break
        time.sleep(0.05)
    if size is not None and size != 2:
        failures.append("own checkpoint has size %d 5 s after the 2 records, expected 2" % size)
else:  # reader: in the owner's group
    owner = sys.argv[8]
    ok("stat the mount", lambda: os.stat(own))
    ok("list the mount", lambda: os.listdir(own))
    got = ok("read records/u%s/f.txt" % owner, lambda: read(os.path.join(own, "records", "u" + owner, "f.txt")))
    if got is not None and got != ("written by user %s\n" % owner).encode():
        failures.append("the group reader sees other content in records/u%s/f.txt" % owner)
    denied("list the owner's inbox", lambda: os.listdir(os.path.join(own, "inbox")))
    denied("create in the owner's inbox", lambda: create(os.path.join(own, "inbox", mine + ".txt")))
    denied("mkdir in the owner's inbox", lambda: os.mkdir(os.path.join(own, "inbox", mine)))
ok("list own records/", lambda: os.listdir(os.path.join(own, "records")))
cp = ok("read own checkpoint", lambda: read(os.path.join(own, "checkpoint")))
if cp is not None and not cp.startswith(b"test.example/"):
    failures.append("own checkpoint starts with %r" % cp[:30])
ok("read every file under own tile/", lambda: walk_read(os.path.join(own, "tile")))

# The other tenant's mount: EACCES for everything inside it (docs/mount.md "Users and
# permissions"). The root's own attributes are visible to anyone who can search its parent
# folder (the kernel checks only that), and show only the owner, group and mode 0550.
st = ok("stat the other mount's root (owner and mode only)", lambda: os.stat(other))
if st is not None and (st.st_mode & 0o7777) != 0o550:
    failures.append("the other mount's root has mode %o, not 550" % (st.st_mode & 0o7777))
denied("list the other mount", lambda: os.listdir(other))
for name in ["checkpoint", "inbox", "records", "tile", "records/u4242", "records/u4343", "tile/0/000.p/1"]:
    denied("stat other/" + name, lambda: os.stat(os.path.join(other, name)))
denied("read other/checkpoint", lambda: read(os.path.join(other, "checkpoint")))
for name in ["inbox", "records", "tile"]:
    denied("list other/" + name, lambda: os.listdir(os.path.join(other, name)))
denied("create other/inbox/" + mine, lambda: create(os.path.join(other, "inbox", mine)))
denied("mkdir other/inbox/" + mine, lambda: os.mkdir(os.path.join(other, "inbox", mine)))

# Both stores and the keys: nothing.
for store in [store_a, store_b]:
    denied("list " + store, lambda: os.listdir(store))
    for name in ["checkpoint", "tile", ".ledger/identity", ".ledger/lock"]:
        denied("stat %s/%s" % (store, name), lambda: os.stat(os.path.join(store, name)))
    denied("read %s/checkpoint" % store, lambda: read(os.path.join(store, "checkpoint")))
    denied("create in " + store, lambda: create(os.path.join(store, mine)))
denied("list the key folder", lambda: os.listdir(key_dir))
for k in ["test.example_a.key", "test.example_b.key"]:
    denied("stat key " + k, lambda: os.stat(os.path.join(key_dir, k)))
    denied("read key " + k, lambda: read(os.path.join(key_dir, k)))

for f in failures:
    print("user %s (%s): %s" % (uid, role, f))
sys.exit(1 if failures else 0)
EOF
chmod 644 "$work/probe.py"

# as_user UID [--groups G] CMD...: runs CMD as UID:UID (no supplementary groups unless given).
as_user() {
  local uid=$1
  shift
  local groups=(--clear-groups)
  if [ "$1" = --groups ]; then
    groups=(--groups "$2")
    shift 2
  fi
  (cd "$work" && setpriv --reuid="$uid" --regid="$uid" "${groups[@]}" "$@")
}
probe() {  # probe ROLE UID OWN OTHER [OWNER] [--groups G]
  local role=$1 uid=$2 own=$3 other=$4 owner=${5:-}
  local g=()
  if [ -n "$owner" ]; then g=(--groups "$owner"); fi
  as_user "$uid" "${g[@]}" /usr/bin/python3 -I "$work/probe.py" "$role" "$own" "$other" \
    "$storeA" "$storeB" "$LEDGERFS_KEY_DIR" "$uid" "$owner"
}
[ "$(as_user 4242 id -u)" = 4242 ] || fail "setpriv does not switch to uid 4242"

rc=0
probe tenant 4242 "$mntA" "$mntB" || rc=1
probe tenant 4343 "$mntB" "$mntA" || rc=1
probe reader 4444 "$mntA" "$mntB" 4242 || rc=1
probe reader 4545 "$mntB" "$mntA" 4343 || rc=1
[ "$rc" = 0 ] || fail "permission checks failed (above)"

# The daemon refuses reads through inbox/ to root as well.
if cat "$mntA/inbox/u4242/f.txt" >/dev/null 2>"$work/err"; then fail "root read inbox/u4242/f.txt"; fi
grep -qi "permission denied" "$work/err" || fail "root reading through inbox/: $(cat "$work/err")"

# --- each record went to its own store, nowhere else ------------------------------------------------
stop_mount "$mntA" "$daemonA"
stop_mount "$mntB" "$daemonB"
mount_pids=()  # reaped: mount_cleanup must not kill a reused pid
for t in A B; do
  if [ $t = A ]; then s=$storeA u=u4242 o=u4343 v=$vkeyA; else s=$storeB u=u4343 o=u4242 v=$vkeyB; fi
  "$LEDGERFS" log "$s" --json >"$work/log.$t.json"
  python3 - "$work/log.$t.json" "$u" "$o" <<'EOF' || fail "log of store $t is wrong"
import json, sys
page = json.load(open(sys.argv[1]))
mine, other = sys.argv[2], sys.argv[3]
paths = [e["path"] for e in page["entries"]]
if all(p.startswith("inbox/") for p in paths):  # accept <path> or inbox/<path>, consistently
    paths = [p[len("inbox/"):] for p in paths]
assert sorted(paths) == [mine, mine + "/f.txt"], paths
EOF
  expect_exit 0 "$LEDGERFS" verify "$s" --vkey "$v"
done

echo "mount_tenants: OK"
