#!/usr/bin/env bash
# Starting and stopping the tenant mount (docs/mount.md "Starting and stopping", PRODUCT §5):
# `ledgerfs mount --pid-file` returns with the mount ready; a second mount of the store and
# `ledgerfs append` on it exit 3; SIGTERM (daemon), SIGINT (--foreground) and `fusermount3 -u`
# unmount cleanly, with a final checkpoint covering the file written just before; the fstab form
# `ledgerfs STORE MNT -o tenant=…` and `mount -t fuse.ledgerfs` (mount.fuse3 as mount(8) runs it;
# mount(8) itself when ledgerfs is in the default PATH) mount, with fsname ledgerfs:<tenant>;
# bad arguments are refused with a message naming the problem and leave nothing mounted or locked.
# Needs: LEDGERFS (the binary), root (FUSE, mount(8)), fusermount3, mount.fuse3, python3.
set -euo pipefail

: "${LEDGERFS:?set LEDGERFS to the ledgerfs binary}"
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/mount.sh"
on_exit() { mount_cleanup; }

export LEDGERFS_KEY_DIR="$work/keys"
store="$work/store"
mnt="$work/mnt"
mnt2="$work/mnt2"
mkdir "$mnt" "$mnt2"
vkey=$("$LEDGERFS" init "$store" --origin test.example/x)
records=0  # records in the store so far
names=()   # inbox/ names written, each with the content "<name>\n"

# register_daemon PIDFILE MNT: the pid of a daemonised mount, so that mount_cleanup kills it.
register_daemon() {
  [ -s "$1" ] || fail "no pid file $1 after the mount command returned"
  daemon=$(tr -d '[:space:]' <"$1")
  [[ "$daemon" =~ ^[0-9]+$ ]] || fail "pid file $1 holds '$(cat "$1")'"
  mount_pids+=("$daemon")
  mount_points+=("$2")
  kill -0 "$daemon" 2>/dev/null || fail "pid $daemon from $1 is not running"
  [ "$(readlink "/proc/$daemon/exe")" = "$(realpath "$LEDGERFS")" ] ||
    fail "pid $daemon from $1 is $(readlink "/proc/$daemon/exe"), not ledgerfs"
}
# forget_pid PID: the daemon is gone; mount_cleanup must not kill its (maybe reused) pid.
forget_pid() {
  local i
  for i in "${!mount_pids[@]}"; do
    if [ "${mount_pids[$i]}" = "$1" ]; then mount_pids[i]=""; fi
  done
}
wait_gone() {  # wait_gone PID: up to 10 s for a process that is not our child to exit
  local i
  for i in $(seq 1 200); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.05
  done
  fail "daemon $1 still runs 10 s after it was told to stop"
}
fsname() { awk -v m="$(realpath -m "$1")" '$2 == m { print $1 }' /proc/mounts; }
# ready MNT: the mount answers right away (no polling: the mount command has returned).
ready() {
  is_mounted "$1" || fail "$1 is not mounted after the mount command returned 0"
  [ "$(head -1 "$1/checkpoint")" = test.example/x ] || fail "$1/checkpoint is not readable right away"
}
# write_one MNT NAME: writes inbox/NAME through the mount (a record once close() returned).
write_one() {
  printf '%s\n' "$2" >"$1/inbox/$2" || fail "writing inbox/$2 failed"
  names+=("$2")
  records=$((records + 1))
}
# covered WHEN: the store's own checkpoint (read directly, after the daemon stopped) covers every
# acknowledged record, and the store lock is free.
covered() {
  local s
  s=$(sed -n 2p "$store/checkpoint")
  [ "$s" = "$records" ] || fail "$1: the store's checkpoint has size $s, expected $records"
  grep -q ":$(stat -c %i "$store/.ledger/lock") " /proc/locks && fail "$1: the store lock is still held"
  return 0
}
# has_records MNT: every name written so far reads back from records/.
has_records() {
  local n
  for n in "${names[@]}"; do
    [ "$(cat "$1/records/$n")" = "$n" ] || fail "records/$n is missing or wrong after remount"
  done
}

expect_exit 0 "$LEDGERFS" mount --help
grep -qF -- "--pid-file" "$work/out" || fail "mount --help does not show --pid-file"

# --- daemonised mount: returns once ready, pid file written ---------------------------------------
expect_exit 0 "$LEDGERFS" mount "$store" "$mnt" --pid-file "$work/pid1"
ready "$mnt"
register_daemon "$work/pid1" "$mnt"
[ "$(fsname "$mnt")" = "ledgerfs:store" ] || fail "fsname is '$(fsname "$mnt")', expected ledgerfs:store (default tenant)"

# --- the store is in use: a second mount and append exit 3, naming the store ------------------------
expect_exit 3 "$LEDGERFS" mount "$store" "$mnt2" --pid-file "$work/pid2"
grep -qF "$store" "$work/err" || fail "second mount: message does not name the store: $(cat "$work/err")"
grep -qi "in use" "$work/err" || fail "second mount: $(cat "$work/err")"
! is_mounted "$mnt2" || fail "the refused second mount is mounted"
[ ! -e "$work/pid2" ] || fail "the refused second mount wrote a pid file"
expect_exit 3 timeout 20 "$LEDGERFS" mount "$store" "$mnt2" --foreground
grep -qF "$store" "$work/err" || fail "second foreground mount: message does not name the store: $(cat "$work/err")"
expect_exit 3 "$LEDGERFS" append "$store" --path x </dev/null
grep -qi "in use" "$work/err" || fail "append on a mounted store: $(cat "$work/err")"

