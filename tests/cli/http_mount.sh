#!/usr/bin/env bash
# The mount and the HTTP API in one daemon (docs/http.md "Starting it", PRODUCT §6): `ledgerfs
# mount STORE MNT --listen 127.0.0.1:0 --foreground` logs the address it got, and then
# - a record POSTed over HTTP is in MNT/records/ (cmp; also for a name a reader looked up before it
#   existed), its folder too, and its name is refused in MNT/inbox/ (O_EXCL create EEXIST, plain
#   create and open for writing EPERM, mkdir of its folder EEXIST); the mount's checkpoint covers it
#   within the checkpoint delay;
# - a file cp'd (and a folder mkdir'd) into MNT/inbox/ is GETtable over HTTP right after cp returns
#   (cmp, X-Record-Index, ETag), POSTing its name is 409; the checkpoint over HTTP covers it within
#   the checkpoint delay;
# - GET /checkpoint, every tile over HTTP, MNT/checkpoint, MNT/tile/ and the store agree byte for
#   byte; GET /records pages are `ledgerfs log --json` of the mount; verify passes on the mount;
# - unmounting stops the listener and the daemon exits 0;
# - `-o listen=ADDR` in the fstab form serves too (daemonised, with pid_file);
# - mount --listen on a busy port (daemonised and --foreground) exits 1 with a message naming the
#   address, leaves no mount and releases the store.
# Needs: LEDGERFS (the binary), root (FUSE), fusermount3, curl, python3, cmp.
set -euo pipefail

: "${LEDGERFS:?set LEDGERFS to the ledgerfs binary}"
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/mount.sh"
source "$(dirname "$0")/lib/http.sh"
shm=""
helper_pids=()
extra_mounts=()
on_exit() {
  local p m
  for p in "${helper_pids[@]+"${helper_pids[@]}"}"; do kill -9 "$p" 2>/dev/null || true; done
  for m in "${extra_mounts[@]+"${extra_mounts[@]}"}"; do fusermount3 -u -z "$m" 2>/dev/null || true; done
  mount_cleanup
  if [ -n "$shm" ]; then rm -rf "$shm"; fi
}
t_start=$(date +%s%N)

export LEDGERFS_KEY_DIR="$work/keys"
shm=$(mktemp -d -p /dev/shm ledgerfs-http-mount.XXXXXX)
store="$shm/acme"
mnt="$work/mnt"
vkey=$("$LEDGERFS" init "$store" --origin test.example/acme 2>"$work/init.err") || { cat "$work/init.err" >&2; fail "ledgerfs init"; }
tenant=acme
delay_ms=1000  # the default --checkpoint-delay, given explicitly

start_mount "$store" "$mnt" --listen 127.0.0.1:0 --checkpoint-delay "$delay_ms"
daemon=$mount_pid
base=$(wait_listen_url "$work/daemon.0.log" "$daemon")
echo "mounted $mnt, serving $base"
req GET /checkpoint
want 200 "GET /checkpoint from the mount daemon"
cmp -s "$work/b" "$mnt/checkpoint" || fail "GET /checkpoint differs from MNT/checkpoint"

# wait_covered WHAT SIZE T0_NS READ_CMD: READ_CMD prints a checkpoint; it must reach SIZE within
# the checkpoint delay (+250 ms of slack) of T0.
wait_covered() {
  local what=$1 want=$2 t0=$3 s elapsed
  shift 3
  while :; do
    s=$("$@" | sed -n 2p)
    elapsed=$((($(date +%s%N) - t0) / 1000000))
    [ -n "$s" ] && [ "$s" -ge "$want" ] && break
    [ "$elapsed" -le $((delay_ms + 250)) ] || fail "$what: the checkpoint has size '$s' $elapsed ms after the record was made, want $want within $delay_ms ms"
    sleep 0.02
  done
  echo "$what: covered after $elapsed ms"
}
http_checkpoint() { curl -sS --max-time 10 -H "X-Module-ID: $tenant" "$base/checkpoint"; }

