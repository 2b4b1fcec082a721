#!/usr/bin/env bash
# `ledgerfs verify` and `ledgerfs prove` on a copy of the golden tlog-tiles log written by Tessera
# (spec/testdata/tessera-log): it verifies with its key, extends each of its archived
# checkpoints, and a flipped byte in a tile is found and named.
set -euo pipefail

: "${LEDGERFS:?set LEDGERFS to the ledgerfs binary}"
: "${SHARED_DIR:?set SHARED_DIR to the shared material}"
golden="$SHARED_DIR/spec/testdata/tessera-log"
vkey="example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx"
source "$(dirname "$0")/lib/common.sh"

log="$work/log"
cp -R "$golden" "$log"
chmod -R u+w "$log"

expect_exit 0 "$LEDGERFS" verify "$log" --vkey "$vkey"
grep -q "^OK: example.com/log/testdata size 15, root rKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=, 15 entries" "$work/out" ||
  fail "verify summary: $(cat "$work/out")"

for cp in "$log"/checkpoint.*; do
  expect_exit 0 "$LEDGERFS" verify "$log" --vkey "$vkey" --since "$cp"
done

# Without a key there is nothing to trust: a tile tree is not a store.
expect_exit 2 "$LEDGERFS" verify "$log"
# Another key is refused.
expect_exit 1 "$LEDGERFS" verify "$log" \
  --vkey "example.com/log/testdata+00000000+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx"

# Proofs from the golden tree verify (prove checks them before printing).
expect_exit 0 "$LEDGERFS" prove "$log" --vkey "$vkey" --index 7 --since 5
[ "$(head -2 "$work/out")" = "$(printf 'c2sp.org/tlog-proof@v1\nindex 7')" ] || fail "prove output"
# The listing accepts entries that are not record manifests.
expect_exit 0 "$LEDGERFS" log "$log" --json
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["next"]==15 and "entry_base64" in j["entries"][0], j' "$work/out" ||
  fail "log --json on the golden log"

# A flipped byte in the newest level-0 tile is found and named.
tile="tile/0/000.p/15"
byte=$(od -An -tu1 -j 100 -N1 "$log/$tile" | tr -d ' ')
printf "$(printf '\\%03o' $((byte ^ 1)))" | dd of="$log/$tile" bs=1 seek=100 conv=notrunc 2>/dev/null
expect_exit 1 "$LEDGERFS" verify "$log" --vkey "$vkey"
grep -qF "$tile" "$work/err" || fail "verify did not name $tile: $(cat "$work/err")"

echo "golden_verify: OK"
