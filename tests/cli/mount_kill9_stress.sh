#!/usr/bin/env bash
# The tenant mount under `kill -9` with everyday tools (PRODUCT §4, docs/mount.md "When a file is
# sealed", docs/design.md "Crash story"): 8 writers at once, each a loop of real tools into its own
# inbox/ folder — `cp` of a small file, `dd` of a few MiB, `cat SRC > DST` — while the daemon is
# killed with SIGKILL at a random moment. A writer counts a file as acknowledged only when its tool
# exited 0 (the close() result reaches the tool's exit status) and stops at its first failure.
# After each remount:
#   - every acknowledged file and folder is a record, byte-identical to its source;
#   - every record of the round is byte-identical to the source its writer wrote (nothing
#     half-sealed), whether acknowledged or not, and was attempted by a writer;
#   - no tool failed before the kill (a failure means the kill, never a refusal of a good write);
#   - the log is dense, names each path once, and each entry's size and sha256 are the source's;
#     records/ shows exactly the log's paths;
#   - `ledgerfs verify` passes on the mount (every record's size and sha256 against its manifest)
#     and on the store.
# Prints per round: acknowledged files, tool errors, files sealed but not acknowledged.
# ROUNDS (default 10) kills; ROUNDS_PER_STORE (default 5) rounds share one store before a fresh one
# is made, so that each round's verify (which hashes every record) stays fast (tools/stress-mount.sh
# runs 60 rounds, 10 per store);
# STRESS_REPORT=FILE appends one line per round to FILE. The store is on /dev/shm: a killed
# process leaves the page cache intact, so durability across power loss does not matter here.
# Needs: LEDGERFS (the binary), root (FUSE), fusermount3, python3, cp, dd, cat, head.
set -euo pipefail

: "${LEDGERFS:?set LEDGERFS to the ledgerfs binary}"
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/mount.sh"
rounds=${ROUNDS:-10}
writers=${WRITERS:-8}
rounds_per_store=${ROUNDS_PER_STORE:-5}
report=${STRESS_REPORT:-}

writer_pids=()
shm=""
on_exit() {
  local p
  for p in "${writer_pids[@]+"${writer_pids[@]}"}"; do kill -9 "$p" 2>/dev/null || true; done
  mount_cleanup
  if [ -n "$shm" ]; then rm -rf "$shm"; fi
}
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  shm=$(mktemp -d -p /dev/shm ledgerfs-kill9.XXXXXX)
  base=$shm
else
  base=$work
fi

mnt="$work/mnt"
src="$base/src"  # the sources of the current round, removed once the round is checked
t_start=$(date +%s)

# forget_pid PID: a daemon that was reaped; mount_cleanup must not kill its (maybe reused) pid.
forget_pid() {
  local i
  for i in "${!mount_pids[@]}"; do
    if [ "${mount_pids[$i]}" = "$1" ]; then mount_pids[i]=""; fi
  done
}

# writer ROUND K: makes inbox/rRwK, then writes rRwK/f0, f1, … with cp (1 B–64 KiB), dd bs=1M
# (about 1–4 MiB) and `cat SRC > DST` (1 B–16 KiB) in turn, until the first tool that fails or the
# stop file. Acknowledged paths go to acked.rR.wK ("DIR NAME" for the folder); the failure to
# failed.rR.wK as "PATH TOOL EXIT TIME", the tool's message to err.rR.wK.
writer() {
  local round=$1 k=$2
  local dir="r${round}w$k" i=0 n tool rc path
  local acked="$work/acked.r$round.w$k" failed="$work/failed.r$round.w$k" err="$work/err.r$round.w$k"
  mkdir -p "$src/$dir"
  while [ ! -e "$work/go" ]; do sleep 0.01; done
  if ! mkdir "$mnt/inbox/$dir" 2>>"$err"; then
    echo "$dir mkdir 1 $EPOCHREALTIME" >>"$failed"
    return 0
  fi
  echo "DIR $dir" >>"$acked"
  while [ ! -e "$work/stop" ]; do
    path="$dir/f$i"
    case $((i % 3)) in
      0) tool=cp n=$((1 + RANDOM % 65536)) ;;
      1) tool=dd n=$(((1 + RANDOM % 4) * 1048576 - RANDOM)) ;;
      *) tool=redirect n=$((1 + RANDOM % 16384)) ;;
    esac
    head -c "$n" /dev/urandom >"$src/$path"
    rc=0
    case $tool in
      cp) cp "$src/$path" "$mnt/inbox/$path" 2>>"$err" || rc=$? ;;
      dd) dd if="$src/$path" of="$mnt/inbox/$path" bs=1M status=none 2>>"$err" || rc=$? ;;
      *) { cat "$src/$path" >"$mnt/inbox/$path"; } 2>>"$err" || rc=$? ;;
    esac
    if [ "$rc" != 0 ]; then
      echo "$path $tool $rc $EPOCHREALTIME" >>"$failed"
      return 0
    fi
    echo "$path" >>"$acked"
    i=$((i + 1))
  done
}

