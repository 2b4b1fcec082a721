#!/usr/bin/env bash
# The tenant mount under concurrent writers (docs/mount.md, PRODUCT §2 and §4): 8 processes write
# 1,000 small files each into their own inbox/ folder at once; every file becomes exactly one
# record, byte-identical in records/; the log is dense and holds one record per file and folder;
# `verify` passes on the mount and on the store; the mount's tile/ and checkpoint are the store's,
# byte for byte; and a record is in the signed checkpoint at most 1 s (--checkpoint-delay default)
# after its close() returned.
# Needs: LEDGERFS (the binary), root (FUSE), fusermount3, python3, diff, cmp.
set -euo pipefail

: "${LEDGERFS:?set LEDGERFS to the ledgerfs binary}"
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/mount.sh"
writer_pids=()
shm=""
on_exit() {
  local p
  for p in "${writer_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  mount_cleanup
  if [ -n "$shm" ]; then rm -rf "$shm"; fi
}

writers=8
files_per_writer=${FILES_PER_WRITER:-1000}  # tools/test.sh runs a smaller round under TSan

export LEDGERFS_KEY_DIR="$work/keys"
# Every close() fsyncs: keep the store in memory so that CI stays fast (the filesystem does not
# matter here).
shm=$(mktemp -d -p /dev/shm ledgerfs-conc.XXXXXX)
store="$shm/store"
mnt="$work/mnt"
vkey=$("$LEDGERFS" init "$store" --origin test.example/x)
start_mount "$store" "$mnt"
daemon=$mount_pid

# --- 8 writers at once -----------------------------------------------------------------------------
# Writer K makes inbox/wK, waits for the start signal, then writes wK/f0 … wK/f999: distinct
# content of 100–4000 bytes, regenerated from (K, i) by the checks below.
cat >"$work/gen.py" <<'EOF'
import random
def content(k, i):
    r = random.Random(k * 1000003 + i)
    n = r.randint(100, 4000)
    return (b"w%d f%d " % (k, i) + r.randbytes(n))[:n]
EOF
cat >"$work/writer.py" <<'EOF'
import os, sys, time
sys.path.insert(0, os.path.dirname(sys.argv[0]))
from gen import content
mnt, k, count, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
folder = os.path.join(mnt, "inbox", "w%d" % k)
os.mkdir(folder)
while not os.path.exists(go):
    time.sleep(0.005)
for i in range(count):
    data = content(k, i)
    with open(os.path.join(folder, "f%d" % i), "wb") as f:
        f.write(data)
EOF
t0=$(date +%s%N)
for k in $(seq 0 $((writers - 1))); do
  python3 "$work/writer.py" "$mnt" "$k" "$files_per_writer" "$work/go" 2>"$work/writer.$k.err" &
  writer_pids+=("$!")
done
touch "$work/go"
for k in "${!writer_pids[@]}"; do
  rc=0
  wait "${writer_pids[$k]}" || rc=$?
  if [ "$rc" != 0 ]; then
    cat "$work/writer.$k.err" >&2
    fail "writer $k exited $rc"
  fi
done
writer_pids=()
t1=$(date +%s%N)
echo "$writers x $files_per_writer files written in $(((t1 - t0) / 1000000)) ms"
kill -0 "$daemon" 2>/dev/null || fail "the daemon died during the writes"

# --- every file is in records/, byte-identical, and nothing else is --------------------------------
python3 - "$mnt" "$writers" "$files_per_writer" "$work" <<'EOF' || fail "records/ does not match what was written"
import os, sys
sys.path.insert(0, sys.argv[4])
from gen import content
mnt, writers, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rec = os.path.join(mnt, "records")
want_files = {"w%d/f%d" % (k, i) for k in range(writers) for i in range(count)}
want_dirs = {"w%d" % k for k in range(writers)}
got_files, got_dirs = set(), set()
for root, dirs, files in os.walk(rec):
    rel = os.path.relpath(root, rec)
    for d in dirs:
        got_dirs.add(d if rel == "." else rel + "/" + d)
    for f in files:
        got_files.add(f if rel == "." else rel + "/" + f)
assert got_dirs == want_dirs, ("folders in records/", sorted(got_dirs ^ want_dirs)[:10])
missing, extra = want_files - got_files, got_files - want_files
assert not missing and not extra, ("missing", sorted(missing)[:10], len(missing), "extra", sorted(extra)[:10])
bad = []
for k in range(writers):
    for i in range(count):
        with open(os.path.join(rec, "w%d" % k, "f%d" % i), "rb") as f:
            if f.read() != content(k, i):
                bad.append("w%d/f%d" % (k, i))
