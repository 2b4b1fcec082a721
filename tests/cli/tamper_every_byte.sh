#!/usr/bin/env bash
# Damage to every kind of file of a store made by the CLI is found by `ledgerfs verify STORE`,
# which exits non-zero naming the damaged file (its path relative to the store) on stderr.
#
# The store: `ledgerfs init` and 520 `ledgerfs append` (two full tiles and bundles; one
# checkpoint per append, so older partials .p/1 ... .p/7 are kept beside the right edge .p/8, and
# tile/1/000.p/1 beside .p/2), with an empty content file, distinct ones and one shared by most
# records. Per file of each kind: flipped bytes (XOR 0x01 and 0x80 alternately) at the first two,
# the last two and TAMPER_FLIPS (default 6) evenly spaced offsets; cut by one byte; cut to 0
# bytes; one byte appended; deleted. Then stray files under tile/ and swapped pairs. Each case is
# undone before the next. Deleting an older partial must be accepted (nothing in the store
# requires an older size), every other case refused. A summary table is printed at the end.
#
# This is a sample through the real command; tests/tamper_test.cc ([tamper]) flips every byte
# (of big files a stated sample) in-process. TAMPER_FLIPS=N flips more bytes per file here.
# Needs: LEDGERFS, od, dd, cmp, truncate.
set -euo pipefail

: "${LEDGERFS:?set LEDGERFS to the ledgerfs binary}"
source "$(dirname "$0")/lib/common.sh"
flips=${TAMPER_FLIPS:-6}

# /dev/shm: one append costs two fsyncs, and 520 of them on a real disk take minutes.
shm=""
on_exit() {
  if [ -n "$shm" ]; then rm -rf "$shm"; fi
}
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  shm=$(mktemp -d -p /dev/shm ledgerfs-tamper.XXXXXX)
  base="$shm"
else
  base="$work"
fi
export LEDGERFS_KEY_DIR="$base/keys"
store="$base/store"
start=$(date +%s)

"$LEDGERFS" init "$store" --origin tamper.example/cli >/dev/null 2>&1
: | "$LEDGERFS" append "$store" --path empty >/dev/null
for i in $(seq 1 519); do
  if [ $((i % 100)) = 0 ]; then
    printf 'record %d\n' "$i"
  else
    printf 'the same content\n' # identical content is stored once
  fi | "$LEDGERFS" append "$store" --path "r/$i.txt" >/dev/null
done
built=$(date +%s)
expect_exit 0 "$LEDGERFS" verify "$store"
grep -q "^OK: tamper.example/cli size 520," "$work/out" || fail "verify summary: $(cat "$work/out")"

# content_of TEXT: the content file holding TEXT (printf format).
content_of() {
  local sum
  sum=$(printf "$1" | sha256sum | cut -c1-64)
  echo "content/${sum:0:2}/$sum"
}
empty=$(content_of '')
distinct=$(content_of 'record 100\n')
distinct2=$(content_of 'record 200\n')
shared=$(content_of 'the same content\n')

# Kind of each file under test (older partials are marked: deleting them is accepted).
declare -A kind=(
  [checkpoint]="checkpoint"
  [.ledger/identity]="identity (read when no --vkey is given)"
  [tile/0/000]="full hash tile, level 0"
  [tile/0/001]="full hash tile, level 0"
  [tile/0/002.p/8]="right-edge partial hash tile, level 0"
  [tile/0/002.p/3]="older partial hash tile, level 0"
  [tile/1/000.p/2]="right-edge partial hash tile, level 1"
  [tile/1/000.p/1]="older partial hash tile, level 1"
  [tile/entries/000]="full entry bundle"
  [tile/entries/001]="full entry bundle"
  [tile/entries/002.p/8]="right-edge partial entry bundle"
  [tile/entries/002.p/3]="older partial entry bundle"
  [$empty]="content file, 0 bytes"
  [$distinct]="content file"
  [$shared]="content file (shared by 514 records)"
)
for rel in "${!kind[@]}"; do [ -f "$store/$rel" ] || fail "the store has no $rel"; done