# --- SIGTERM to the daemon -------------------------------------------------------------------------
write_one "$mnt" term.txt
kill -TERM "$daemon"
wait_gone "$daemon"
forget_pid "$daemon"
wait_unmounted "$mnt"
covered "after SIGTERM"

# --- SIGINT in --foreground ------------------------------------------------------------------------
# Not start_mount: bash starts background jobs with SIGINT ignored, and a daemon may keep an
# inherited "ignore" (libfuse does). Start it the way a terminal or systemd does, with SIGINT (and
# the signals python ignores) at their defaults, and still as our child.
log="$work/daemon.sigint.log"
python3 -c 'import os, signal, sys
for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE, signal.SIGXFSZ):
    signal.signal(s, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$LEDGERFS" mount "$store" "$mnt" --foreground 2>"$log" &
mount_pid=$!
mount_pids+=("$mount_pid")
mount_points+=("$mnt")
wait_mounted "$mnt"
ignored=$(awk '/^SigIgn:/ { print $2 }' "/proc/$mount_pid/status")
[ $((0x$ignored & 2)) = 0 ] || fail "the foreground daemon ignores SIGINT (SigIgn $ignored)"
has_records "$mnt"
write_one "$mnt" int.txt
kill -INT "$mount_pid"
for _ in $(seq 1 200); do  # our child: exited once it is a zombie or gone
  [ "$(awk '{ print $3 }' "/proc/$mount_pid/stat" 2>/dev/null || echo gone)" != Z ] || break
  kill -0 "$mount_pid" 2>/dev/null || break
  sleep 0.05
done
[ "$(awk '{ print $3 }' "/proc/$mount_pid/stat" 2>/dev/null || echo Z)" = Z ] ||
  fail "the foreground daemon still runs 10 s after SIGINT"
rc=0
wait "$mount_pid" || rc=$?
forget_pid "$mount_pid"
[ "$rc" = 0 ] || fail "the foreground daemon exited $rc after SIGINT"
wait_unmounted "$mnt"
covered "after SIGINT"
# Foreground, stderr not a terminal: every log line starts with a syslog priority.
if grep -v '^<[0-7]>' "$log" | grep -q .; then
  cat "$log" >&2
  fail "foreground log lines without a <N> priority prefix"
fi

# --- fusermount3 -u --------------------------------------------------------------------------------
start_mount "$store" "$mnt"
has_records "$mnt"
write_one "$mnt" fusermount.txt
stop_mount "$mnt" "$mount_pid"
forget_pid "$mount_pid"
wait_unmounted "$mnt"
covered "after fusermount3 -u"

# --- the fstab form: ledgerfs STORE MNT -o tenant=… ------------------------------------------------
expect_exit 0 "$LEDGERFS" "$store" "$mnt" -o "tenant=t1,pid_file=$work/pid3,dev,suid"
ready "$mnt"
register_daemon "$work/pid3" "$mnt"
[ "$(fsname "$mnt")" = "ledgerfs:t1" ] || fail "fstab form: fsname is '$(fsname "$mnt")', expected ledgerfs:t1"
has_records "$mnt"
write_one "$mnt" fstab.txt
kill -TERM "$daemon"
wait_gone "$daemon"
forget_pid "$daemon"
wait_unmounted "$mnt"
covered "after SIGTERM to the fstab-form daemon"

# --- mount -t fuse.ledgerfs: mount(8) runs `/sbin/mount.fuse3 STORE MNT -o rw,… -t fuse.ledgerfs`,
# which runs `ledgerfs STORE MNT -o …,dev,suid` through /bin/sh. mount(8) drops PATH from the
# helper's environment (util-linux 2.38 here), so `ledgerfs` must be in sh's default PATH for
# mount(8) itself; a test cannot put it there without changing the system. So: mount.fuse3 exactly
# as mount(8) calls it, with a temporary bin folder in PATH; and mount(8) itself too when the
# default PATH already finds this ledgerfs.
mkdir "$work/bin"
ln -s "$LEDGERFS" "$work/bin/ledgerfs"
# mount8 NAME CMD...: one mount through a helper, then a record, then fusermount3 -u.
mount8() {
  local name=$1 rc=0
  shift
  rm -f "$work/pid4"
  daemon=""
  "$@" >"$work/out" 2>"$work/err" || rc=$?
  if [ -s "$work/pid4" ]; then register_daemon "$work/pid4" "$mnt"; fi
  [ "$rc" = 0 ] || { cat "$work/err" >&2; fail "$name exited $rc"; }
  ready "$mnt"
  [ -n "$daemon" ] || fail "$name: no pid file"
  [ "$(fsname "$mnt")" = "ledgerfs:t1" ] || fail "$name: fsname is '$(fsname "$mnt")', expected ledgerfs:t1"
  has_records "$mnt"
  write_one "$mnt" "$name.txt"
  fusermount3 -u "$mnt" || fail "fusermount3 -u of the $name mount failed"
  wait_gone "$daemon"
  forget_pid "$daemon"
  wait_unmounted "$mnt"
  covered "after fusermount3 -u of the $name mount"
}
mount8 mount.fuse3 env PATH="$work/bin:$PATH" "$(command -v mount.fuse3)" "$store" "$mnt" \
  -o "rw,tenant=t1,pid_file=$work/pid4,nofail,_netdev" -t fuse.ledgerfs
default_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
found=$(PATH=$default_path command -v ledgerfs || true)
if [ -n "$found" ] && [ "$(realpath "$found")" = "$(realpath "$LEDGERFS")" ]; then
  mount8 mount mount -t fuse.ledgerfs "$store" "$mnt" -o "tenant=t1,pid_file=$work/pid4,nofail,_netdev"
else
  echo "mount -t fuse.ledgerfs itself skipped: this ledgerfs is not in the default PATH ($default_path)"
fi

# --- bad arguments: refused, named, nothing mounted or locked --------------------------------------
# refused NEEDLE CMD...: CMD exits non-zero within 20 s, its stderr names NEEDLE, $mnt stays unmounted.
refused() {
  local needle=$1 rc=0
  shift
  rm -f "$work/badpid"
  timeout 20 "$@" >"$work/out" 2>"$work/err" || rc=$?
  if [ -s "$work/badpid" ]; then register_daemon "$work/badpid" "$mnt"; fi
  if is_mounted "$mnt"; then
    fusermount3 -u "$mnt" || true
    fail "mounted although it should be refused: $*"
  fi
  [ "$rc" != 0 ] || fail "exit 0, expected a refusal: $*"
  [ "$rc" != 124 ] || fail "still running after 20 s, expected a refusal: $*"
  grep -qF -- "$needle" "$work/err" || fail "the message does not name '$needle': $(cat "$work/err") ($*)"
}
refused "$work/nostore" "$LEDGERFS" mount "$work/nostore" "$mnt" --pid-file "$work/badpid"
mkdir "$work/notastore"
refused "$work/notastore" "$LEDGERFS" mount "$work/notastore" "$mnt" --pid-file "$work/badpid"
refused "a/b" "$LEDGERFS" mount "$store" "$mnt" --tenant a/b --pid-file "$work/badpid"
refused "a/b" "$LEDGERFS" "$store" "$mnt" -o "tenant=a/b,pid_file=$work/badpid"
refused ".hidden" "$LEDGERFS" mount "$store" "$mnt" --tenant .hidden --pid-file "$work/badpid"
long=$(printf 't%.0s' $(seq 1 65))
refused "$long" "$LEDGERFS" mount "$store" "$mnt" --tenant "$long" --pid-file "$work/badpid"
refused "$work/nomnt" "$LEDGERFS" mount "$store" "$work/nomnt" --pid-file "$work/badpid"
refused "$work/nomnt" "$LEDGERFS" mount "$store" "$work/nomnt" --foreground
[ ! -e "$work/nomnt" ] || fail "a refused mount created the missing mountpoint"

# The longest valid tenant id (64 characters) mounts.
expect_exit 0 "$LEDGERFS" mount "$store" "$mnt" --tenant "t${long:2}" --pid-file "$work/pid5"
ready "$mnt"
register_daemon "$work/pid5" "$mnt"
[ "$(fsname "$mnt")" = "ledgerfs:t${long:2}" ] || fail "fsname is '$(fsname "$mnt")' for a 64-character tenant"
kill -TERM "$daemon"
wait_gone "$daemon"
forget_pid "$daemon"
wait_unmounted "$mnt"

# --- the store is free again; the log holds exactly what was written ------------------------------
printf '%s\n' appended.txt | "$LEDGERFS" append "$store" --path appended.txt >/dev/null ||
  fail "append after the last unmount failed (store lock not released?)"
names+=(appended.txt)
records=$((records + 1))
python3 - "$LEDGERFS" "$store" "${names[@]}" <<'EOF' || fail "the log does not hold what was written"
import hashlib, json, subprocess, sys
ledgerfs, store, names = sys.argv[1], sys.argv[2], sys.argv[3:]
page = json.loads(subprocess.run([ledgerfs, "log", store, "--json"], check=True, capture_output=True).stdout)
paths = [e["path"] for e in page["entries"]]
inbox = [p[len("inbox/"):] if p.startswith("inbox/") else p for p in paths[:-1]]  # accept either spelling
assert inbox + paths[-1:] == names, paths
for e, n in zip(page["entries"], names):
    assert e["kind"] == "file" and e["sha256"] == hashlib.sha256((n + "\n").encode()).hexdigest(), e
EOF
expect_exit 0 "$LEDGERFS" verify "$store" --vkey "$vkey"
grep -q "^OK: test.example/x size $records, " "$work/out" || fail "verify: $(cat "$work/out")"

echo "mount_lifecycle: OK"