assert not bad, ("content differs", len(bad), bad[:10])
EOF

# --- the signed checkpoint covers everything; verify the mount; tile/ is the store's -----------------
expected=$((writers * files_per_writer + writers))  # one record per file and per folder
wait_checkpoint "$mnt" "$expected"
head -1 "$mnt/checkpoint" | grep -qxF test.example/x || fail "mount checkpoint: $(head -1 "$mnt/checkpoint")"
expect_exit 0 "$LEDGERFS" verify "$mnt" --vkey "$vkey"
grep -q "^OK: test.example/x size $expected, " "$work/out" || fail "verify of the mount: $(cat "$work/out")"
diff -r "$mnt/tile" "$store/tile" >"$work/tile.diff" || {
  head -20 "$work/tile.diff" >&2
  fail "the mount's tile/ differs from the store's tile/"
}
cmp "$mnt/checkpoint" "$store/checkpoint" || fail "the mount's checkpoint differs from the store's"

# --- a record is in the signed checkpoint <= 1 s after its close() returned ------------------------
mkdir "$mnt/inbox/lat"
expected=$((expected + 1))
wait_checkpoint "$mnt" "$expected"
python3 - "$mnt" "$expected" <<'EOF' || fail "a record was not in the checkpoint within 1 s of its close()"
import os, sys, time
mnt, size = sys.argv[1], int(sys.argv[2])
def cp_size():
    with open(os.path.join(mnt, "checkpoint"), "rb") as f:
        return int(f.read().split(b"\n")[1])
worst = 0.0
for r in range(5):
    with open(os.path.join(mnt, "inbox", "lat", "f%d" % r), "wb") as f:
        f.write(b"latency probe %d\n" % r)
    t0 = time.monotonic()
    size += 1
    while True:
        s = cp_size()
        elapsed = time.monotonic() - t0
        if s >= size:
            break
        if elapsed > 5:
            sys.exit("round %d: checkpoint still at size %d after 5 s (want %d)" % (r, s, size))
        time.sleep(0.01)
    assert s == size, ("checkpoint size", s, "expected", size)
    print("round %d: covered after %.3f s" % (r, elapsed))
    worst = max(worst, elapsed)
    if elapsed > 1.25:
        sys.exit("round %d: the record was covered %.3f s after close() (limit 1 s + 0.25 s)" % (r, elapsed))
print("worst checkpoint delay %.3f s" % worst)
EOF
expected=$((expected + 5))

# --- after unmount: a dense log, one record per file and folder; verify the store -----------------
stop_mount "$mnt" "$daemon"
mount_pids=()  # reaped: mount_cleanup must not kill a reused pid
wait_unmounted "$mnt"
python3 - "$LEDGERFS" "$store" "$writers" "$files_per_writer" "$work" "$expected" <<'EOF' || fail "the log does not match the files written"
import hashlib, json, subprocess, sys
from ledger_log import read_log
sys.path.insert(0, sys.argv[5])
from gen import content
ledgerfs, store, writers, count, expected = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[6])
entries, log_size = read_log(ledgerfs, store, 1000)
assert log_size == expected, ("log size", log_size, "expected", expected)
assert [e["index"] for e in entries] == list(range(expected)), "indices are not dense 0..n-1 and unique"
paths = [e["path"] for e in entries]
# docs/mount.md: records/<path> is the record made from inbox/<path>; accept a manifest path spelled
# either <path> or inbox/<path>, but the same way for every record.
if all(p.startswith("inbox/") for p in paths):
    paths = [p[len("inbox/"):] for p in paths]
assert len(set(paths)) == len(paths), "two records with the same path"
want = {}
for k in range(writers):
    want["w%d" % k] = None
    for i in range(count):
        want["w%d/f%d" % (k, i)] = content(k, i)
want["lat"] = None
for r in range(5):
    want["lat/f%d" % r] = b"latency probe %d\n" % r
assert set(paths) == set(want), ("paths differ", sorted(set(paths) ^ set(want))[:10])
for e, p in zip(entries, paths):
    data = want[p]
    if data is None:
        assert e["kind"] == "directory", e
    else:
        assert e["kind"] == "file", e
        assert e["size"] == len(data) and e["sha256"] == hashlib.sha256(data).hexdigest(), e
EOF
expect_exit 0 "$LEDGERFS" verify "$store" --vkey "$vkey"
grep -q "^OK: test.example/x size $expected, .* $((writers * files_per_writer + 5)) content files$" "$work/out" ||
  fail "verify of the store: $(cat "$work/out")"

echo "mount_concurrency: OK"