declare -A tried=() detected=() accepted=()
misses=0
# count KIND RESULT: tallies one case (RESULT: detected, accepted or miss).
count() {
  tried[$1]=$((${tried[$1]:-0} + 1))
  case $2 in
    detected) detected[$1]=$((${detected[$1]:-0} + 1)) ;;
    accepted) accepted[$1]=$((${accepted[$1]:-0} + 1)) ;;
    *) misses=$((misses + 1)) ;;
  esac
}
# expect_refused KIND WHAT NAME...: verify must exit non-zero and name one of the NAMEs.
expect_refused() {
  local k=$1 what=$2 got=0 name
  shift 2
  "$LEDGERFS" verify "$store" >"$work/out" 2>"$work/err" || got=$?
  if [ "$got" != 0 ]; then
    for name in "$@"; do
      if grep -qF -- "$name" "$work/err"; then
        count "$k" detected
        return
      fi
    done
    echo "MISS: $what: exit $got but stderr does not name $*: $(cat "$work/err")" >&2
  else
    echo "MISS: $what: verify exited 0" >&2
  fi
  count "$k" miss
}
expect_accepted() {
  local k=$1 what=$2 got=0
  "$LEDGERFS" verify "$store" >"$work/out" 2>"$work/err" || got=$?
  if [ "$got" = 0 ]; then
    count "$k" accepted
  else
    echo "MISS: $what: refused: $(cat "$work/err")" >&2
    count "$k" miss
  fi
}

# xor_byte FILE OFFSET MASK: in place.
xor_byte() {
  local byte
  byte=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "$(printf '\\%03o' $((byte ^ $3)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# damage_file REL: every per-file case, each undone (checked against a saved copy).
damage_file() {
  local rel=$1 k=${kind[$1]} file="$store/$1" size offsets off n mask
  cp -p "$file" "$work/saved"
  size=$(stat -c %s "$file")
  if [ "$size" -gt 0 ]; then
    offsets="0 1 $((size - 2)) $((size - 1))"
    for n in $(seq 1 "$flips"); do offsets="$offsets $((size * n / (flips + 1)))"; done
    for off in $(printf '%s\n' $offsets | awk -v s="$size" '$1 >= 0 && $1 < s' | sort -nu); do
      mask=$((off % 2 == 0 ? 1 : 128))
      xor_byte "$file" "$off" "$mask"
      expect_refused "$k" "$rel byte $off ^ $mask" "$rel"
      xor_byte "$file" "$off" "$mask"
    done
    truncate -s $((size - 1)) "$file"
    expect_refused "$k" "$rel cut by one byte" "$rel"
    truncate -s 0 "$file"
    expect_refused "$k" "$rel cut to 0 bytes" "$rel"
    cp -p "$work/saved" "$file"
  fi
  printf 'x' >>"$file"
  expect_refused "$k" "$rel one byte appended" "$rel"
  cp -p "$work/saved" "$file"
  rm "$file"
  case $k in
    older*) expect_accepted "$k" "$rel deleted" ;;
    *) expect_refused "$k" "$rel deleted" "$rel" ;;
  esac
  cp -p "$work/saved" "$file"
  cmp -s "$work/saved" "$file" || fail "$rel was not restored"
}

for rel in $(printf '%s\n' "${!kind[@]}" | sort); do damage_file "$rel"; done

# Files that do not belong under tile/.
stray_kind="stray file under tile/"
for rel in tile/junk tile/0/002 tile/entries/002 tile/entries/002.p/9 tile/2/000.p/1 \
  tile/0/000.p/5 tile/0/002.p/08; do
  mkdir -p "$(dirname "$store/$rel")"
  head -c 160 /dev/zero | tr '\0' 's' >"$store/$rel"
  expect_refused "$stray_kind" "$rel added" "$rel"
  rm "$store/$rel"
  rmdir "$(dirname "$store/$rel")" 2>/dev/null || true
done

# swap A B: exchanges two files; verify must name one of them.
swap() {
  mv "$store/$1" "$work/swap"
  mv "$store/$2" "$store/$1"
  mv "$work/swap" "$store/$2"
}
for pair in "tile/entries/000 tile/entries/001" "tile/0/000 tile/0/001" \
  "tile/0/002.p/3 tile/0/002.p/8" "$distinct $distinct2" "$empty $shared"; do
  read -r a b <<<"$pair"
  swap "$a" "$b"
  expect_refused "swapped pair" "$a and $b swapped" "$a" "$b"
  swap "$a" "$b"
done

expect_exit 0 "$LEDGERFS" verify "$store" # every case was undone
end=$(date +%s)

total=0
echo "| kind | cases | detected, naming the file | deleting it accepted (older partial) |"
echo "|---|---|---|---|"
while IFS= read -r k; do
  echo "| $k | ${tried[$k]} | ${detected[$k]:-0} | ${accepted[$k]:-0} |"
  total=$((total + tried[$k]))
done < <(printf '%s\n' "${!tried[@]}" | sort)
echo "tamper_every_byte: $total cases, $misses missed; store built in $((built - start)) s," \
  "cases run in $((end - built)) s"
[ "$misses" = 0 ] || fail "$misses damage cases were not detected as expected"
echo "tamper_every_byte: OK"
