#!/usr/bin/env bash
# The tenant mount on a full disk (PRODUCT §4 "disk full", docs/mount.md "When a file is sealed",
# docs/design.md "Crash story"): the store lives on a 24 MiB tmpfs; files are written through the
# mount until one fails (1 MiB files, then 3,000-byte ones into what is left); each time the writer
# gets ENOSPC at write() or close(), the failed file leaves no record (not in records/, not in the
# log) and the log stays verifiable; once space is freed (a filler file outside the store is
# removed) new files seal and read back, and the failed names are free again.
# Needs: LEDGERFS (the binary), root (FUSE and mount -t tmpfs), fusermount3, python3.
set -euo pipefail

: "${LEDGERFS:?set LEDGERFS to the ledgerfs binary}"
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/mount.sh"
small="$work/small"
small_mounted=0
on_exit() {
  mount_cleanup
  if [ "$small_mounted" = 1 ]; then
    local i
    for i in $(seq 1 50); do  # a killed daemon may still hold files on it for a moment
      umount "$small" 2>/dev/null && return 0
      sleep 0.1
    done
    umount -l "$small" || true
  fi
}

export LEDGERFS_KEY_DIR="$work/keys"
mkdir "$small"
mount -t tmpfs -o size=24m tmpfs "$small"
small_mounted=1
dd if=/dev/zero of="$small/filler" bs=1M count=4 status=none
store="$small/store"
mnt="$work/mnt"
vkey=$("$LEDGERFS" init "$store" --origin test.example/x)
start_mount "$store" "$mnt"
daemon=$mount_pid

# fill.py MNT ACKED PREFIX SIZE MAX: writes inbox/fill/PREFIX0, PREFIX1, … of SIZE random bytes
# (64 KiB writes) until one fails; each acknowledged file is appended to ACKED as "PATH SHA256";
# the failure is printed as "ERRNO CALL PATH" (CALL: open, write or close).
cat >"$work/fill.py" <<'EOF'
import errno, hashlib, os, sys
mnt, acked_path, prefix, size, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
acked = open(acked_path, "a")
for i in range(limit):
    path = "fill/%s%d" % (prefix, i)
    data = os.urandom(size)
    call = "open"
    try:
        fd = os.open(os.path.join(mnt, "inbox", path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        call = "write"
        off = 0
        while off < len(data):
            off += os.write(fd, data[off:off + 65536])
        call = "close"
        fd, f = -1, fd
        os.close(f)
    except OSError as e:
        if call == "write":
            try:
                os.close(fd)
            except OSError:
                pass
        print(errno.errorcode.get(e.errno, str(e.errno)), call, path)
        sys.exit(0)
    acked.write("%s %s\n" % (path, hashlib.sha256(data).hexdigest()))
    acked.flush()
sys.exit("%d files of %d bytes written to a 24 MiB filesystem without an error" % (limit, size))
EOF

# log.py LEDGERFS STORE: every log entry as "INDEX KIND PATH SHA256" (all pages).
cat >"$work/log.py" <<'EOF'
import json, subprocess, sys
ledgerfs, store = sys.argv[1], sys.argv[2]
since = 0
while True:
    page = json.loads(subprocess.run([ledgerfs, "log", store, "--since", str(since), "--limit", "1000", "--json"],
                                     check=True, capture_output=True).stdout)
    for e in page["entries"]:
        print(e["index"], e.get("kind", "-"), e.get("path", "-"), e.get("sha256", "-"))
    if page["next"] >= page["size"]:
        break
    since = page["next"]
EOF

check_acked() {  # every acknowledged file reads back from records/ with its sha256
  python3 - "$mnt" "$work/acked" <<'EOF' || fail "an acknowledged file is wrong in records/"
import hashlib, os, sys
mnt, bad = sys.argv[1], []
for line in open(sys.argv[2]):
    path, sha = line.split()
    try:
        got = hashlib.sha256(open(os.path.join(mnt, "records", path), "rb").read()).hexdigest()
    except OSError as e:
        bad.append("records/%s (acknowledged): %s" % (path, e.strerror))
        continue
    if got != sha:
        bad.append("records/%s has sha256 %s, acknowledged %s" % (path, got, sha))
for b in bad[:10]:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}

# fill PREFIX SIZE MAX: one run of fill.py; the failure must be ENOSPC at write or close and leave no
# record; every acknowledged file is intact; the mount still verifies.
: >"$work/acked"
failed_names=()
fill() {
  local before after err call failed
  before=$(wc -l <"$work/acked")
  python3 "$work/fill.py" "$mnt" "$work/acked" "$@" >"$work/failure" || fail "the fill script failed"
  read -r err call failed <"$work/failure"
  after=$(wc -l <"$work/acked")
  echo "after $((after - before)) files of $2 bytes: $call of $failed failed with $err"
  [ "$err" = ENOSPC ] || fail "$call of $failed failed with $err, expected ENOSPC"
  case "$call" in write | close) ;; *) fail "ENOSPC came at $call of $failed, expected at write or close" ;; esac
  kill -0 "$daemon" 2>/dev/null || fail "the daemon died on ENOSPC"
  failed_names+=("$failed")
  if [ -e "$mnt/records/$failed" ] || [ -L "$mnt/records/$failed" ]; then
    fail "records/$failed exists after $err"
  fi
  check_acked
  python3 "$work/log.py" "$LEDGERFS" "$store" >"$work/log.txt" || fail "ledgerfs log on the full store failed"
  if grep -qE "^[0-9]+ file (inbox/)?$failed " "$work/log.txt"; then fail "the log holds a record of $failed"; fi
  expect_exit 0 "$LEDGERFS" verify "$mnt" --vkey "$vkey"
}
mkdir "$mnt/inbox/fill"
fill f $((1024 * 1024)) 100  # big files until the disk is full
[ -s "$work/acked" ] || fail "not even one file fitted before ENOSPC"
fill s 3000 2000             # then small ones into whatever is left
nacked=$(wc -l <"$work/acked")

