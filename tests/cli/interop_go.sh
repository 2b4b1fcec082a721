#!/usr/bin/env bash
# Interoperability: an independent tlog-tiles client built on Go's golang.org/x/mod/sumdb/note and
# sumdb/tlog (Debian package golang-golang-x-mod-dev; tests/interop/tlogclient) must
#   1. verify the Tessera-written test log in $SHARED_DIR/spec/testdata/tessera-log (sanity check
#      of the client itself), and
#   2. verify a store written by ledgerfs: signature, root from tiles, an inclusion proof for every
#      entry, and consistency with an older checkpoint;
# and it must reject the ledgerfs store after one byte of a full hash tile or of an entry bundle
# is flipped. Skips (exit 0) only when the Go toolchain is not installed.
# Env: LEDGERFS (the binary), SOURCE_DIR (the repo), SHARED_DIR (the shared folder).
set -euo pipefail

: "${LEDGERFS:?LEDGERFS must name the ledgerfs binary}"
SOURCE_DIR=${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SHARED_DIR=${SHARED_DIR:-/work/shared}

if ! command -v go > /dev/null 2>&1; then
  echo "interop_go: SKIP: the Go toolchain is not installed (tools/install-deps.sh installs golang-go and golang-golang-x-mod-dev)"
  exit 0
fi
GOMOD_SRC=/usr/share/gocode/src/golang.org/x/mod
if [ ! -d "$GOMOD_SRC/sumdb/tlog" ]; then
  echo "interop_go: FAIL: go is installed but $GOMOD_SRC is missing (apt-get install golang-golang-x-mod-dev)" >&2
  exit 1
fi

# Work in tmpfs when there is one: ~520 `ledgerfs append` runs each fsync, which is several times
# slower on a real disk, and this test is about the format, not durability.
tmpbase=${TMPDIR:-/tmp}
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then tmpbase=/dev/shm; fi
tmp=$(mktemp -d "$tmpbase/interop_go.XXXXXX")
cleanup() {
  chmod -R u+w "$tmp" 2> /dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
pass() {
  echo "PASS: $*"
  passed=$((passed + 1))
}
fail() {
  echo "FAIL: $*" >&2
  failed=$((failed + 1))
}

# Build the client offline, in GOPATH mode against the Debian-packaged x/mod sources.
client=$tmp/tlogclient
(
  cd "$SOURCE_DIR/tests/interop/tlogclient"
  GO111MODULE=off GOPATH="$tmp/gopath:/usr/share/gocode" GOPROXY=off GOFLAGS="" \
    GOCACHE="${GOCACHE:-$tmp/gocache}" go build -o "$client" .
)
echo "built $client with $(go version)"

# expect_ok NAME ARGS...: the client must exit 0 and print the "ok:" line.
expect_ok() {
  local name=$1 out
  shift
  if out=$("$client" "$@" 2>&1) && grep -q '^ok: ' <<< "$out"; then
    pass "$name: $(grep '^ok: ' <<< "$out")"
  else
    fail "$name: client rejected a valid log:"
    printf '%s\n' "$out" >&2
  fi
}
# expect_fail NAME ARGS...: the client must exit non-zero.
expect_fail() {
  local name=$1 out rc=0
  shift
  out=$("$client" "$@" 2>&1) || rc=$?
  if [ "$rc" -ne 0 ]; then
    pass "$name: rejected (exit $rc): $(tail -n 1 <<< "$out")"
  else
    fail "$name: client accepted a tampered log:"
    printf '%s\n' "$out" >&2
  fi
}

# 1. The Tessera test log (a copy, so nothing can touch the shared one).
TESSERA_VKEY=example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx
cp -R "$SHARED_DIR/spec/testdata/tessera-log" "$tmp/tessera"
expect_ok "tessera log" -vkey "$TESSERA_VKEY" -dir "$tmp/tessera"
expect_ok "tessera log, consistent with checkpoint.3" -vkey "$TESSERA_VKEY" -dir "$tmp/tessera" \
  -old "$tmp/tessera/checkpoint.3"

# 2. A store written by ledgerfs: 520 records, so level 0 has two full tiles (000, 001) and the
#    partial 002.p/8, level 1 has 000.p/2, and the bundles cross index 512.
store=$tmp/store
key=$tmp/keys/interop.key
vkey=$("$LEDGERFS" init "$store" --origin interop.example.com/log --key "$key" 2> "$tmp/init.err") || {
  cat "$tmp/init.err" >&2
  echo "FAIL: ledgerfs init" >&2
  exit 1
}
vkey=$(tail -n 1 <<< "$vkey")
echo "vkey $vkey"
[ "$("$LEDGERFS" vkey "$store")" = "$vkey" ] || fail "ledgerfs vkey disagrees with init's output"

append() { # append INDEX: record contents vary in length (0..~300 bytes) and content.
  local i=$1
  head -c $(((i * 37) % 301)) /dev/zero | tr '\0' "$(printf '\\%03o' $((97 + i % 26)))" \
    | { cat; printf 'record %d\n' "$i"; } \
    | "$LEDGERFS" append "$store" --path "interop/r$i.txt" --key "$key" > /dev/null 2>> "$tmp/append.err" || {
    cat "$tmp/append.err" >&2
    echo "FAIL: ledgerfs append $i" >&2
    exit 1
  }
}
for i in $(seq 0 99); do append "$i"; done
cp "$store/checkpoint" "$tmp/checkpoint.100"
for i in $(seq 100 519); do append "$i"; done

size=$(sed -n 2p "$store/checkpoint")
echo "ledgerfs store: size $size"
[ "$size" = 520 ] || fail "ledgerfs store has size $size, want 520"
for f in tile/0/000 tile/0/001 tile/0/002.p/8 tile/1/000.p/2 tile/entries/000 tile/entries/001 \
  tile/entries/002.p/8; do
  [ -f "$store/$f" ] || fail "ledgerfs store lacks $f"
done

expect_ok "ledgerfs store" -vkey "$vkey" -dir "$store"
expect_ok "ledgerfs store, consistent with its size-100 checkpoint" -vkey "$vkey" -dir "$store" \
  -old "$tmp/checkpoint.100"
expect_fail "ledgerfs store, another log's key" -vkey "$TESSERA_VKEY" -dir "$store"
# A key of the same name (origin) but different bytes must not verify the checkpoint either.
other_vkey=$("$LEDGERFS" init "$tmp/other" --origin interop.example.com/log --key "$tmp/keys/other.key" 2> /dev/null | tail -n 1) || true
if [ -z "$other_vkey" ] || [ "$other_vkey" = "$vkey" ]; then fail "second ledgerfs init gave no new key"; fi
expect_fail "ledgerfs store, same origin but another key" -vkey "$other_vkey" -dir "$store"

# 3. Tampering: flip one byte of a copy of the store each time; the client must refuse.
# flip STOREDIR FILE OFFSET: XOR the byte at OFFSET with 0x01.
flip() {
  local f=$1/$2 off=$3 b
  chmod u+w "$f" "$(dirname "$f")"
  b=$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' ')
  printf '%b' "\\$(printf '%03o' $((b ^ 1)))" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}
tamper() { # tamper NAME FILE OFFSET
  local copy=$tmp/tampered
  chmod -R u+w "$copy" 2> /dev/null || true
  rm -rf "$copy"
  cp -R "$store" "$copy"
  flip "$copy" "$2" "$3"
  if cmp -s "$store/$2" "$copy/$2"; then
    fail "$1: the byte flip did not change $2"
    return
  fi
  expect_fail "$1" -vkey "$vkey" -dir "$copy"
}
tamper "flipped byte in full hash tile tile/0/000" tile/0/000 $((37 * 32 + 5))
tamper "flipped byte in entry bundle tile/entries/001" tile/entries/001 100
tamper "flipped byte in partial hash tile tile/0/002.p/8" tile/0/002.p/8 $((3 * 32 + 7))
tamper "flipped byte in partial bundle tile/entries/002.p/8" tile/entries/002.p/8 20
tamper "flipped byte in the checkpoint's root" checkpoint \
  $(($(sed -n 1,2p "$store/checkpoint" | wc -c) + 3))

echo "interop_go: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