# check.py MNT SRC WORK ROUND KILL_TIME LEDGERFS STORE EXPECTED: the checks listed at the top for
# one round. EXPECTED ("PATH SIZE SHA256", or "PATH - -" for a folder) holds every record of the
# store's earlier rounds; this round's records are appended to it. Prints
# "ACKED ERRORS SEALED_UNACKED RECORDS FAILED_TOOLS ERROR_MESSAGES".
cat >"$work/check.py" <<'EOF'
import glob, hashlib, os, sys
from ledger_log import read_log
mnt, src, work, rnd, kill_time, ledgerfs, store, expected_path = sys.argv[1:9]
kill_time = float(kill_time)
rec = os.path.join(mnt, "records")
problems = []

def sha(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)

acked_dirs, acked, failed, kinds = set(), set(), {}, {}
for a in glob.glob(os.path.join(work, "acked.r%s.w*" % rnd)):
    for line in open(a):
        x = line.split()
        if x[0] == "DIR":
            acked_dirs.add(x[1])
        else:
            acked.add(x[0])
for fpath in glob.glob(os.path.join(work, "failed.r%s.w*" % rnd)):
    for line in open(fpath):
        path, tool, rc, when = line.split()
        failed[path] = tool
        if float(when) < kill_time:
            err = fpath.replace("failed.", "err.")
            problems.append("%s: %s exited %s before the kill: %s" % (path, tool, rc, open(err).read().strip()))
for e in glob.glob(os.path.join(work, "err.r%s.w*" % rnd)):
    for line in open(e):
        kind = line.strip().rsplit(": ", 1)[-1]
        kinds[kind] = kinds.get(kind, 0) + 1

for d in acked_dirs:
    if not os.path.isdir(os.path.join(rec, d)):
        problems.append("acknowledged folder %s is not in records/" % d)
for p in sorted(acked):
    r = os.path.join(rec, p)
    if not os.path.isfile(r):
        problems.append("acknowledged file %s is not in records/ (a false success)" % p)
    elif sha(r) != sha(os.path.join(src, p)):
        problems.append("records/%s differs from the acknowledged source" % p)

expected = {}
for line in open(expected_path):
    p, size, digest = line.split()
    expected[p] = (size, digest)
earlier = dict(expected)
shown, this_round, sealed_unacked = set(), {}, 0
prefix = "r%sw" % rnd
for root, dirs, files in os.walk(rec):
    rel = os.path.relpath(root, rec)
    for name in dirs + files:
        p = name if rel == "." else rel + "/" + name
        shown.add(p)
        full = os.path.join(rec, p)
        if p in earlier:
            size, digest = earlier[p]
            if (size == "-") != os.path.isdir(full) or (size != "-" and os.stat(full).st_size != int(size)):
                problems.append("records/%s changed since its round" % p)
            continue
        if not p.startswith(prefix):
            problems.append("records/%s belongs to no writer" % p)
            continue
        if os.path.isdir(full):
            this_round[p] = ("-", "-")
            if p not in acked_dirs:
                sealed_unacked += 1
            continue
        s = os.path.join(src, p)
        if not os.path.isfile(s):
            problems.append("records/%s was never written by a writer" % p)
            continue
        if p not in acked and p not in failed:
            problems.append("records/%s is neither acknowledged nor failed" % p)
        digest = sha(full)
        if digest != sha(s):
            problems.append("records/%s: %d bytes that are not the %d bytes written (half-sealed?)"
                            % (p, os.stat(full).st_size, os.stat(s).st_size))
            continue
        this_round[p] = (str(os.stat(full).st_size), digest)
        if p not in acked:
            sealed_unacked += 1
for p in earlier:
    if p not in shown:
        problems.append("records/%s (an earlier round) is gone" % p)

entries, size = read_log(ledgerfs, store)
if [e["index"] for e in entries] != list(range(size)):
    problems.append("log indices are not dense 0..%d" % (size - 1))
paths = [e["path"] for e in entries]
if paths and all(p.startswith("inbox/") for p in paths):  # accept <path> or inbox/<path>
    paths = [p[len("inbox/"):] for p in paths]
if len(set(paths)) != len(paths):
    problems.append("the log names a path twice")
want = dict(earlier)
want.update(this_round)
if set(paths) != set(want):
    problems.append("log paths and records/ differ: %s" % sorted(set(paths) ^ set(want))[:10])
for e, p in zip(entries, paths):
    if p not in want:
        continue
    size_, digest = want[p]
    if e["kind"] == "directory":
        if size_ != "-":
            problems.append("log entry %d: %s is a folder, records/ shows a file" % (e["index"], p))
    elif (str(e["size"]), e["sha256"]) != (size_, digest):
        problems.append("log entry %d: %s has size %s sha256 %s, the record %s %s"
                        % (e["index"], p, e["size"], e["sha256"], size_, digest))
for p in problems[:20]:
    print("round %s: %s" % (rnd, p), file=sys.stderr)