# --- a record POSTed over HTTP shows in the mount ---------------------------------------------------
section "a record POSTed over HTTP shows in the mount"
head -c 10000 /dev/urandom >"$work/a.bin"
head -c 3000 /dev/urandom >"$work/late.bin"
head -c 7777 /dev/urandom >"$work/b.bin"
# wait_in_mount REL SRC T0_NS: MNT/records/REL is byte-identical to SRC within the checkpoint
# delay of T0 (docs/http.md promises the record in records/; this also reports how soon it shows).
wait_in_mount() {
  local rel=$1 src=$2 t0=$3 elapsed
  while :; do
    elapsed=$((($(date +%s%N) - t0) / 1000000))
    cmp -s "$mnt/records/$rel" "$src" && break
    [ "$elapsed" -le "$delay_ms" ] || { cmp "$mnt/records/$rel" "$src" || true; fail "records/$rel is not in the mount (byte-identical) $elapsed ms after its 201"; }
    sleep 0.02
  done
  echo "records/$rel visible in the mount after $elapsed ms"
}
# A reader looks for a name before it exists (the kernel may cache the miss).
[ ! -e "$mnt/records/late/x.bin" ] || fail "records/late/x.bin exists before it was POSTed"
req POST /records/http/a.bin --data-binary @"$work/a.bin"
t_post=$(date +%s%N)
want 201 "POST /records/http/a.bin"
wait_in_mount http/a.bin "$work/a.bin" "$t_post"
a_index=$(json_field index)
[ -d "$mnt/records/http" ] || fail "the folder records/http that the POST implies is not a folder in the mount"
req POST /records/late/x.bin --data-binary @"$work/late.bin"
t_late=$(date +%s%N)
want 201 "POST /records/late/x.bin"
wait_in_mount late/x.bin "$work/late.bin" "$t_late"
python3 - "$mnt/inbox" <<'EOF' || fail "a name POSTed over HTTP is not refused in inbox/"
import errno, os, sys
inbox = sys.argv[1]
for p in ("http/a.bin", "late/x.bin"):
    path = os.path.join(inbox, p)
    for flags, want in ((os.O_WRONLY | os.O_CREAT | os.O_EXCL, errno.EEXIST),
                        (os.O_WRONLY | os.O_CREAT | os.O_TRUNC, errno.EPERM),
                        (os.O_WRONLY, errno.EPERM), (os.O_WRONLY | os.O_APPEND, errno.EPERM)):
        try:
            fd = os.open(path, flags, 0o600)
            os.close(fd)
            sys.exit("open(inbox/%s, %o) succeeded" % (p, flags))
        except OSError as e:
            assert e.errno == want, ("inbox/" + p, oct(flags), errno.errorcode.get(e.errno), "want", errno.errorcode[want])
try:
    os.mkdir(os.path.join(inbox, "http"))
    sys.exit("mkdir inbox/http succeeded")
except OSError as e:
    assert e.errno == errno.EEXIST, ("mkdir inbox/http", errno.errorcode.get(e.errno))
EOF
rc=0
cp "$work/b.bin" "$mnt/inbox/http/a.bin" 2>/dev/null || rc=$?
[ "$rc" != 0 ] || fail "cp onto inbox/http/a.bin (POSTed over HTTP) exited 0"
cmp "$mnt/records/http/a.bin" "$work/a.bin" || fail "records/http/a.bin changed after cp onto its name"
wait_covered "POST -> MNT/checkpoint" $((a_index + 2)) "$t_late" cat "$mnt/checkpoint"

# --- a file cp'd into inbox/ is served over HTTP --------------------------------------------------
section "a file cp'd into inbox/ is served over HTTP"
mkdir "$mnt/inbox/mnt"
cp "$work/b.bin" "$mnt/inbox/mnt/b.bin"
t_cp=$(date +%s%N)
req GET /records/mnt/b.bin
want 200 "GET /records/mnt/b.bin right after cp into inbox/ returned"
cmp -s "$work/b" "$work/b.bin" || fail "GET /records/mnt/b.bin differs from the file cp'd into inbox/"
want_header ETag "\"$(sha256sum <"$work/b.bin" | cut -c1-64)\"" "GET /records/mnt/b.bin"
b_index=$(hdr X-Record-Index)
[ "$b_index" = $((a_index + 3)) ] || fail "X-Record-Index of mnt/b.bin is '$b_index', want $((a_index + 3)) (after http/a.bin, late/x.bin and the folder mnt)"
req GET /records/mnt
want_error 404 "GET of the folder made by mkdir in inbox/"
req POST /records/mnt/b.bin --data-binary @"$work/a.bin"
want_error 409 "POST of a name cp'd into inbox/"
req POST /records/mnt --data-binary @"$work/a.bin"
want_error 409 "POST of a folder mkdir'd in inbox/"
req POST /records/mnt/b.bin/x --data-binary @"$work/a.bin"
want_error 409 "POST below a file cp'd into inbox/"
req GET /records/mnt/b.bin
cmp -s "$work/b" "$work/b.bin" || fail "records/mnt/b.bin changed after the 409s"
wait_covered "cp -> GET /checkpoint" $((b_index + 1)) "$t_cp" http_checkpoint
req GET "/records?since=$b_index"
want 200 "GET /records?since=$b_index"
python3 -c '
import json, sys, hashlib
p = json.load(open(sys.argv[1]))
e = p["entries"][0]
assert e["path"] == "mnt/b.bin" and e["kind"] == "file", e
assert e["sha256"] == hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest(), e' "$work/b" "$work/b.bin" ||
  fail "the log entry of mnt/b.bin over HTTP: $(cat "$work/b")"

