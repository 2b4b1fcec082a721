#!/usr/bin/env bash
# The tenant mount survives `kill -9` of its daemon (docs/mount.md, PRODUCT §4, docs/design.md
# "Crash story"): 4 writers create files while the daemon is killed at a random moment; after a
# remount every acknowledged file (close() returned 0) is a record with the content its writer
# wrote, no record holds anything else (nothing half-sealed: a record that was not acknowledged is
# still complete and correct), the log names each path once, and `verify` passes. 3 rounds on the
# same store.
# Needs: LEDGERFS (the binary), root (FUSE), fusermount3, python3.
set -euo pipefail

: "${LEDGERFS:?set LEDGERFS to the ledgerfs binary}"
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/mount.sh"
writer_pids=()
on_exit() {
  local p
  for p in "${writer_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  mount_cleanup
}

rounds=3
writers=4

export LEDGERFS_KEY_DIR="$work/keys"
store="$work/store"
mnt="$work/mnt"
copies="$work/copies"  # what each writer wrote, kept before it creates the file on the mount
mkdir "$copies"
vkey=$("$LEDGERFS" init "$store" --origin test.example/x)

# writer.py MNT NAME ACKED GO: makes inbox/NAME, then writes NAME/f0, f1, … (random content,
# 1 B–64 KiB, in 16 KiB writes) until an error. A copy of each file goes to $copies/NAME/ first;
# only after close() returned 0 is "NAME/fI SHA256" appended to ACKED (and "DIR NAME" after mkdir).
cat >"$work/writer.py" <<'EOF'
import hashlib, os, random, sys, time
mnt, name, acked_path, go, copies = sys.argv[1:6]
acked = open(acked_path, "a")
os.makedirs(os.path.join(copies, name))
while not os.path.exists(go):
    time.sleep(0.005)
try:
    os.mkdir(os.path.join(mnt, "inbox", name))
except OSError as e:
    print("%s: mkdir: %s" % (name, e), file=sys.stderr)
    sys.exit(0)
