#!/usr/bin/env bash
# Interoperability over HTTP (docs/http.md "The C2SP tlog-tiles read path"): the independent Go
# tlog-tiles client (tests/interop/tlogclient, on golang.org/x/mod/sumdb/note and sumdb/tlog)
# pointed at `ledgerfs serve` with -url and -header 'X-Module-ID: <tenant>'
#   1. verifies the log written over HTTP (signature, root from the tiles served, an inclusion proof
#      for every entry from the bundles served);
#   2. verifies it again after more records, consistent with the earlier checkpoint (whose right
#      edge partials have full tiles by then, served as their prefix);
#   3. fails (exit 1, naming the status) with another tenant's header (403), a malformed one and
#      none (400), and with another log's key;
# and the store still passes `ledgerfs verify`. Skips (exit 0) only when Go is not installed.
# Env: LEDGERFS (the binary), SOURCE_DIR (the repo).
set -euo pipefail

: "${LEDGERFS:?set LEDGERFS to the ledgerfs binary}"
SOURCE_DIR=${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/http.sh"
shm=""
on_exit() {
  serve_cleanup
  if [ -n "$shm" ]; then rm -rf "$shm"; fi
}
t_start=$(date +%s%N)

if ! command -v go >/dev/null 2>&1; then
  echo "http_interop: SKIP: the Go toolchain is not installed (tools/install-deps.sh installs golang-go and golang-golang-x-mod-dev)"
  exit 0
fi
GOMOD_SRC=/usr/share/gocode/src/golang.org/x/mod
[ -d "$GOMOD_SRC/sumdb/tlog" ] || fail "go is installed but $GOMOD_SRC is missing (apt-get install golang-golang-x-mod-dev)"

# Build the client offline, in GOPATH mode against the Debian-packaged x/mod sources (as
# interop_go.sh does).
client=$work/tlogclient
(
  cd "$SOURCE_DIR/tests/interop/tlogclient"
  GO111MODULE=off GOPATH="$work/gopath:/usr/share/gocode" GOPROXY=off GOFLAGS="" \
    GOCACHE="${GOCACHE:-$work/gocache}" go build -o "$client" .
) || fail "building tests/interop/tlogclient"

# expect_ok NAME ARGS...: the client exits 0 and prints its "ok:" line (with size SIZE).
expect_ok() {
  local name=$1 want_size=$2 out
  shift 2
  out=$("$client" "$@" 2>&1) || { printf '%s\n' "$out" >&2; fail "$name: the Go client rejected the log served over HTTP"; }
  grep -q "^ok: .* size $want_size, $want_size inclusion proofs verified" <<<"$out" ||
    { printf '%s\n' "$out" >&2; fail "$name: no 'ok: ... size $want_size' line"; }
  echo "PASS: $name: $(grep '^ok: ' <<<"$out")"
}
# expect_refused NAME PATTERN ARGS...: the client exits 1 and its message matches PATTERN.
expect_refused() {
  local name=$1 pattern=$2 out rc=0
  shift 2
  out=$("$client" "$@" 2>&1) || rc=$?
  [ "$rc" = 1 ] || { printf '%s\n' "$out" >&2; fail "$name: the Go client exited $rc, want 1"; }
  grep -q -- "$pattern" <<<"$out" || { printf '%s\n' "$out" >&2; fail "$name: the client's message does not say '$pattern'"; }
  echo "PASS: $name: $(tail -n 1 <<<"$out")"
}

export LEDGERFS_KEY_DIR="$work/keys"
shm=$(mktemp -d -p /dev/shm ledgerfs-http-interop.XXXXXX)
store="$shm/acme"
vkey=$("$LEDGERFS" init "$store" --origin interop.example.com/acme 2>"$work/init.err") || { cat "$work/init.err" >&2; fail "ledgerfs init"; }
vkey=$(tail -n 1 <<<"$vkey")
tenant=acme
start_serve "$store" --checkpoint-delay 200
echo "serving $base"

# post_records FIRST COUNT: records interop/rFIRST... of 0..~300 bytes, over one keep-alive
# connection; each must be 201 with the next index.
post_records() {
  python3 - "$base" "$tenant" "$1" "$2" <<'EOF' || fail "POSTing records $1.. ($2)"
import sys, httpc
base, tenant, first, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
p = httpc.Poster(base, tenant)
for i in range(first, first + count):
    data = bytes([97 + i % 26]) * ((i * 37) % 301) + b"record %d\n" % i
    st, r, body = p.post("interop/r%d.txt" % i, data)
    assert st == 201 and body["index"] == i, (i, st, body)
p.close()
EOF
}

# 1. 300 records: tile/0/000 full, tile/0/001.p/44, tile/entries/001.p/44, tile/1/000.p/1.
post_records 0 300
wait_checkpoint "$store" 300
req GET /checkpoint
want 200 "GET /checkpoint"
cp "$work/b" "$work/checkpoint.300"
[ "$(sed -n 2p "$work/checkpoint.300")" = 300 ] || fail "checkpoint over HTTP: $(cat "$work/checkpoint.300")"
expect_ok "Go client over HTTP, 300 records" 300 -vkey "$vkey" -url "$base" -header "X-Module-ID: $tenant"
expect_ok "Go client over HTTP, URL with a trailing slash" 300 -vkey "$vkey" -url "$base/" -header "X-Module-ID: $tenant"

# 2. 320 more: tile/0/001 is now full, so the size-300 checkpoint's partials are served from it.
post_records 300 320
wait_checkpoint "$store" 620
for f in tile/0/001 tile/entries/001 tile/0/002.p/108; do
  [ -f "$store/$f" ] || fail "test bug: the store lacks $f at size 620"
done
req GET /tile/0/001.p/44
want 200 "GET /tile/0/001.p/44 once tile/0/001 is full"
cmp -s "$work/b" <(head -c $((44 * 32)) "$store/tile/0/001") || fail "tile/0/001.p/44 is not the prefix of tile/0/001"
expect_ok "Go client over HTTP, 620 records, consistent with the size-300 checkpoint" 620 \
  -vkey "$vkey" -url "$base" -header "X-Module-ID: $tenant" -old "$work/checkpoint.300"
# (Captured first: `grep -q` on a pipe would end the client with SIGPIPE, which pipefail reports.)
report=$("$client" -vkey "$vkey" -url "$base" -header "X-Module-ID: $tenant" -old "$work/checkpoint.300" 2>&1) ||
  fail "the client failed on the second run: $report"
grep -q "^consistent: .*checkpoint.300 (size 300) -> size 620" <<<"$report" ||
  fail "the client did not report the consistency check: $report"

# 3. Refusals: the header decides.
expect_refused "Go client with another tenant's X-Module-ID" "403" -vkey "$vkey" -url "$base" -header "X-Module-ID: beta"
expect_refused "Go client with a malformed X-Module-ID" "400" -vkey "$vkey" -url "$base" -header "X-Module-ID: ../acme"
expect_refused "Go client without X-Module-ID" "400" -vkey "$vkey" -url "$base"
other_vkey=$("$LEDGERFS" init "$shm/other" --origin interop.example.com/acme --key "$work/other.key" 2>/dev/null | tail -n 1)
[ -n "$other_vkey" ] && [ "$other_vkey" != "$vkey" ] || fail "second ledgerfs init gave no new key"
expect_refused "Go client with another key of the same name" "checkpoint" -vkey "$other_vkey" -url "$base" -header "X-Module-ID: $tenant"

expect_size 620 "the Go client's reads"
verify_store "$store" 620
stop_serve
verify_store "$store" 620
echo "http_interop: OK in $((($(date +%s%N) - t_start) / 1000000)) ms"