# --- both ways at once, then: the same tree over HTTP, in the mount and in the store ---------------
section "both ways at once, then: the same tree over HTTP, in the mount and in the store"
python3 - "$base" "$tenant" "$mnt" <<'EOF' || fail "records made both ways"
import os, sys, time, httpc
base, tenant, mnt = sys.argv[1:4]
def read_soon(path, want):
    """The record shows in the mount within the checkpoint delay (1 s)."""
    t0 = time.monotonic()
    while True:
        try:
            with open(path, "rb") as f:
                if f.read() == want:
                    return
        except FileNotFoundError:
            pass
        assert time.monotonic() - t0 < 1.0, (path, "not in the mount 1 s after its 201")
        time.sleep(0.01)
p = httpc.Poster(base, tenant)
os.mkdir(os.path.join(mnt, "inbox", "both"))
for i in range(150):
    data = b"via http %d\n" % i * (i % 7)
    st, r, body = p.post("both/h%d" % i, data)
    assert st == 201, (i, st, body)
    read_soon(os.path.join(mnt, "records", "both", "h%d" % i), data)
    data = b"via mount %d\n" % i * (i % 5 + 1)  # never empty: an empty file is sealed asynchronously
    with open(os.path.join(mnt, "inbox", "both", "m%d" % i), "wb") as f:
        f.write(data)
    st, r, body = p.request("GET", "/records/both/m%d" % i)
    assert st == 200 and body == data, ("GET /records/both/m%d" % i, st)
    st, r, body = p.post("both/m%d" % i, b"x")
    assert st == 409, ("POST /records/both/m%d" % i, st)
p.close()
EOF
total=$((b_index + 1 + 1 + 300))
wait_checkpoint "$mnt" "$total"
req GET /checkpoint
want 200 "GET /checkpoint"
cmp -s "$work/b" "$mnt/checkpoint" || fail "GET /checkpoint differs from MNT/checkpoint"
cmp -s "$work/b" "$store/checkpoint" || fail "GET /checkpoint differs from the store's checkpoint"
ntiles=0
while IFS= read -r f; do
  req GET "/$f"
  want 200 "GET /$f"
  cmp -s "$work/b" "$mnt/$f" || fail "GET /$f differs from MNT/$f"
  ntiles=$((ntiles + 1))
done < <(cd "$mnt" && find tile -type f | sort)
[ "$ntiles" -ge 4 ] || fail "only $ntiles tile files in the mount at size $total"
diff -r "$mnt/tile" "$store/tile" >/dev/null || fail "MNT/tile differs from the store's tile/"
echo "$ntiles tile files agree (HTTP, mount, store) at size $total"
python3 - "$base" "$tenant" "$LEDGERFS" "$mnt" "$total" <<'EOF' || fail "GET /records pages vs ledgerfs log --json of the mount"
import json, sys, urllib.request
from ledger_log import read_log
base, tenant, ledgerfs, mnt, total = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
entries, since = [], 0
while True:
    req = urllib.request.Request("%s/records?since=%d&limit=64" % (base, since), headers={"X-Module-ID": tenant})
    page = json.load(urllib.request.urlopen(req))
    entries += page["entries"]
    if page["next"] == page["size"]:
        break
    since = page["next"]
