#!/usr/bin/env bash
# `ledgerfs verify` of a live tree (ledger/verifier.h VerifyLiveTree) and of a mount's records:
#  - while files are copied into a mount, verify of the mount and of its store passes every time
#    (a single VerifyTree pass fails often here: the publisher writes the next size's tiles
#    before it replaces `checkpoint`, and prunes partials after);
#  - verify of a mount checks every record through records/<path> (size, SHA-256, folders), and
#    reports records an earlier one hides (same path, file/folder clash) as notes, not failures;
#  - a record whose content is damaged in the store fails verify of the mount, naming it;
#  - a stray tile is still refused: in a live store once no checkpoint came to cover it within
#    the 5 s settle time, in a store at rest at once.
# Needs: LEDGERFS (the binary), root with /dev/fuse, fusermount3.
set -euo pipefail

: "${LEDGERFS:?set LEDGERFS to the ledgerfs binary}"
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/mount.sh"
writer=""
on_exit() {
  if [ -n "$writer" ]; then kill "$writer" 2>/dev/null || true; fi
  mount_cleanup
}

export LEDGERFS_KEY_DIR="$work/keys"

# --- a store with clashing records (only `ledgerfs append` can make them), mounted -------------
store="$work/store"
mnt="$work/mnt"
vkey=$("$LEDGERFS" init "$store" --origin test.example/live)
append() { printf '%s' "$2" | "$LEDGERFS" append "$store" --path "$1" >/dev/null; }
append a.txt "first a"
append a.txt "second a"      # same path: hidden by the first
append dir/b.txt "b"
append dir "a file where a folder is"  # dir is already a folder: hidden
append a.txt/c "under a file"          # a.txt is a file: hidden
append 'odd name %41' "percent and space"
printf '' | "$LEDGERFS" append "$store" --path empty >/dev/null
start_mount "$store" "$mnt" --checkpoint-delay 20
mkdir "$mnt/inbox/folder"    # a directory record
echo "through the mount" >"$mnt/inbox/folder/x"

# Wait until the checkpoint covers the 9 records.
for i in $(seq 1 100); do
  [ "$(sed -n 2p "$mnt/checkpoint")" = 9 ] && break
  sleep 0.1
done
expect_exit 0 "$LEDGERFS" verify "$mnt" --vkey "$vkey"
grep -q "^OK: test.example/live size 9, .*, 5 content files$" "$work/out" ||
  fail "verify of the mount: $(cat "$work/out" "$work/err")"
for hidden in "record 1 (file a.txt) is hidden by record 0 (file a.txt)" \
  "record 3 (file dir) is hidden by record 2 (file dir/b.txt)" \
  "record 4 (file a.txt/c) is hidden by record 0 (file a.txt)"; do
  grep -qF "$hidden" "$work/err" || fail "no note '$hidden': $(cat "$work/err")"
done
grep -q "unexpected entry" "$work/err" && fail "notes about the mount's own folders: $(cat "$work/err")"
grep -q "record contents are not checked" "$work/err" && fail "contents not checked on a mount"

# --- verify while files are copied in: never a failure ------------------------------------------
(
  i=0
  # Bounded, so that each verify (which reads the whole log) stays short even under ASan.
  while [ "$i" -lt 1500 ]; do
    i=$((i + 1))
    echo "file $i" >"$mnt/inbox/f$i" || exit 0
    if [ $((i % 50)) = 0 ]; then mkdir "$mnt/inbox/d$i" || exit 0; fi
  done
) &
writer=$!
sleep 1
runs=5
for r in $(seq 1 $runs); do
  expect_exit 0 "$LEDGERFS" verify "$mnt" --vkey "$vkey"
  grep -q "^OK: test.example/live size " "$work/out" || fail "verify $r of the mount: $(cat "$work/out")"
  expect_exit 0 "$LEDGERFS" verify "$store" --vkey "$vkey"
  grep -q "^OK: test.example/live size " "$work/out" || fail "verify $r of the store: $(cat "$work/out")"
done

# --- a stray tile in the live store is refused, after the settle time ---------------------------
kill "$writer" 2>/dev/null || true  # it may have finished its files already
wait "$writer" 2>/dev/null || true
writer=""
stray="$store/tile/entries/999"
mkdir -p "$(dirname "$stray")"
echo junk >"$stray"
start=$SECONDS
expect_exit 1 "$LEDGERFS" verify "$store" --vkey "$vkey"
grep -q "tile/entries/999: not covered by the checkpoint" "$work/err" ||
  fail "stray tile in a live store: $(cat "$work/err")"
# The store is live (the daemon holds its lock): verify waited 5 s for a checkpoint to cover it.
((SECONDS - start >= 4)) || fail "verify of a live store did not wait for the publisher"
stop_mount "$mnt"
# At rest: the same failure, at once.
start=$SECONDS
expect_exit 1 "$LEDGERFS" verify "$store" --vkey "$vkey"
grep -q "tile/entries/999: not covered by the checkpoint" "$work/err" ||
  fail "stray tile in a store at rest: $(cat "$work/err")"
((SECONDS - start <= 3)) || fail "verify of a store at rest waited $((SECONDS - start)) s"
rm "$stray"

# --- damaged content shows through the mount and fails its verify -------------------------------
store2="$work/store2"
mnt2="$work/mnt2"
vkey2=$("$LEDGERFS" init "$store2" --origin test.example/damaged)
printf 'good content' | "$LEDGERFS" append "$store2" --path report.txt >/dev/null
sum=$(printf 'good content' | sha256sum | cut -c1-64)
flip_byte "$store2/content/${sum:0:2}/$sum" 3
start_mount "$store2" "$mnt2"
expect_exit 1 "$LEDGERFS" verify "$mnt2" --vkey "$vkey2"
grep -q "records/report.txt: content hashes to .*, not the manifest's sha256 (entry 0)" "$work/err" ||
  fail "damaged content through the mount: $(cat "$work/err")"
stop_mount "$mnt2"

# --- a copied tile tree still says that contents are not checked --------------------------------
mkdir "$work/copy"
cp -r "$store/tile" "$store/checkpoint" "$work/copy/"
expect_exit 0 "$LEDGERFS" verify "$work/copy" --vkey "$vkey"
grep -q "no content/ folder here: record contents are not checked" "$work/err" ||
  fail "copied tree: $(cat "$work/err")"
echo "verify_live: OK"
