#!/usr/bin/env bash
# tools/ledger-check.sh, the POSIX-shell checker of docs/format.md: it accepts a store of ~300
# records made by the CLI (a full level-0 tile and a level-1 tile) and the golden Tessera log
# (entries that are not manifests, no content), and it rejects a flipped content byte, a flipped
# byte in a level-0 and a level-1 tile, and a flipped byte in an entry bundle.
set -euo pipefail

: "${LEDGERFS:?set LEDGERFS to the ledgerfs binary}"
: "${SOURCE_DIR:?set SOURCE_DIR to the source tree}"
: "${SHARED_DIR:?set SHARED_DIR to the shared material}"
check="$SOURCE_DIR/tools/ledger-check.sh"
source "$(dirname "$0")/lib/common.sh"

# run_check WANT_EXIT DIR: runs the checker under a plain POSIX sh.
run_check() {
  local got=0
  sh "$check" "$2" >"$work/out" 2>"$work/err" || got=$?
  if [ "$got" != "$1" ]; then
    cat "$work/out" "$work/err" >&2
    fail "ledger-check on $2: expected exit $1, got $got"
  fi
}
# damaged NAME: a fresh copy of the store to break.
damaged() {
  rm -rf "$work/damaged"
  cp -a "$store" "$work/damaged"
}

# The checker must not need anything beyond its documented tools.
if grep -nE '\b(python|perl|bash|xxd|openssl|cmp|diff)\b' "$check" | grep -v '^[0-9]*:#'; then
  fail "ledger-check.sh uses a tool outside its POSIX set"
fi

# --- a store of 300 records, made by the CLI -----------------------------------------------------
export LEDGERFS_KEY_DIR="$work/keys"
store="$work/store"
"$LEDGERFS" init "$store" --origin check.example/300 >/dev/null 2>&1
: | "$LEDGERFS" append "$store" --path empty >/dev/null
for i in $(seq 1 299); do
  if [ $((i % 50)) = 0 ]; then
    printf 'the same content\n'  # identical content is stored once
  else
    printf 'record %d\n' "$i"
  fi | "$LEDGERFS" append "$store" --path "batch/record $i.txt" >/dev/null
done
[ -f "$store/tile/0/000" ] || fail "no full level-0 tile in the store"
[ -f "$store/tile/1/000.p/1" ] || fail "no level-1 tile in the store"
"$LEDGERFS" verify "$store" >/dev/null 2>&1 || fail "ledgerfs verify rejects the store"

run_check 0 "$store"
grep -q "^ledger-check: OK: check.example/300 size 300, " "$work/out" || fail "summary: $(cat "$work/out")"
grep -q "300 content files checked" "$work/out" || fail "contents not all checked: $(cat "$work/out")"

# --- the golden Tessera log: no manifests, no content --------------------------------------------
golden="$work/golden"
cp -R "$SHARED_DIR/spec/testdata/tessera-log" "$golden"
chmod -R u+w "$golden"
run_check 0 "$golden"
grep -q "^ledger-check: OK: example.com/log/testdata size 15, root rKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=" "$work/out" ||
  fail "golden summary: $(cat "$work/out")"
flip_byte "$golden/tile/0/000.p/15" 200
run_check 1 "$golden"
grep -qF "tile/0/000.p/15" "$work/err" || fail "golden damage not named: $(cat "$work/err")"

# --- damage is found and named -------------------------------------------------------------------
damaged
sum=$(printf 'record 7\n' | sha256sum | cut -c1-64)
flip_byte "$work/damaged/content/${sum:0:2}/$sum" 2
run_check 1 "$work/damaged"
grep -qF "content/${sum:0:2}/$sum" "$work/err" || fail "content damage not named: $(cat "$work/err")"

damaged
rm "$work/damaged/content/${sum:0:2}/$sum"
run_check 1 "$work/damaged"
grep -qF "content/${sum:0:2}/$sum: missing" "$work/err" || fail "missing content: $(cat "$work/err")"

damaged
flip_byte "$work/damaged/tile/0/000" $((32 * 100 + 5))
run_check 1 "$work/damaged"
grep -qF "tile/0/000: hash 100 " "$work/err" || fail "level-0 damage not named: $(cat "$work/err")"

damaged
flip_byte "$work/damaged/tile/1/000.p/1" 31
run_check 1 "$work/damaged"
grep -qF "tile/1/000.p/1" "$work/err" || fail "level-1 damage not named: $(cat "$work/err")"

damaged
flip_byte "$work/damaged/tile/entries/001.p/44" 60
run_check 1 "$work/damaged"
grep -qF "tile/entries/001.p/44" "$work/err" || fail "bundle damage not named: $(cat "$work/err")"

damaged
flip_byte "$work/damaged/checkpoint" 30
run_check 1 "$work/damaged"
grep -qF "checkpoint" "$work/err" || fail "checkpoint damage not named: $(cat "$work/err")"

echo "ledger_check: OK"