if problems:
    sys.exit(1)
with open(expected_path, "a") as out:
    for p, (size_, digest) in sorted(this_round.items()):
        out.write("%s %s %s\n" % (p, size_, digest))
tools = {}
for t in failed.values():
    tools[t] = tools.get(t, 0) + 1
print(len(acked), len(failed), sealed_unacked, size,
      ",".join("%s=%d" % kv for kv in sorted(tools.items())) or "-",
      ",".join("%s=%d" % (k.replace(" ", "_"), v) for k, v in sorted(kinds.items())) or "-")
EOF

store=""
generation=0
new_store() {
  generation=$((generation + 1))
  store="$base/store$generation"
  export LEDGERFS_KEY_DIR="$work/keys$generation"
  vkey=$("$LEDGERFS" init "$store" --origin test.example/x)
  : >"$work/expected"
}

total_acked=0 total_errors=0 total_unacked=0
new_store
start_mount "$store" "$mnt"
for round in $(seq 1 "$rounds"); do
  if [ "$round" -gt 1 ] && [ $(((round - 1) % rounds_per_store)) = 0 ]; then
    stop_mount "$mnt" "$mount_pid"
    forget_pid "$mount_pid"
    wait_unmounted "$mnt"
    expect_exit 0 "$LEDGERFS" verify "$store" --vkey "$vkey"
    rm -rf "$store"
    new_store
    start_mount "$store" "$mnt"
  fi
  daemon=$mount_pid
  rm -f "$work/go" "$work/stop"
  rm -rf "$src"
  writer_pids=()
  for k in $(seq 1 "$writers"); do
    writer "$round" "$k" &
    writer_pids+=("$!")
  done
  touch "$work/go"
  # The kill: 0.2–1.5 s after the first acknowledged file (a loaded machine may be slow to start).
  t0=$(date +%s%N)
  until grep -qsv '^DIR ' "$work"/acked.r"$round".w*; do
    [ $(($(date +%s%N) - t0)) -lt 20000000000 ] || fail "round $round: no file acknowledged in 20 s"
    sleep 0.02
  done
  delay=$((200 + RANDOM % 1300))
  sleep "$((delay / 1000)).$(printf %03d $((delay % 1000)))"
  kill -0 "$daemon" 2>/dev/null || fail "round $round: the daemon died before it was killed"
  kill_time=$EPOCHREALTIME
  kill -9 "$daemon"
  { wait "$daemon"; } 2>/dev/null || true
  forget_pid "$daemon"
  # Every writer ends at its first failed tool: the connection is gone (ENOTCONN).
  touch "$work/stop"
  for k in "${!writer_pids[@]}"; do
    for _ in $(seq 1 400); do
      kill -0 "${writer_pids[$k]}" 2>/dev/null || break
      sleep 0.05
    done
    kill -0 "${writer_pids[$k]}" 2>/dev/null && fail "round $round: writer $((k + 1)) still runs 20 s after the kill"
    wait "${writer_pids[$k]}" || fail "round $round: writer $((k + 1)) exited $?"
  done
  writer_pids=()
  fusermount3 -u -z "$mnt" || fail "round $round: fusermount3 -u -z failed"
  wait_unmounted "$mnt"

  start_mount "$store" "$mnt"
  out=$(python3 "$work/check.py" "$mnt" "$src" "$work" "$round" "$kill_time" "$LEDGERFS" "$store" \
    "$work/expected") || fail "round $round: the store after the kill is wrong (above)"
  read -r acked errors unacked records tools kinds <<<"$out"
  expect_exit 0 "$LEDGERFS" verify "$mnt" --vkey "$vkey"
  grep -q "^OK: test.example/x size $records, " "$work/out" || fail "round $round: verify of the mount: $(cat "$work/out")"
  expect_exit 0 "$LEDGERFS" verify "$store" --vkey "$vkey"
  grep -q "^OK: test.example/x size $records, " "$work/out" || fail "round $round: verify of the store: $(cat "$work/out")"
  line="round $round (store $generation): killed ${delay} ms after the first ack; $acked acknowledged, $errors tool errors, $unacked sealed but not acknowledged; log size $records; failed tools: $tools; messages: $kinds"
  echo "$line"
  if [ -n "$report" ]; then echo "$line" >>"$report"; fi
  total_acked=$((total_acked + acked)) total_errors=$((total_errors + errors)) total_unacked=$((total_unacked + unacked))
  rm -f "$work"/acked.r"$round".w* "$work"/failed.r"$round".w* "$work"/err.r"$round".w*
done
stop_mount "$mnt" "$mount_pid"
forget_pid "$mount_pid"
wait_unmounted "$mnt"
expect_exit 0 "$LEDGERFS" verify "$store" --vkey "$vkey"
echo "mount_kill9_stress: OK: $rounds rounds, $writers writers, $generation store(s); $total_acked acknowledged, $total_errors tool errors, $total_unacked sealed but not acknowledged; $(($(date +%s) - t_start)) s"