assert page["size"] == total, page["size"]
cli, size = read_log(ledgerfs, mnt, 64)
assert size == total and cli == entries, [(a, b) for a, b in zip(cli, entries) if a != b][:3]
EOF
expect_exit 0 "$LEDGERFS" verify "$mnt" --vkey "$vkey"
grep -q "^OK: test.example/acme size $total, " "$work/out" || fail "verify of the mount: $(cat "$work/out")"

# --- unmount stops the listener ---------------------------------------------------------------------
section "unmount stops the listener"
stop_mount "$mnt" "$daemon"
mount_pids=()
wait_unmounted "$mnt"
rc=0
curl -sS --max-time 5 -o /dev/null -H "X-Module-ID: $tenant" "$base/checkpoint" 2>/dev/null || rc=$?
[ "$rc" != 0 ] || fail "the listener still answers after the mount stopped"
[ "$(checkpoint_size "$store")" = "$total" ] || fail "the final checkpoint has size $(checkpoint_size "$store"), want $total"
verify_store "$store" "$total"

# --- the fstab form with -o listen=ADDR -------------------------------------------------------------
section "the fstab form with -o listen=ADDR"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
extra_mounts+=("$mnt")
"$LEDGERFS" "$store" "$mnt" -o "tenant=acme,listen=127.0.0.1:$port,pid_file=$work/fstab.pid" 2>"$work/fstab.err" ||
  { cat "$work/fstab.err" >&2; fail "the fstab form with -o listen=127.0.0.1:$port"; }
is_mounted "$mnt" || fail "the fstab form returned but $mnt is not mounted"
fstab_pid=$(cat "$work/fstab.pid")
base="http://127.0.0.1:$port"
req GET /checkpoint
want 200 "GET /checkpoint from the daemon mounted with -o listen="
cmp -s "$work/b" "$mnt/checkpoint" || fail "-o listen=: GET /checkpoint differs from MNT/checkpoint"
req POST /records/fstab.txt --data-binary @"$work/a.bin"
want 201 "POST to the daemon mounted with -o listen="
cmp "$mnt/records/fstab.txt" "$work/a.bin" || fail "-o listen=: records/fstab.txt"
total=$((total + 1))
fusermount3 -u "$mnt" || fail "fusermount3 -u $mnt"
for i in $(seq 1 200); do kill -0 "$fstab_pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$fstab_pid" 2>/dev/null && fail "the daemon mounted with -o listen= still runs 10 s after unmount"
extra_mounts=()
[ "$(checkpoint_size "$store")" = "$total" ] || fail "after the fstab mount the checkpoint has size $(checkpoint_size "$store"), want $total"

# --- mount --listen on a busy port: exit 1, the address in the message, no mount --------------------
section "mount --listen on a busy port: exit 1, the address in the message, no mount"
hold_port
extra_mounts+=("$mnt")
for mode in daemon foreground; do
  args=()
  [ "$mode" = foreground ] && args=(--foreground)
  rc=0
  timeout -s KILL 30 "$LEDGERFS" mount "$store" "$mnt" --listen "127.0.0.1:$busy" "${args[@]+"${args[@]}"}" \
    >"$work/busy.out" 2>"$work/busy.err" || rc=$?
  [ "$rc" = 1 ] || { cat "$work/busy.err" >&2; fail "mount ($mode) --listen on a busy port exited $rc, want 1"; }
  grep -q "127\.0\.0\.1:$busy" "$work/busy.err" ||
    { cat "$work/busy.err" >&2; fail "mount ($mode) --listen on a busy port: the message does not name 127.0.0.1:$busy"; }
  echo "mount ($mode) on a busy port: exit 1: $(grep "127\.0\.0\.1:$busy" "$work/busy.err" | head -1)"
  sleep 0.2
  is_mounted "$mnt" && fail "mount ($mode) --listen on a busy port left $mnt mounted"
done
extra_mounts=()
release_port
helper_pids=()
# The store is free again: an append takes its lock.
"$LEDGERFS" append "$store" --path after-busy.txt --file "$work/a.bin" >/dev/null 2>"$work/append.err" ||
  { cat "$work/append.err" >&2; fail "ledgerfs append after the refused mounts (the store stayed locked?)"; }
total=$((total + 1))
verify_store "$store" "$total"
check_error_bodies
echo "http_mount: OK in $((($(date +%s%N) - t_start) / 1000000)) ms"
