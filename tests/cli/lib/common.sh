# Helpers shared by the CLI shell tests (sourced, not run): a scratch directory $work removed on
# exit (after the test's own `on_exit` hook, if it defines one), fail, expect_exit and flip_byte.
work=$(mktemp -d)
cleanup() {
  if declare -F on_exit >/dev/null; then on_exit || true; fi
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# fail MESSAGE: prints it and exits 1. Tests that start daemons log them to $work/daemon.*.log
# (lib/mount.sh, lib/http.sh); the end of each is printed too: what the daemon saw is half the
# diagnosis.
fail() {
  echo "FAIL: $*" >&2
  local log
  for log in "$work"/daemon.*.log; do
    if [ -s "$log" ]; then
      echo "--- last lines of $log:" >&2
      tail -20 "$log" >&2
    fi
  done
  exit 1
}

# expect_exit CODE CMD...: runs CMD (stdout/stderr to $work/out, $work/err), checks its exit code.
expect_exit() {
  local want=$1
  shift
  local got=0
  "$@" >"$work/out" 2>"$work/err" || got=$?
  if [ "$got" != "$want" ]; then
    cat "$work/err" >&2
    fail "expected exit $want, got $got: $*"
  fi
}

# flip_byte FILE OFFSET: xor the byte at OFFSET with 1, in place.
flip_byte() {
  local file=$1 off=$2 byte
  chmod u+w "$file"
  byte=$(od -An -tu1 -j "$off" -N1 "$file" | tr -d ' ')
  printf "$(printf '\\%03o' $((byte ^ 1)))" | dd of="$file" bs=1 seek="$off" conv=notrunc 2>/dev/null
}

# checkpoint_size DIR: the tree size in DIR/checkpoint (its second line); DIR is a mount or a store.
checkpoint_size() { sed -n 2p "$1/checkpoint"; }

# wait_checkpoint DIR SIZE: up to 5 s for the checkpoint of DIR to reach SIZE.
wait_checkpoint() {
  local i s=""
  for i in $(seq 1 100); do
    s=$(checkpoint_size "$1")
    [ "$s" = "$2" ] && return 0
    sleep 0.05
  done
  fail "checkpoint of $1 has size '$s' after 5 s, expected $2"
}
