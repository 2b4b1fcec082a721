#!/usr/bin/env bash
# The ledgerfs command line end to end (docs/cli.md): init, vkey, append, log, verify, prove, the
# key file rules, exit codes, and a second writer refused while the store is locked.
# Needs: LEDGERFS (the binary), python3 (JSON parsing), sha256sum, cmp, mkfifo.
set -euo pipefail

: "${LEDGERFS:?set LEDGERFS to the ledgerfs binary}"
source "$(dirname "$0")/lib/common.sh"
holder_pid=""
on_exit() {
  if [ -n "$holder_pid" ]; then kill "$holder_pid" 2>/dev/null || true; fi
}

export LEDGERFS_KEY_DIR="$work/keys"
store="$work/store"
origin="test.example/cli"

# --- init and vkey -------------------------------------------------------------------------------
vkey=$("$LEDGERFS" init "$store" --origin "$origin")
[ "$("$LEDGERFS" vkey "$store")" = "$vkey" ] || fail "vkey differs from init's output"
case "$vkey" in "$origin+"*) ;; *) fail "vkey '$vkey' is not named after the origin" ;; esac
key="$LEDGERFS_KEY_DIR/test.example_cli.key"
[ -f "$key" ] || fail "no key file at the default location $key"
[ "$(stat -c %a "$key")" = 600 ] || fail "key file mode is $(stat -c %a "$key"), not 600"
[ "$(stat -c %a "$LEDGERFS_KEY_DIR")" = 700 ] || fail "key folder mode is not 700"
case "$(realpath "$key")" in "$(realpath "$store")"/*) fail "key file is inside the store" ;; esac
grep -rqF "PRIVATE+KEY" "$store" && fail "the signing key is inside the store"
head -c 12 "$key" | grep -qF "PRIVATE+KEY+" || fail "key file does not hold a PRIVATE+KEY"

# --- append --------------------------------------------------------------------------------------
in="$work/in"
mkdir "$in"
: >"$in/empty"
printf 'A' >"$in/one"
head -c $((5 * 1024 * 1024)) /dev/urandom >"$in/big"
printf 'content of a file whose name has spaces\n' >"$in/spaced"

out=$("$LEDGERFS" append "$store" --path empty <"$in/empty")
[ "$out" = "$(printf 'index 0\nsha256 %s' "$(sha256sum <"$in/empty" | cut -d' ' -f1)")" ] ||
  fail "append output: $out"
out=$("$LEDGERFS" append "$store" --path one.txt <"$in/one")
[ "$(echo "$out" | head -1)" = "index 1" ] || fail "append output: $out"
cp "$store/checkpoint" "$work/checkpoint.2"  # an old checkpoint for verify --since
out=$("$LEDGERFS" append "$store" --path big.bin --file "$in/big")
[ "$(echo "$out" | head -1)" = "index 2" ] || fail "append --file output: $out"
out=$("$LEDGERFS" append "$store" --path "dir one/file two.txt" --json <"$in/spaced")
python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["index"]==3 and j["path"]=="dir one/file two.txt", j' "$out" ||
  fail "append --json output: $out"

# --- log -----------------------------------------------------------------------------------------
names=(empty one big spaced)
paths=("empty" "one.txt" "big.bin" "dir one/file two.txt")
"$LEDGERFS" log "$store" >"$work/log.txt"
[ "$(wc -l <"$work/log.txt")" = 5 ] || fail "log: expected 4 records and a cursor line"
[ "$(tail -1 "$work/log.txt")" = "next 4" ] || fail "log: last line is not 'next 4'"
for i in 0 1 2 3; do
  f="$in/${names[$i]}"
  sum=$(sha256sum <"$f" | cut -d' ' -f1)
  size=$(stat -c %s "$f")
  line=$(sed -n "$((i + 1))p" "$work/log.txt")
  case "$line" in "$i file $size $sum "*) ;; *) fail "log line $i: $line" ;; esac
  # Content is kept as a plain file named by its digest.
  cmp "$store/content/${sum:0:2}/$sum" "$f" || fail "content file of ${names[$i]} differs"
done
grep -qF "dir%20one/file%20two.txt" "$work/log.txt" || fail "log: escaped path missing"

"$LEDGERFS" log "$store" --json >"$work/log.json"
python3 - "$work/log.json" "$in" <<'EOF' || fail "log --json does not match the inputs"
import hashlib, json, os, sys
page = json.load(open(sys.argv[1]))
names = ["empty", "one", "big", "spaced"]
paths = ["empty", "one.txt", "big.bin", "dir one/file two.txt"]
assert page["next"] == 4, page["next"]
assert len(page["entries"]) == 4
for i, e in enumerate(page["entries"]):
    data = open(os.path.join(sys.argv[2], names[i]), "rb").read()
    assert e["index"] == i and e["kind"] == "file" and e["path"] == paths[i], e
    assert e["size"] == len(data), e
    assert e["sha256"] == hashlib.sha256(data).hexdigest(), e
    assert e["received"].endswith("Z"), e
EOF
out=$("$LEDGERFS" log "$store" --since 1 --limit 2 --json)
python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert [e["index"] for e in j["entries"]]==[1,2] and j["next"]==3, j' "$out" ||
  fail "log --since 1 --limit 2: $out"
[ "$("$LEDGERFS" log "$store" --since 4)" = "next 4" ] || fail "log at the end is not empty"

# --- verify and prove ----------------------------------------------------------------------------
expect_exit 0 "$LEDGERFS" verify "$store"
grep -q "^OK: $origin size 4, root .*, 4 entries, .* 4 content files$" "$work/out" ||
  fail "verify summary: $(cat "$work/out")"
grep -qF "using the store's own key" "$work/err" || fail "verify did not say which key it used"
expect_exit 0 "$LEDGERFS" verify "$store" --vkey "$vkey" --since "$work/checkpoint.2"
expect_exit 0 "$LEDGERFS" prove "$store" --index 1
[ "$(head -1 "$work/out")" = "c2sp.org/tlog-proof@v1" ] || fail "prove: bad first line"
[ "$(sed -n 2p "$work/out")" = "index 1" ] || fail "prove: bad index line"
grep -qxF "$origin" "$work/out" || fail "prove: no checkpoint in the proof"
expect_exit 0 "$LEDGERFS" prove "$store" --index 3 --since 2 --vkey "$vkey"
grep -qxF "c2sp.org/tlog-consistency@v1" "$work/out" || fail "prove --since: no consistency proof"
grep -qxF "old 2" "$work/out" || fail "prove --since: no 'old 2' line"
expect_exit 1 "$LEDGERFS" prove "$store" --index 4

# --- refusals ------------------------------------------------------------------------------------
expect_exit 1 "$LEDGERFS" init "$store" --origin "$origin"
expect_exit 1 "$LEDGERFS" init "$work/other" --origin "$origin"  # the default key file exists
expect_exit 1 "$LEDGERFS" init "$work/inside" --origin other.example --key "$work/inside/k.key"
[ ! -e "$work/inside/k.key" ] || fail "init wrote a key inside the store"
"$LEDGERFS" init "$work/other" --origin other.example --key "$work/other.key" >/dev/null
expect_exit 1 "$LEDGERFS" append "$store" --path wrong-key --key "$work/other.key" </dev/null
grep -qF "not this store's key" "$work/err" || fail "wrong key: $(cat "$work/err")"
expect_exit 0 "$LEDGERFS" log "$store" --since 4
[ "$(cat "$work/out")" = "next 4" ] || fail "the wrong-key append left a record"

# Usage errors exit 2.
expect_exit 2 "$LEDGERFS"
expect_exit 2 "$LEDGERFS" frobnicate
expect_exit 2 "$LEDGERFS" append "$store" </dev/null
expect_exit 2 "$LEDGERFS" log "$store" --limit many
expect_exit 2 "$LEDGERFS" init "$work/x" --origin "has space"
expect_exit 2 "$LEDGERFS" append "$store" --path ../escape </dev/null
expect_exit 2 "$LEDGERFS" verify "$store/tile"  # not a store, no --vkey
expect_exit 0 "$LEDGERFS" append --help
grep -qF -- "--path" "$work/out" || fail "append --help does not show --path"

# A second writer while the store is locked gets exit 3.
mkfifo "$work/fifo"
"$LEDGERFS" append "$store" --path slow <"$work/fifo" >"$work/slow.out" &
holder_pid=$!
exec 3>"$work/fifo"
# Wait until the holder has the lock: its flock shows in /proc/locks (probing with flock(1) would
# itself take the lock and could make the holder fail).
lock_inode=$(stat -c %i "$store/.ledger/lock")
locked=0
for _ in $(seq 200); do
  if grep -q ":$lock_inode " /proc/locks; then
    locked=1
    break
  fi
  sleep 0.05
done
[ "$locked" = 1 ] || fail "the first writer never took the store lock"
expect_exit 3 "$LEDGERFS" append "$store" --path second </dev/null
grep -qi "in use" "$work/err" || fail "busy message: $(cat "$work/err")"
printf 'slow data' >&3
exec 3>&-
wait "$holder_pid" || fail "the lock holder failed"
holder_pid=""
[ "$(head -1 "$work/slow.out")" = "index 4" ] || fail "slow append: $(cat "$work/slow.out")"

# --- damage is found and named -------------------------------------------------------------------
cp -a "$store" "$work/damaged"
tile="tile/0/000.p/5"
[ -f "$work/damaged/$tile" ] || fail "expected $tile in the store"
flip_byte "$work/damaged/$tile" 40
expect_exit 1 "$LEDGERFS" verify "$work/damaged"
grep -qF "$tile" "$work/err" || fail "verify did not name $tile: $(cat "$work/err")"
grep -q "^ledgerfs: verify $work/damaged: " "$work/err" || fail "verify error format"

rm -rf "$work/damaged"
cp -a "$store" "$work/damaged"
sum=$(sha256sum <"$in/spaced" | cut -d' ' -f1)
flip_byte "$work/damaged/content/${sum:0:2}/$sum" 3
expect_exit 1 "$LEDGERFS" verify "$work/damaged"
grep -qF "content/${sum:0:2}/$sum" "$work/err" || fail "verify did not name the content file"

echo "cli_basic: OK"