acked.write("DIR %s\n" % name)
acked.flush()
deadline = time.monotonic() + 30
i = 0
while time.monotonic() < deadline:
    path = "%s/f%d" % (name, i)
    data = os.urandom(random.choice([random.randint(1, 4096), random.randint(1, 64 * 1024)]))
    with open(os.path.join(copies, path), "wb") as c:
        c.write(data)
    try:
        fd = os.open(os.path.join(mnt, "inbox", path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        view, off = memoryview(data), 0
        while off < len(data):
            off += os.write(fd, view[off:off + 16384])
        os.close(fd)
    except OSError as e:
        print("%s: %s" % (path, e), file=sys.stderr)
        sys.exit(0)
    acked.write("%s %s\n" % (path, hashlib.sha256(data).hexdigest()))
    acked.flush()
    i += 1
sys.exit("%s: still writing after 30 s: the daemon was not killed?" % name)
EOF

# check.py MNT COPIES ACKED...: every acknowledged file and folder is in records/ as acknowledged;
# every file in records/ is byte-identical to what its writer wrote; prints the number of records.
cat >"$work/check.py" <<'EOF'
import hashlib, os, sys
mnt, copies, acked_files = sys.argv[1], sys.argv[2], sys.argv[3:]
rec = os.path.join(mnt, "records")
acked_dirs, acked = set(), {}
for a in acked_files:
    for line in open(a):
        x, y = line.split()
        if x == "DIR":
            acked_dirs.add(y)
        else:
            acked[x] = y
for d in acked_dirs:
    assert os.path.isdir(os.path.join(rec, d)), "acknowledged folder %s is not in records/" % d
for p, sha in acked.items():
    f = os.path.join(rec, p)
    assert os.path.isfile(f), "acknowledged file %s is not in records/" % p
    got = hashlib.sha256(open(f, "rb").read()).hexdigest()
    assert got == sha, "records/%s has sha256 %s, acknowledged %s" % (p, got, sha)
records, unacked = 0, 0
for root, dirs, files in os.walk(rec):
    rel = os.path.relpath(root, rec)
    for d in dirs:
        records += 1
        p = d if rel == "." else rel + "/" + d
        assert os.path.isdir(os.path.join(copies, p)), "records/%s is no writer's folder" % p
    for f in files:
        records += 1
        p = f if rel == "." else rel + "/" + f
        c = os.path.join(copies, p)
        assert os.path.isfile(c), "records/%s was never written by a writer" % p
        want = open(c, "rb").read()
        got = open(os.path.join(rec, p), "rb").read()
        assert got == want, "records/%s: %d bytes differ from the %d bytes written (half-sealed?)" % (p, len(got), len(want))
        if p not in acked:
            unacked += 1
print(records, len(acked), unacked)
EOF

# logcheck.py LEDGERFS STORE COPIES SIZE: the whole log: dense indices, one record per path, each
# file record's size and sha256 those of what its writer wrote.
cat >"$work/logcheck.py" <<'EOF'
import hashlib, json, os, subprocess, sys
from ledger_log import read_log
ledgerfs, store, copies, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
entries, log_size = read_log(ledgerfs, store, 1000)
assert log_size == size, ("log size", log_size, "records/ holds", size)
assert [e["index"] for e in entries] == list(range(size)), "indices are not dense 0..n-1"
paths = [e["path"] for e in entries]
if all(p.startswith("inbox/") for p in paths):  # accept <path> or inbox/<path>, consistently
    paths = [p[len("inbox/"):] for p in paths]
assert len(set(paths)) == len(paths), "two records with the same path"
for e, p in zip(entries, paths):
    c = os.path.join(copies, p)
    if e["kind"] == "directory":
        assert os.path.isdir(c), e
    else:
        data = open(c, "rb").read()
        assert e["size"] == len(data) and e["sha256"] == hashlib.sha256(data).hexdigest(), (e, len(data))
EOF

# forget_pid PID: a daemon that was reaped; mount_cleanup must not kill its (maybe reused) pid.
forget_pid() {
  local i
  for i in "${!mount_pids[@]}"; do
    if [ "${mount_pids[$i]}" = "$1" ]; then mount_pids[i]=""; fi
  done
}

acked_lists=()
for round in $(seq 1 "$rounds"); do
  start_mount "$store" "$mnt"
  daemon=$mount_pid
  rm -f "$work/go"
  writer_pids=()
  for k in $(seq 1 "$writers"); do
    acked_lists+=("$work/acked.r$round.w$k")
    : >"$work/acked.r$round.w$k"
    python3 "$work/writer.py" "$mnt" "r${round}w$k" "$work/acked.r$round.w$k" "$work/go" "$copies" \
      2>"$work/writer.r$round.w$k.err" &
    writer_pids+=("$!")
  done
  touch "$work/go"
  # A random moment 0.5–1.5 s after the start, but not before a first file was acknowledged (a
  # loaded machine may be slow to start the writers).
  python3 - "$work" "$round" <<'EOF' || { cat "$work"/writer.r"$round".w*.err >&2; fail "round $round: no file acknowledged in 10 s"; }
import glob, random, sys, time
work, rnd = sys.argv[1], sys.argv[2]
t0, target = time.monotonic(), random.uniform(0.5, 1.5)
def acked():
    for f in glob.glob("%s/acked.r%s.w*" % (work, rnd)):
        if any(not line.startswith("DIR ") for line in open(f)):
            return True
    return False
while not acked():
    if time.monotonic() - t0 > 10:
        sys.exit(1)
    time.sleep(0.01)
time.sleep(max(0.0, target - (time.monotonic() - t0)))
print("round %s: daemon killed %.2f s after the start" % (rnd, time.monotonic() - t0))
EOF
  kill -0 "$daemon" 2>/dev/null || fail "round $round: the daemon died before it was killed"
  kill -9 "$daemon"
  { wait "$daemon"; } 2>/dev/null || true
  forget_pid "$daemon"
  fusermount3 -u -z "$mnt" || fail "round $round: fusermount3 -u -z failed"
  for k in "${!writer_pids[@]}"; do
    rc=0
    wait "${writer_pids[$k]}" || rc=$?
    [ "$rc" = 0 ] || { cat "$work/writer.r$round.w$((k + 1)).err" >&2; fail "round $round: writer $((k + 1)) exited $rc"; }
  done
  writer_pids=()
  acked_now=$(cat "$work"/acked.r"$round".w* | grep -vc '^DIR ' || true)
  [ "$acked_now" -gt 0 ] || { cat "$work"/writer.r"$round".w*.err >&2; fail "round $round: no file was acknowledged before the kill"; }

  start_mount "$store" "$mnt"
  read -r records acked unacked < <(python3 "$work/check.py" "$mnt" "$copies" "${acked_lists[@]}") ||
    fail "round $round: records/ after the kill is wrong"
  [ -n "${records:-}" ] || fail "round $round: records/ after the kill is wrong"
  echo "round $round: $acked_now files acknowledged this round; $records records, $acked acknowledged files, $unacked sealed but not acknowledged"
  wait_checkpoint "$mnt" "$records"
  python3 "$work/logcheck.py" "$LEDGERFS" "$store" "$copies" "$records" || fail "round $round: the log is wrong"
  expect_exit 0 "$LEDGERFS" verify "$mnt" --vkey "$vkey"
  grep -q "^OK: test.example/x size $records, " "$work/out" || fail "verify of the mount: $(cat "$work/out")"
  expect_exit 0 "$LEDGERFS" verify "$store" --vkey "$vkey"
  stop_mount "$mnt" "$mount_pid"
  forget_pid "$mount_pid"
  wait_unmounted "$mnt"
done

expect_exit 0 "$LEDGERFS" verify "$store" --vkey "$vkey"
grep -q "^OK: test.example/x size $records, " "$work/out" || fail "final verify: $(cat "$work/out")"
echo "mount_kill9: OK"
