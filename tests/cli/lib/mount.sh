# Helpers for tests that mount a tenant for real (sourced after common.sh). Every daemon a test
# starts is remembered by pid; mount_cleanup (call it from the test's on_exit) unmounts those
# mounts and kills those daemons only, even when the test failed half-way.
#   start_mount STORE MNT [ledgerfs mount options...]   foreground daemon; sets $mount_pid
#   stop_mount MNT                                       fusermount3 -u, waits for the daemon
#   wait_mounted MNT / wait_unmounted MNT
mount_pids=()
mount_points=()

is_mounted() { grep -qs " $(realpath -m "$1") fuse" /proc/mounts; }

wait_mounted() {
  local i
  for i in $(seq 1 200); do
    is_mounted "$1" && return 0
    sleep 0.05
  done
  fail "$1 did not become a mount within 10 s"
}

wait_unmounted() {
  local i
  for i in $(seq 1 200); do
    is_mounted "$1" || return 0
    sleep 0.05
  done
  fail "$1 is still mounted after 10 s"
}

# start_mount STORE MNT [options]: the daemon runs in the foreground as a child of the test, its
# log in $work/daemon.<n>.log; returns once the mount is live.
start_mount() {
  local store=$1 mnt=$2
  shift 2
  mkdir -p "$mnt"
  local log="$work/daemon.${#mount_pids[@]}.log"
  "$LEDGERFS" mount "$store" "$mnt" --foreground "$@" 2>"$log" &
  mount_pid=$!
  mount_pids+=("$mount_pid")
  mount_points+=("$mnt")
  local i
  for i in $(seq 1 200); do
    is_mounted "$mnt" && return 0
    kill -0 "$mount_pid" 2>/dev/null || { cat "$log" >&2; fail "ledgerfs mount exited early"; }
    sleep 0.05
  done
  cat "$log" >&2
  fail "$mnt did not become a mount within 10 s"
}

# stop_mount MNT [PID]: clean unmount; waits for the daemon (default: the last one started).
stop_mount() {
  local mnt=$1 pid=${2:-$mount_pid}
  fusermount3 -u "$mnt" || fail "fusermount3 -u $mnt failed"
  local rc=0
  wait "$pid" || rc=$?
  [ "$rc" = 0 ] || fail "daemon $pid exited $rc after unmount"
}

mount_cleanup() {
  local i
  for i in "${!mount_pids[@]}"; do
    fusermount3 -u -z "${mount_points[$i]}" 2>/dev/null || true
    kill -9 "${mount_pids[$i]}" 2>/dev/null || true
  done
}

# The tests' python checks import ledger_log.py from this folder.
export PYTHONPATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)${PYTHONPATH:+:$PYTHONPATH}"

# two_tenant_stores: the setup of the two-tenant tests. Stores a and b (0700, made by root) under
# $work/stores with mount points under $work/mnt, keys in $work/keys. Sets storeA/B, mntA/B,
# vkeyA/B and keyA/B. $work becomes 0755 so that the tenants' users can reach their mount points.
two_tenant_stores() {
  umask 022
  chmod 755 "$work"  # mktemp -d made it 0700
  export LEDGERFS_KEY_DIR="$work/keys"
  mkdir "$work/stores" "$work/mnt"
  storeA="$work/stores/a"
  storeB="$work/stores/b"
  mntA="$work/mnt/a"
  mntB="$work/mnt/b"
  vkeyA=$("$LEDGERFS" init "$storeA" --origin test.example/a)
  vkeyB=$("$LEDGERFS" init "$storeB" --origin test.example/b)
  chmod 700 "$storeA" "$storeB"
  keyA="$LEDGERFS_KEY_DIR/test.example_a.key"
  keyB="$LEDGERFS_KEY_DIR/test.example_b.key"
  [ -f "$keyA" ] && [ -f "$keyB" ] || fail "key files not at their default paths"
}