# --- free space: writing works again, and the failed names are free --------------------------------
rm "$small/filler"
# write_file PATH TEXT: creates inbox/PATH (retrying ENOSPC for up to 3 s while the daemon notices
# the freed space), then checks records/PATH reads back.
write_file() {
  python3 - "$mnt" "$1" "$2" <<'EOF' || fail "writing $1 after freeing space failed"
import errno, os, sys, time
mnt, path, text = sys.argv[1], sys.argv[2], sys.argv[3]
data = (text * 1000).encode()
t0 = time.monotonic()
while True:
    try:
        with open(os.path.join(mnt, "inbox", path), "wb") as f:
            f.write(data)
        break
    except OSError as e:
        if e.errno != errno.ENOSPC or time.monotonic() - t0 > 3:
            raise
        time.sleep(0.1)
print("%s sealed %.2f s after the first try" % (path, time.monotonic() - t0))
got = open(os.path.join(mnt, "records", path), "rb").read()
assert got == data, "records/%s differs from what was written" % path
EOF
}
made=0
for _ in $(seq 1 30); do  # up to 3 s for the daemon to notice the freed space
  if mkdir "$mnt/inbox/after" 2>"$work/mkdir.err"; then
    made=1
    break
  fi
  sleep 0.1
done
[ "$made" = 1 ] || fail "mkdir after freeing space failed: $(cat "$work/mkdir.err")"
write_file after/ok "written after space was freed. "
for failed in "${failed_names[@]}"; do write_file "$failed" "the name of a failed seal is free again. "; done
check_acked

expected=$((2 + nacked + 1 + ${#failed_names[@]}))  # fill/, after/, acknowledged, after/ok, failed names
s=""
for _ in $(seq 1 100); do
  s=$(sed -n 2p "$mnt/checkpoint")
  [ "$s" = "$expected" ] && break
  sleep 0.05
done
[ "$s" = "$expected" ] || fail "checkpoint size is $s after freeing space, expected $expected"
expect_exit 0 "$LEDGERFS" verify "$mnt" --vkey "$vkey"

# --- clean unmount; the log has exactly the acknowledged records ----------------------------------
stop_mount "$mnt" "$daemon"
mount_pids=()  # reaped: mount_cleanup must not kill a reused pid
wait_unmounted "$mnt"
python3 "$work/log.py" "$LEDGERFS" "$store" >"$work/log.txt" || fail "ledgerfs log failed"
python3 - "$work/log.txt" "$work/acked" "$expected" "${failed_names[@]}" <<'EOF' || fail "the log after ENOSPC is wrong"
import hashlib, sys
log, acked_path, expected, failed_names = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
entries = [line.split() for line in open(log)]
assert [int(e[0]) for e in entries] == list(range(expected)), ("indices not dense 0..%d" % (expected - 1), len(entries))
paths = [e[2] for e in entries]
if all(p.startswith("inbox/") for p in paths):  # accept <path> or inbox/<path>, consistently
    paths = [p[len("inbox/"):] for p in paths]
want = {"fill": None, "after": None}
for line in open(acked_path):
    p, sha = line.split()
    want[p] = sha
want["after/ok"] = hashlib.sha256(("written after space was freed. " * 1000).encode()).hexdigest()
for failed in failed_names:
    want[failed] = hashlib.sha256(("the name of a failed seal is free again. " * 1000).encode()).hexdigest()
assert len(paths) == len(set(paths)), "a path is recorded twice (a partial record of %s?)" % failed_names
assert set(paths) == set(want), sorted(set(paths) ^ set(want))
for e, p in zip(entries, paths):
    if want[p] is None:
        assert e[1] == "directory", e
    else:
        assert e[1] == "file" and e[3] == want[p], (e, want[p])
EOF
expect_exit 0 "$LEDGERFS" verify "$store" --vkey "$vkey"
grep -q "^OK: test.example/x size $expected, " "$work/out" || fail "verify of the store: $(cat "$work/out")"

echo "mount_enospc: OK"
