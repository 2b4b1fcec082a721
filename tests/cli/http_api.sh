#!/usr/bin/env bash
# The HTTP API of one tenant (docs/http.md, PRODUCT §6), route by route with curl (and raw sockets
# for what curl cannot send), against `ledgerfs serve`:
# - GET /checkpoint: Content-Type, Cache-Control, ETag (quoted SHA-256 of the body), 304 on
#   If-None-Match, HEAD, the store's file byte for byte;
# - every full and partial tile and bundle: byte-identical to the store's file (cmp), Content-Type,
#   immutable or max-age=60 caching, ETag, 304; a partial whose full tile exists is the prefix of
#   the full tile; unpublished and malformed tile names are 404;
# - POST /records/<path>: 201 with exactly {index, path, received, sha256, size}, sha256 =
#   sha256sum of the body, Location; chunked; empty (Content-Length: 0); percent-decoding; implied
#   folders are no records; 409 for a taken path, an implied folder and a file-as-folder; 411;
#   413 at --max-body + 1 (Content-Length, answered before the body; chunked) and 201 at exactly
#   --max-body; path length limits at the boundary (4,096 / 255 accepted, 4,097 / 256 refused);
# - GET /records?since&limit: every page walked and equal to `ledgerfs log --json`, next/size,
#   the default and the clamp of limit, since=size, since beyond size 404;
# - GET /records/<path>: content (cmp), ETag, Repr-Digest, X-Record-Index, Cache-Control, HEAD,
#   Range 206 (first, open-ended, suffix), 416, 304; a folder, a name being written, no name: 404;
# - proofs: inclusion and consistency proofs checked by an independent RFC 9162 implementation in
#   Python against the roots recomputed from the bundles served, and equal to `ledgerfs prove`;
#   consistency from every size of the right-edge tile and from a size no checkpoint ever had
#   (the publisher batches, so such sizes have no partial tile file); size/to other than the
#   checkpoint's 404, index beyond 404, from=0 400, a missing index/from 400;
# - refusals: X-Module-ID missing / malformed / another tenant (400/400/403) on every route and
#   method, checked before route, method and query; bad record paths (.., ., //, leading /,
#   trailing /, %00, bad escapes, invalid UTF-8, 4,097 bytes, a 256-byte component) 400 for GET and
#   POST; unknown routes 404; wrong methods 405 with Allow; bad queries 400; a POST refused by 403
#   creates nothing even on a fresh name;
# - uploads cut short: a client that goes away mid-body (Content-Length and chunked) and a body
#   shorter than its Content-Length leave no record and free the name; while an upload is in
#   flight its name is 404 for GET and 409 for another POST;
# - a second daemon with --tenant and a long --checkpoint-delay: entries not yet covered by the
#   checkpoint are listed by GET /records, their inclusion proof is 503 + Retry-After: 1 after
#   5 s (a 60 s checkpoint delay); SIGTERM lets an upload in flight finish, exits 0 and publishes a checkpoint covering it;
#   serve on a busy port exits 1 naming the address and releases the store; --listen PORT listens
#   on 127.0.0.1 only, [::1]:0 and unix:/path serve too;
# - the daemon logs refusals at warning level with the remote address, and each record made.
# After every refused request the committed size is unchanged; `ledgerfs verify` passes at several
# points and at the end.
# Needs: LEDGERFS (the binary), curl, python3, sha256sum, cmp, ss (iproute2).
set -euo pipefail

: "${LEDGERFS:?set LEDGERFS to the ledgerfs binary}"
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/http.sh"
shm=""
helper_pids=()
on_exit() {
  local p
  for p in "${helper_pids[@]+"${helper_pids[@]}"}"; do kill -9 "$p" 2>/dev/null || true; done
  serve_cleanup
  if [ -n "$shm" ]; then rm -rf "$shm"; fi
}
t_start=$(date +%s%N)

export LEDGERFS_KEY_DIR="$work/keys"
# Every POST fsyncs: keep the store in memory (the filesystem does not matter here).
shm=$(mktemp -d -p /dev/shm ledgerfs-http-api.XXXXXX)
store="$shm/acme"  # the tenant is the folder's name by default
origin="test.example/acme"
vkey=$("$LEDGERFS" init "$store" --origin "$origin" 2>"$work/init.err") || { cat "$work/init.err" >&2; fail "ledgerfs init"; }
tenant=acme
max_body=65536
start_serve "$store" --max-body 64K --checkpoint-delay 200
echo "serving $base (pid $serve_pid)"
size=0  # the committed size, as this test expects it

# --- helpers -------------------------------------------------------------------------------------
# refused STATUS WHAT METHOD PATH [curl options]: a request as $tenant is refused with STATUS and
# the JSON error body, and the log did not grow (checked by the same curl, right after).
refused() {
  local st=$1 what=$2
  shift 2
  refused_as "$st" "$tenant" "$what" "$@"
}
# refused_as STATUS ID WHAT METHOD PATH [curl options]: the same, with X-Module-ID ID.
refused_as() {
  local st=$1 id=$2 what=$3 body=""
  shift 3
  size_check=$size
  req_as "$id" "$@"
  size_check=""
  if [ "$1" = HEAD ]; then want "$st" "$what"; else want_error "$st" "$what"; fi
  IFS= read -r -d '' body <"$work/size.b" || true
  [ "$size_status" = 200 ] || fail "$what: then GET /records?since=$size answered $size_status (${body:0:200})"
  size_page_is "$size" "$body" "$what"
}
# etag_of_body: the strong ETag the contract gives a body: its quoted SHA-256 hex.
etag_of_body() { printf '"%s"' "$(sha256sum <"$work/b" | cut -c1-64)"; }
want_etag() {
  local got want
  got=$(hdr ETag)
  want=$(etag_of_body)
  [ "$got" = "$want" ] || { show_response; fail "$1: ETag '$got', want the quoted SHA-256 of the body $want"; }
}
# post PATH FILE [curl options]: POST FILE as record PATH, which must succeed (201); checks the
# reply against FILE and appends it to $work/posted.jsonl. Sets $posted_index.
post() {
  local path=$1 file=$2
  shift 2
  local t0
  t0=$(date +%s%3N)
  req POST "/records/$path" --data-binary "@$file" "$@"
  want 201 "POST /records/$path"
  python3 - "$work/b" "$file" "$size" "$t0" "$(date +%s%3N)" <<'EOF' >>"$work/posted.jsonl" || { show_response; fail "POST /records/$path: the 201 body"; }
import datetime, hashlib, json, re, sys
body, src, index, t0, t1 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
r = json.load(open(body, "rb"))
data = open(src, "rb").read()
assert sorted(r) == ["index", "path", "received", "sha256", "size"], ("fields", sorted(r))
assert r["index"] == index, ("index", r["index"], "want", index)
assert r["size"] == len(data), ("size", r["size"], len(data))
assert r["sha256"] == hashlib.sha256(data).hexdigest(), ("sha256", r["sha256"])
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["received"]), r["received"]
t = datetime.datetime.strptime(r["received"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
ms = t.timestamp() * 1000
assert t0 - 1000 <= ms <= t1 + 1000, ("received is not the time of the request", r["received"])
print(json.dumps(r))
EOF
  posted_index=$(json_field index)
  local sum
  sum=$(sha256sum <"$file" | cut -c1-64)
  [ "$(json_field sha256)" = "$sum" ] || fail "POST /records/$path: sha256 is not sha256sum of the body ($sum)"
  case $(hdr Content-Type) in application/json*) ;; *) fail "POST /records/$path: 201 with Content-Type '$(hdr Content-Type)'" ;; esac
  size=$((size + 1))
}
# raw_http PYTHON [ARGS...]: runs a python snippet with httpc imported and `base`, `tenant`
# defined; ARGS are sys.argv[3:].
raw_http() {
  python3 -c "import sys, time, socket, json, httpc; base, tenant = sys.argv[1], sys.argv[2]
$1" "$base" "$tenant" "${@:2}"
}
# wait_name_free PATH FILE: POSTs FILE as PATH until it is not 409 (the daemon may take a moment to
# notice a client went away), at most 5 s; it must then be 201.
wait_name_free() {
  local i
  for i in $(seq 1 50); do
    req POST "/records/$1" --data-binary "@$2"
    [ "$status" = 409 ] || break
    sleep 0.1
  done
  want 201 "POST /records/$1 after the earlier upload of that name was cut short (the name must be free again)"
  size=$((size + 1))
}

: >"$work/posted.jsonl"
head -c 48213 /dev/urandom >"$work/invoice.pdf"
head -c 5000 /dev/urandom >"$work/small.bin"
printf 'hello\n' >"$work/hello.txt"
: >"$work/empty"

# --- an empty log ----------------------------------------------------------------------------------
section "an empty log"
req GET /checkpoint
want 200 "GET /checkpoint (empty log)"
[ "$(sed -n 2p "$work/b")" = 0 ] || fail "the empty log's checkpoint: $(cat "$work/b")"
req GET /records
want 200 "GET /records (empty log)"
python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert p == {"entries": [], "next": 0, "size": 0}, p' "$work/b" ||
  fail "GET /records of the empty log: $(cat "$work/b")"
refused 404 "GET /records?since=1 (beyond the empty log)" GET '/records?since=1'
refused 404 "inclusion proof in the empty log" GET '/proof/inclusion?index=0'
refused 404 "consistency proof in the empty log" GET '/proof/consistency?from=1'
refused 404 "tile/0/000.p/1 of the empty log" GET /tile/0/000.p/1

# --- POST /records/<path> ----------------------------------------------------------------------------
section "POST /records/<path>"
post invoices/2026/0042.pdf "$work/invoice.pdf"
want_header Location /records/invoices/2026/0042.pdf "POST /records/invoices/2026/0042.pdf"
invoice_index=$posted_index
[ "$invoice_index" = 0 ] || fail "the first record has index $invoice_index"
expect_size 1 "POST of invoices/2026/0042.pdf (folders it implies are not records)"
post chunked.bin "$work/small.bin" -H 'Transfer-Encoding: chunked'
post empty.txt "$work/empty"
[ "$(json_field sha256)" = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ] || fail "empty record's sha256"
[ "$(json_field size)" = 0 ] || fail "empty record's size"
# An explicit Content-Length: 0 over a raw socket.
raw_http '
s = httpc.connect(base)
s.sendall(httpc.head("POST", "/records/empty-raw", tenant, ["Content-Length: 0"]))
st, h, b = httpc.read_response(s)
assert st == 201, (st, b)
r = json.loads(b)
assert r["size"] == 0 and r["path"] == "empty-raw", r
' || fail "POST with Content-Length: 0"
size=$((size + 1))
# Percent-decoding once: %20, %2F (a folder separator), UTF-8; "+" stays "+".
post 'a%20b.txt' "$work/hello.txt"
[ "$(json_field path)" = "a b.txt" ] || fail "a%20b.txt was recorded as '$(json_field path)'"
post 'x%2Fy.txt' "$work/hello.txt"
[ "$(json_field path)" = "x/y.txt" ] || fail "x%2Fy.txt was recorded as '$(json_field path)'"
post 'caf%C3%A9+1' "$work/hello.txt"
[ "$(json_field path)" = "café+1" ] || fail "caf%C3%A9+1 was recorded as '$(json_field path)'"
req GET '/records/x/y.txt'
want 200 "GET /records/x/y.txt (posted as x%2Fy.txt)"
req GET '/records/a%20b.txt'
want 200 "GET /records/a%20b.txt"
req GET "/records/caf%C3%A9+1"
want 200 "GET /records/caf%C3%A9+1"
cmp -s "$work/b" "$work/hello.txt" || fail "GET /records/caf%C3%A9+1 content"

# 411: a POST with neither Content-Length nor chunked encoding.
raw_http '
s = httpc.connect(base)
s.sendall(httpc.head("POST", "/records/no-length", tenant))
st, h, b = httpc.read_response(s, timeout=10)
assert st == 411, (st, b)
assert h.get("content-type", "").startswith("application/json"), h
assert json.loads(b)["status"] == 411, b
' || fail "POST without Content-Length or chunked encoding: want 411"
expect_size "$size" "POST without a length"
refused 404 "GET of the name a 411 refused" GET /records/no-length

# 409: a taken path (the record stays), an implied folder, a file where a folder is needed.
refused 409 "POST onto an existing record" POST /records/invoices/2026/0042.pdf --data-binary @"$work/small.bin"
req GET /records/invoices/2026/0042.pdf
want 200 "GET the record after a 409"
cmp -s "$work/b" "$work/invoice.pdf" || fail "a 409 changed the record"
refused 409 "POST onto an implied folder (invoices)" POST /records/invoices --data-binary @"$work/small.bin"
refused 409 "POST onto an implied folder (invoices/2026)" POST /records/invoices/2026 --data-binary @"$work/small.bin"
refused 409 "POST below a file (file as folder)" POST /records/invoices/2026/0042.pdf/x --data-binary @"$work/small.bin"
refused 409 "POST below a file, deeper" POST /records/empty.txt/a/b --data-binary @"$work/small.bin"
refused 409 "POST onto a taken path, chunked" POST /records/chunked.bin --data-binary @"$work/small.bin" -H 'Transfer-Encoding: chunked'

# Record path limits at the boundary: 255-byte component and 4,096-byte path are accepted.
c255=$(printf 'c%.0s' $(seq 1 255))
c240=$(printf 'p%.0s' $(seq 1 240))
path4096=$(printf "$c240/%.0s" $(seq 1 16))$c240
[ ${#path4096} = 4096 ] || fail "test bug: path4096 has ${#path4096} bytes"
post "limits/$c255" "$work/hello.txt"
post "$path4096" "$work/hello.txt"
[ "$(json_field path)" = "$path4096" ] || fail "the 4,096-byte path came back different"

# --max-body 64K: exactly 65,536 bytes is accepted, with Content-Length and chunked.
head -c $max_body /dev/urandom >"$work/max.bin"
head -c $((max_body + 1)) /dev/urandom >"$work/over.bin"
post max-cl.bin "$work/max.bin"
post max-chunked.bin "$work/max.bin" -H 'Transfer-Encoding: chunked'
# One byte over, Content-Length: 413 before any of the body is read (only the head is sent).
raw_http '
for length in (65537, 10 << 30):
    s = httpc.connect(base)
    s.sendall(httpc.head("POST", "/records/over-cl-%d" % length, tenant, ["Content-Length: %d" % length]))
    t0 = time.monotonic()
    st, h, b = httpc.read_response(s, timeout=10)
    assert st == 413, (length, st, b)
    assert json.loads(b)["status"] == 413, b
    assert time.monotonic() - t0 < 5, "413 came only after %.1f s" % (time.monotonic() - t0)
    s.close()
' || fail "POST with Content-Length over --max-body: want 413 before the body is sent"
expect_size "$size" "POST with Content-Length over --max-body"
refused 404 "GET of a name refused with 413" GET /records/over-cl-65537
# One byte over, chunked: counted as it arrives.
raw_http '
data = open(sys.argv[3], "rb").read()
s = httpc.connect(base)
s.sendall(httpc.head("POST", "/records/over-chunked", tenant, ["Transfer-Encoding: chunked"]))
try:
    for i in range(0, len(data), 16384):
        s.sendall(httpc.chunk(data[i:i + 16384]))
    s.sendall(b"0\r\n\r\n")
except (BrokenPipeError, ConnectionResetError):
    pass  # the daemon may answer and close before the last chunk
st, h, b = httpc.read_response(s, timeout=10)
assert st == 413, (st, b)
' "$work/over.bin" || fail "a chunked POST over --max-body: want 413"
expect_size "$size" "chunked POST over --max-body"
refused 404 "GET of a chunked upload refused with 413" GET /records/over-chunked
post over-chunked "$work/hello.txt"  # the name is free again
verify_store "$store"

# start_slow_post NAME PAUSE: a raw-socket POST of /records/NAME (2,000 bytes: 1,000 "a" then
# 1,000 "b") that sends its first half and waits; returns once that half is sent, so the upload
# is in flight. finish_slow_post WHO lets it send the rest PAUSE seconds later and reads the
# answer into $slow_status and $slow_body (WHO names the uploader if it fails).
start_slow_post() {
  rm -f "$work/slow.go" "$work/slow.sent" "$work/slow.result"
  python3 - "$base" "$tenant" "$work/slow.go" "$work/slow.sent" "$work/slow.result" "$1" "$2" <<'EOF' &
import os, sys, time, httpc
base, tenant, go, sent, result, name, pause = sys.argv[1:8]
s = httpc.connect(base)
s.sendall(httpc.head("POST", "/records/" + name, tenant, ["Content-Length: 2000"]) + b"a" * 1000)
open(sent, "w").close()
while not os.path.exists(go):
    time.sleep(0.01)
time.sleep(float(pause))
s.sendall(b"b" * 1000)
st, h, b = httpc.read_response(s)
open(result, "w").write("%s %s\n" % (st, b.decode(errors="replace").replace("\n", " ")))
EOF
  slow_pid=$!
  helper_pids+=("$slow_pid")
  local i
  for i in $(seq 1 100); do [ -e "$work/slow.sent" ] && break; sleep 0.05; done
  sleep 0.2
}
finish_slow_post() {
  touch "$work/slow.go"
  wait "$slow_pid" || fail "$1 failed"
  helper_pids=()
  read -r slow_status slow_body <"$work/slow.result"
}

# --- uploads in flight and uploads cut short -----------------------------------------------------
section "uploads in flight and uploads cut short"
# An upload in flight holds its name: GET is 404 and another POST is 409; then it completes (201).
start_slow_post slow.bin 0
refused 404 "GET of a name whose upload is in flight" GET /records/slow.bin
refused 409 "POST of a name whose upload is in flight" POST /records/slow.bin --data-binary @"$work/hello.txt"
finish_slow_post "the slow uploader"
[ "$slow_status" = 201 ] || fail "the slow upload ended with $slow_status $slow_body"
size=$((size + 1))
req GET /records/slow.bin
want 200 "GET /records/slow.bin"
[ "$(cat "$work/b")" = "$(head -c 1000 /dev/zero | tr '\0' a)$(head -c 1000 /dev/zero | tr '\0' b)" ] || fail "slow.bin content"

# A client that goes away mid-body (Content-Length 1,000,000, 1,000 bytes sent): no record, and the
# name is free again.
raw_http '
s = httpc.connect(base)
s.sendall(httpc.head("POST", "/records/gone.bin", tenant, ["Content-Length: 1000000"]) + b"x" * 1000)
time.sleep(0.2)
s.close()
' || fail "the disconnecting client failed"
sleep 0.3
expect_size "$size" "an upload whose client went away"
refused 404 "GET of an upload whose client went away" GET /records/gone.bin
wait_name_free gone.bin "$work/small.bin"
# The same with a chunked body.
raw_http '
s = httpc.connect(base)
s.sendall(httpc.head("POST", "/records/gone-chunked.bin", tenant, ["Transfer-Encoding: chunked"]) + httpc.chunk(b"y" * 1000))
time.sleep(0.2)
s.close()
' || fail "the disconnecting chunked client failed"
sleep 0.3
expect_size "$size" "a chunked upload whose client went away"
refused 404 "GET of a chunked upload whose client went away" GET /records/gone-chunked.bin
wait_name_free gone-chunked.bin "$work/small.bin"
# A body shorter than its Content-Length (the client half-closes and waits for the answer): no
# record, the name is free again, and (checked at the very end) the answer is not a success.
raw_http '
s = httpc.connect(base)
s.sendall(httpc.head("POST", "/records/short.bin", tenant, ["Content-Length: 5000"]) + b"z" * 100)
s.shutdown(socket.SHUT_WR)
st, h, b = httpc.read_response(s, timeout=10)
print("a body shorter than its Content-Length: status %s %r" % (st, b[:200]))
open(sys.argv[3], "w").write("%s\n" % st)
' "$work/short.status" || fail "the half-closing client failed"
expect_size "$size" "a body shorter than its Content-Length"
refused 404 "GET of a body shorter than its Content-Length" GET /records/short.bin
wait_name_free short.bin "$work/small.bin"

# --- many records: full tiles, bundles and partials ----------------------------------------------
section "many records: full tiles, bundles and partials"
# Save the checkpoint at this size for the consistency proof.
wait_checkpoint "$store" "$size"
cp "$store/checkpoint" "$work/checkpoint.old"

bulk=$((1030 - size))
python3 - "$base" "$tenant" "$bulk" "$size" <<'EOF' >>"$work/posted.jsonl" || fail "bulk POSTs"
import hashlib, json, sys, httpc
base, tenant, n, first = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
p = httpc.Poster(base, tenant)
for i in range(n):
    data = (b"bulk record %d\n" % i) * (i % 23)
    st, r, body = p.post("bulk/r%04d" % i, data)
    assert st == 201, (i, st, body)
    assert body["index"] == first + i, (i, body)
    assert body["sha256"] == hashlib.sha256(data).hexdigest() and body["size"] == len(data), body
    assert r.getheader("Location") == "/records/bulk/r%04d" % i, r.getheader("Location")
    print(json.dumps(body))
p.close()
EOF
size=1030
expect_size "$size" "after the bulk POSTs"
wait_checkpoint "$store" "$size"
verify_store "$store" "$size"

# --- GET /records pages --------------------------------------------------------------------------
section "GET /records pages"
python3 - "$base" "$tenant" "$LEDGERFS" "$store" "$size" "$work/posted.jsonl" <<'EOF' || fail "GET /records pages"
import json, subprocess, sys, urllib.request
from ledger_log import read_log
base, tenant, ledgerfs, store, size, posted = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
def get(q):
    req = urllib.request.Request(base + "/records" + q, headers={"X-Module-ID": tenant})
    with urllib.request.urlopen(req) as r:
        assert r.status == 200, (q, r.status)
        assert r.headers["Content-Type"].startswith("application/json"), r.headers["Content-Type"]
        return json.load(r)
# Walk every page with an odd limit.
entries, since = [], 0
while True:
    page = get("?since=%d&limit=97" % since)
    assert sorted(page) == ["entries", "next", "size"], sorted(page)
    assert page["size"] == size, page["size"]
    assert page["next"] == since + len(page["entries"]), (since, page["next"], len(page["entries"]))
    assert len(page["entries"]) == min(97, size - since), (since, len(page["entries"]))
    entries += page["entries"]
    if page["next"] == page["size"]:
        break
    since = page["next"]
assert [e["index"] for e in entries] == list(range(size)), "indices are not 0..size-1"
# The same JSON as `ledgerfs log --json`, page by page too.
cli, cli_size = read_log(ledgerfs, store, 97)
assert cli_size == size, cli_size
assert cli == entries, [(a, b) for a, b in zip(cli, entries) if a != b][:3]
for q in ("?since=100&limit=50", "?since=0", "?limit=7"):
    s = int(q.split("since=")[1].split("&")[0]) if "since=" in q else 0
    l = int(q.split("limit=")[1]) if "limit=" in q else 100
    want = json.loads(subprocess.run([ledgerfs, "log", store, "--since", str(s), "--limit", str(l), "--json"],
                                     check=True, capture_output=True).stdout)
    assert get(q) == want, q
# Defaults: since 0, limit 100; a limit over 1,000 is cut to 1,000; since = size is an empty page.
p = get("")
assert len(p["entries"]) == 100 and p["next"] == 100 and p["entries"][0]["index"] == 0, p["next"]
p = get("?limit=5000")
assert len(p["entries"]) == 1000 and p["next"] == 1000, (len(p["entries"]), p["next"])
p = get("?since=1&limit=1000")
assert len(p["entries"]) == 1000 and p["next"] == 1001, (len(p["entries"]), p["next"])
p = get("?since=%d" % size)
assert p == {"entries": [], "next": size, "size": size}, p
p = get("?since=%d&limit=1000" % (size - 3))
assert len(p["entries"]) == 3 and p["next"] == size, p["next"]
# Every POST's 201 body is its log entry.
for line in open(posted):
    r = json.loads(line)
    e = entries[r["index"]]
    assert e == dict(r, kind="file"), (e, r)
EOF
refused 404 "GET /records?since=size+1" GET "/records?since=$((size + 1))"
refused 404 "GET /records?since=2^64-1" GET '/records?since=18446744073709551615'

# --- GET /checkpoint ----------------------------------------------------------------------------
section "GET /checkpoint"
req GET /checkpoint
want 200 "GET /checkpoint"
cmp -s "$work/b" "$store/checkpoint" || fail "GET /checkpoint differs from the store's checkpoint"
want_header Content-Type 'text/plain; charset=utf-8' "GET /checkpoint"
want_header Cache-Control 'public, max-age=1' "GET /checkpoint"
want_etag "GET /checkpoint"
cp_etag=$(hdr ETag)
req GET /checkpoint -H "If-None-Match: $cp_etag"
want 304 "GET /checkpoint with If-None-Match: its ETag"
[ ! -s "$work/b" ] || fail "a 304 with a body"
req GET /checkpoint -H 'If-None-Match: "0000"'
want 200 "GET /checkpoint with a stale If-None-Match"
req HEAD /checkpoint
want 200 "HEAD /checkpoint"
[ ! -s "$work/b" ] || fail "HEAD /checkpoint sent a body"
want_header ETag "$cp_etag" "HEAD /checkpoint"
want_header Content-Length "$(wc -c <"$store/checkpoint")" "HEAD /checkpoint"

# --- tiles and bundles -----------------------------------------------------------------------------
section "tiles and bundles"
# 1030 entries: tile/0/000..003 and tile/entries/000..003 full; tile/0/004.p/6,
# tile/entries/004.p/6 and tile/1/000.p/4 partial.
for f in tile/0/000 tile/0/003 tile/entries/000 tile/entries/003 tile/0/004.p/6 tile/entries/004.p/6 tile/1/000.p/4; do
  [ -f "$store/$f" ] || fail "test bug: the store has no $f at size $size"
done
ntiles=0
while IFS= read -r f; do
  req GET "/$f"
  want 200 "GET /$f"
  cmp -s "$work/b" "$store/$f" || fail "GET /$f differs from the store's $f"
  want_header Content-Type application/octet-stream "GET /$f"
  want_etag "GET /$f"
  case $f in
    *.p/*) want_header Cache-Control 'public, max-age=60' "GET /$f (partial)" ;;
    *) want_header Cache-Control 'public, max-age=31536000, immutable' "GET /$f (full)" ;;
  esac
  ntiles=$((ntiles + 1))
done < <(cd "$store" && find tile -type f | sort)
echo "$ntiles tile files served byte for byte"
req GET /tile/0/001 -H "If-None-Match: $(printf '"%s"' "$(sha256sum <"$store/tile/0/001" | cut -c1-64)")"
want 304 "GET /tile/0/001 with If-None-Match"
req HEAD /tile/entries/002
want 200 "HEAD /tile/entries/002"
want_header Content-Length "$(wc -c <"$store/tile/entries/002")" "HEAD /tile/entries/002"
# Partials whose full tile exists are the prefix of the full tile.
python3 - "$base" "$tenant" "$store" <<'EOF' || fail "partial tiles served from their full tile"
import hashlib, sys, urllib.request, httpc
base, tenant, store = sys.argv[1:4]
def get(path):
    req = urllib.request.Request(base + path, headers={"X-Module-ID": tenant})
    with urllib.request.urlopen(req) as r:
        body = r.read()
        assert r.status == 200, (path, r.status)
        assert r.headers["Cache-Control"] == "public, max-age=60", (path, r.headers["Cache-Control"])
        assert r.headers["ETag"] == '"%s"' % hashlib.sha256(body).hexdigest(), (path, r.headers["ETag"])
        return body
for n in (0, 2, 3):
    full = open("%s/tile/0/%03d" % (store, n), "rb").read()
    bundle = httpc.parse_bundle(open("%s/tile/entries/%03d" % (store, n), "rb").read())
    for w in (1, 5, 128, 255):
        assert get("/tile/0/%03d.p/%d" % (n, w)) == full[:32 * w], ("tile/0", n, w)
        got = get("/tile/entries/%03d.p/%d" % (n, w))
        assert httpc.parse_bundle(got) == bundle[:w], ("tile/entries", n, w)
EOF
# Unpublished tiles and malformed tile names are 404.
for p in /tile/0/005 /tile/0/004 /tile/entries/004 /tile/entries/005 /tile/0/004.p/7 /tile/0/004.p/200 \
  /tile/entries/004.p/7 /tile/1/000 /tile/1/000.p/5 /tile/2/000 /tile/2/000.p/1 /tile/0/x001/000 \
  /tile/0/0 /tile/0/00 /tile/0/0000 /tile/0/000.p/0 /tile/0/000.p/256 /tile/0/000.p/ /tile/0/000.p/05 \
  /tile/0/000.p /tile/64/000 /tile/x/000 /tile/-1/000 /tile/00/000 /tile/0/000/ /tile/0 /tile/ /tile \
  /tile/entries /tile/entries/ /tile/0/x000/001; do
  refused 404 "GET $p" GET "$p"
done

# --- GET /records/<path> ---------------------------------------------------------------------------
section "GET /records/<path>"
p=invoices/2026/0042.pdf
sum=$(sha256sum <"$work/invoice.pdf" | cut -c1-64)
req GET "/records/$p"
want 200 "GET /records/$p"
cmp -s "$work/b" "$work/invoice.pdf" || fail "GET /records/$p content"
want_header Content-Type application/octet-stream "GET /records/$p"
want_header ETag "\"$sum\"" "GET /records/$p"
want_header Repr-Digest "sha-256=:$(python3 -c 'import base64,hashlib,sys; print(base64.b64encode(hashlib.sha256(open(sys.argv[1],"rb").read()).digest()).decode())' "$work/invoice.pdf"):" "GET /records/$p"
want_header X-Record-Index "$invoice_index" "GET /records/$p"
want_header Cache-Control 'public, max-age=31536000, immutable' "GET /records/$p"
req HEAD "/records/$p"
want 200 "HEAD /records/$p"
[ ! -s "$work/b" ] || fail "HEAD /records/$p sent a body"
want_header Content-Length 48213 "HEAD /records/$p"
want_header ETag "\"$sum\"" "HEAD /records/$p"
req GET "/records/$p" -H "If-None-Match: \"$sum\""
want 304 "GET /records/$p with If-None-Match"
req GET "/records/$p" -r 0-99
want 206 "GET /records/$p Range: bytes=0-99"
[ "$(wc -c <"$work/b")" = 100 ] || fail "Range 0-99 gave $(wc -c <"$work/b") bytes"
cmp -s "$work/b" <(head -c 100 "$work/invoice.pdf") || fail "Range 0-99: wrong bytes"
want_header Content-Range 'bytes 0-99/48213' "Range 0-99"
req GET "/records/$p" -r 40000-
want 206 "GET /records/$p Range: bytes=40000-"
cmp -s "$work/b" <(tail -c +40001 "$work/invoice.pdf") || fail "Range 40000-: wrong bytes"
req GET "/records/$p" -r -50
want 206 "GET /records/$p Range: bytes=-50"
cmp -s "$work/b" <(tail -c 50 "$work/invoice.pdf") || fail "Range -50: wrong bytes"
req GET "/records/$p" -r 48212-48212
want 206 "GET /records/$p Range: bytes=48212-48212"
cmp -s "$work/b" <(tail -c 1 "$work/invoice.pdf") || fail "Range of the last byte: wrong bytes"
refused 416 "Range beyond the end" GET "/records/$p" -r 48213-
refused 416 "Range far beyond the end" GET "/records/$p" -r 100000-200000
refused 416 "Range of an empty record" GET /records/empty.txt -r 0-0
req GET /records/empty.txt
want 200 "GET /records/empty.txt"
[ ! -s "$work/b" ] || fail "the empty record has content"
want_header ETag '"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"' "GET /records/empty.txt"
req GET "/records/limits/$c255"
want 200 "GET of the 255-byte name"
req GET "/records/$path4096"
want 200 "GET of the 4,096-byte path"
refused 404 "GET of an implied folder" GET /records/invoices
refused 404 "GET of an implied folder (deeper)" GET /records/invoices/2026
refused 404 "GET of no such record" GET /records/invoices/2026/0043.pdf
refused 404 "GET below a file" GET /records/invoices/2026/0042.pdf/x
# Spot-check bulk records by name against the 201 bodies.
python3 - "$base" "$tenant" "$work/posted.jsonl" <<'EOF' || fail "records by name"
import base64, hashlib, json, sys, urllib.parse, httpc
base, tenant, posted = sys.argv[1:4]
p = httpc.Poster(base, tenant)
for line in list(open(posted))[::37]:
    r = json.loads(line)
    st, resp, body = p.request("GET", "/records/" + urllib.parse.quote(r["path"]))
    assert st == 200, (r, st)
    assert hashlib.sha256(body).hexdigest() == r["sha256"] and len(body) == r["size"], r
    assert resp.getheader("ETag") == '"%s"' % r["sha256"], resp.getheader("ETag")
    assert resp.getheader("X-Record-Index") == str(r["index"]), (resp.getheader("X-Record-Index"), r)
    assert resp.getheader("Repr-Digest") == "sha-256=:%s:" % base64.b64encode(hashlib.sha256(body).digest()).decode()
EOF

# --- proofs ---------------------------------------------------------------------------------------
section "proofs"
# proofs.py BASE TENANT LEDGERFS STORE SIZE OLD_CHECKPOINT INDICES FROMS: inclusion proofs of
# INDICES and consistency proofs from FROMS (comma-separated) checked by an independent RFC 9162
# implementation against roots recomputed from the bundles served, and equal to `ledgerfs prove`.
cat >"$work/proofs.py" <<'EOF'
import base64, subprocess, sys, urllib.request, urllib.error, httpc
base, tenant, ledgerfs, store, size, old_file = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
indices = [int(x) for x in sys.argv[7].split(",")]
froms = [int(x) for x in sys.argv[8].split(",")]
def get(path):
    req = urllib.request.Request(base + path, headers={"X-Module-ID": tenant})
    with urllib.request.urlopen(req) as r:
        assert r.status == 200, (path, r.status)
        return r.read(), r.headers
checkpoint, _ = get("/checkpoint")
origin, cp_size, root = httpc.parse_checkpoint(checkpoint)
assert cp_size == size, cp_size
# Every leaf, from the bundles served; the root recomputed from them is the checkpoint's.
entries = []
for n in range((size + 255) // 256):
    w = min(256, size - 256 * n)
    path = "/tile/entries/" + httpc.tile_index_path(n) + ("" if w == 256 else ".p/%d" % w)
    entries += httpc.parse_bundle(get(path)[0])
assert len(entries) == size, len(entries)
leaves = [httpc.leaf_hash(e) for e in entries]
assert httpc.mth(leaves) == root, "the root of the bundles served is not the checkpoint's"
def parse_proof(text, header):
    head, _, note = text.partition(b"\n\n")
    lines = head.decode().split("\n")
    assert lines[0] == header, lines[0]
    return lines[1:], note
for i in indices:
    body, h = get("/proof/inclusion?index=%d" % i)
    assert h["Content-Type"] == "text/plain; charset=utf-8", h["Content-Type"]
    lines, note = parse_proof(body, "c2sp.org/tlog-proof@v1")
    if lines[0].startswith("extra "):
        lines = lines[1:]
    assert lines[0] == "index %d" % i, lines[0]
    proof = [base64.b64decode(l, validate=True) for l in lines[1:]]
    assert all(len(p) == 32 for p in proof), "hash length"
    assert note == checkpoint, "the proof's checkpoint is not GET /checkpoint"
    assert httpc.verify_inclusion(i, size, leaves[i], proof, root), "inclusion proof of %d does not verify" % i
    assert not httpc.verify_inclusion(i, size, leaves[(i + 1) % size], proof, root), "the proof also proves another leaf"
    cli = subprocess.run([ledgerfs, "prove", store, "--index", str(i)], check=True, capture_output=True).stdout
    assert cli == body, ("GET /proof/inclusion?index=%d differs from ledgerfs prove" % i, cli[:200], body[:200])
    body2, _ = get("/proof/inclusion?index=%d&size=%d" % (i, size))
    assert body2 == body, "size=<checkpoint size> gives another proof"
# Consistency from the saved older checkpoint, and from several sizes against the recomputed roots.
old = open(old_file, "rb").read()
_, old_size, old_root = httpc.parse_checkpoint(old)
assert httpc.mth(leaves[:old_size]) == old_root, "the old checkpoint's root is not that of the first entries"
for m in sorted(set(froms) | {old_size}):
    try:
        body, h = get("/proof/consistency?from=%d" % m)
    except urllib.error.HTTPError as e:
        sys.exit("GET /proof/consistency?from=%d (tree size %d): %s %s" % (m, size, e.code, e.read()[:300]))
    assert h["Content-Type"] == "text/plain; charset=utf-8", h["Content-Type"]
    lines, note = parse_proof(body, "c2sp.org/tlog-consistency@v1")
    assert lines[0] == "old %d" % m, lines[0]
    proof = [base64.b64decode(l, validate=True) for l in lines[1:]]
    assert note == checkpoint, "the consistency proof's checkpoint is not GET /checkpoint"
    assert httpc.verify_consistency(m, size, httpc.mth(leaves[:m]), root, proof), "consistency %d -> %d" % (m, size)
    if m > 1:
        assert not httpc.verify_consistency(m, size, httpc.mth(leaves[:m - 1]), root, proof)
    cli = subprocess.run([ledgerfs, "prove", store, "--index", "0", "--since", str(m)], check=True, capture_output=True).stdout
    assert cli.endswith(b"\n\n" + body), "GET /proof/consistency?from=%d is not the consistency part of ledgerfs prove --since" % m
    body2, _ = get("/proof/consistency?from=%d&to=%d" % (m, size))
    assert body2 == body, "to=<checkpoint size> gives another proof"
# Proofs against earlier sizes (size=, to=) end with the checkpoint of that size: byte for byte the
# one published then (the saved older checkpoint), or, for a size never published on its own, one
# whose root is that of the first entries.
for s_, published in ((old_size, old), ((old_size + size) // 2, None)):
    s_root = httpc.mth(leaves[:s_])
    def check_note(note, what):
        assert httpc.parse_checkpoint(note) == (origin, s_, s_root), "%s: not the checkpoint of size %d" % (what, s_)
        assert published is None or note == published, "%s: not the checkpoint published at size %d" % (what, s_)
    for i in sorted({0, s_ // 2, s_ - 1}):
        body, _ = get("/proof/inclusion?index=%d&size=%d" % (i, s_))
        lines, note = parse_proof(body, "c2sp.org/tlog-proof@v1")
        if lines[0].startswith("extra "):
            lines = lines[1:]
        assert lines[0] == "index %d" % i, lines[0]
        check_note(note, "inclusion of %d at size %d" % (i, s_))
        proof = [base64.b64decode(l, validate=True) for l in lines[1:]]
        assert httpc.verify_inclusion(i, s_, leaves[i], proof, s_root), "inclusion of %d at size %d" % (i, s_)
    for m in sorted({1, max(1, s_ // 2), max(1, s_ - 1)}):
        body, _ = get("/proof/consistency?from=%d&to=%d" % (m, s_))
        lines, note = parse_proof(body, "c2sp.org/tlog-consistency@v1")
        assert lines[0] == "old %d" % m, lines[0]
        check_note(note, "consistency %d -> %d" % (m, s_))
        proof = [base64.b64decode(l, validate=True) for l in lines[1:]]
        assert httpc.verify_consistency(m, s_, httpc.mth(leaves[:m]), s_root, proof), "consistency %d -> %d" % (m, s_)
        if m > 1:
            assert not httpc.verify_consistency(m, s_, httpc.mth(leaves[:m - 1]), s_root, proof)
    print("proofs at the earlier size %d verified" % s_)
print("%d inclusion and %d consistency proofs verified at size %d" % (len(indices), len(set(froms) | {old_size}), size))
EOF
# Every size of the right-edge tile is a "from": sizes the publisher never published on their own
# (it batches) have no partial tile file of their own.
python3 "$work/proofs.py" "$base" "$tenant" "$LEDGERFS" "$store" "$size" "$work/checkpoint.old" \
  "0,1,2,255,256,511,512,777,1023,1024,$((size - 1))" "1,2,3,256,257,700,1023,1024,$(seq -s, 1025 "$size")" ||
  fail "proofs"
refused 404 "inclusion proof at index = size" GET "/proof/inclusion?index=$size"
refused 404 "inclusion proof at index 2^64-1" GET '/proof/inclusion?index=18446744073709551615'
refused 400 "inclusion proof with a size that does not hold the index" GET "/proof/inclusion?index=5&size=5"
refused 404 "inclusion proof with size beyond the tree" GET "/proof/inclusion?index=0&size=$((size + 1))"
refused 400 "consistency proof from=0" GET '/proof/consistency?from=0'
refused 404 "consistency proof from beyond the size" GET "/proof/consistency?from=$((size + 1))"
refused 400 "consistency proof with to below from" GET "/proof/consistency?from=5&to=4"
refused 404 "consistency proof with to beyond the tree" GET "/proof/consistency?from=1&to=$((size + 1))"
refused 400 "inclusion proof without index" GET '/proof/inclusion'
refused 400 "consistency proof without from" GET '/proof/consistency'
verify_store "$store" "$size"

# --- X-Module-ID: checked first, on every route and method ------------------------------------------
section "X-Module-ID: checked first, on every route and method"
long64=$(printf 'a%.0s' $(seq 1 64))
long65=$(printf 'a%.0s' $(seq 1 65))
routes=(
  "GET /checkpoint"
  "HEAD /checkpoint"
  "GET /tile/0/000"
  "GET /tile/entries/000.p/3"
  "GET /records"
  "GET /records?since=0&limit=2"
  "GET /records/invoices/2026/0042.pdf"
  "HEAD /records/invoices/2026/0042.pdf"
  "GET /proof/inclusion?index=0"
  "GET /proof/consistency?from=1"
  "POST /records/fresh-tenant-check"
  "POST /records/invoices/2026/0042.pdf"
  "DELETE /records/invoices/2026/0042.pdf"
  "POST /checkpoint"
  "GET /no-such-route"
  "GET /records/../etc/passwd"
  "GET /records?bogus=1"
)
# Every malformed and foreign ID on a few routes (one per kind: read path, records, POST, no
# route); on every route, one of each kind.
# ("ac%6de" is not here: cpp-httplib percent-decodes header values, so it arrives as "acme";
# docs/http.md says so. "ac%6dx" decodes to another valid ID and must be 403.)
bad_ids=(- "" "../x" "$long65" "a b" ".acme" "-acme" "_acme" "acme/x" "acme:1" "acmé")
other_ids=(beta Acme ACME acme.x acme- "$long64" 0 "ac%6dx")
n_rows=0
for r in "${routes[@]}"; do
  m=${r%% *}
  p=${r#* }
  body=()
  [ "$m" = POST ] && body=(--data-binary @"$work/hello.txt")
  case $r in
    "GET /checkpoint" | "GET /records/invoices/2026/0042.pdf" | "POST /records/fresh-tenant-check" | "GET /no-such-route")
      ids400=("${bad_ids[@]}") ids403=("${other_ids[@]}") ;;
    *) ids400=(- "" "../x" "a b") ids403=(beta ACME) ;;
  esac
  for id in "${ids400[@]}"; do
    refused_as 400 "$id" "$m $p with X-Module-ID '$id' (missing or malformed)" "$m" "$p" "${body[@]+"${body[@]}"}"
    n_rows=$((n_rows + 1))
  done
  for id in "${ids403[@]}"; do
    refused_as 403 "$id" "$m $p with X-Module-ID '$id' (another tenant)" "$m" "$p" "${body[@]+"${body[@]}"}"
    n_rows=$((n_rows + 1))
  done
done
echo "$n_rows X-Module-ID refusals"
# A POST refused by 403 made nothing: the fresh name is still free.
refused 404 "GET of a name only POSTed with another tenant's X-Module-ID" GET /records/fresh-tenant-check
req GET /records/invoices/2026/0042.pdf
cmp -s "$work/b" "$work/invoice.pdf" || fail "the record changed"
post fresh-tenant-check "$work/hello.txt"
# The header name is case-insensitive (HTTP).
req_as - GET /checkpoint -H "x-module-id: $tenant"
want 200 "GET /checkpoint with the header spelled x-module-id"
# The daemon logs refusals at warning level with the remote address.
grep -qiE 'warn.*127\.0\.0\.1' "$serve_log" ||
  fail "no warning naming the remote address 127.0.0.1 in the serve log after the refusals"
grep -q 'invoices/2026/0042\.pdf' "$serve_log" || fail "the serve log does not name the record invoices/2026/0042.pdf"

# --- record paths --------------------------------------------------------------------------------
section "record paths"
c256=$(printf 'c%.0s' $(seq 1 256))
path4097=$(printf "$c240/%.0s" $(seq 1 16))q$c240
[ ${#path4097} = 4097 ] || fail "test bug: path4097 has ${#path4097} bytes"
bad_paths=(
  '..' '.' 'a/..' 'a/.' '../x' './x' 'a/../b' 'a/./b' 'hello/../../etc/passwd'
  'a//b' '/etc/passwd' '//etc/passwd' 'a/' 'a//' '%2e%2e' '%2E%2E/x' 'a/%2e' '%2e' 'a%2F%2Fb' '%2Fetc%2Fpasswd'
  'a%2F' 'a%00b' '%00' 'a%ZZ' 'a%2' 'a%' '%FF' 'a%FFb' '%C0%AF' '%C0%80' '%E0%80%AF' '%ED%A0%80'
  '%F4%90%80%80' '%C3' '%80' "$path4097" "$c256" "x/$c256" "$c256/x"
)
for bp in "${bad_paths[@]}"; do
  refused 400 "GET /records/${bp:0:40}" GET "/records/$bp"
  refused 400 "POST /records/${bp:0:40}" POST "/records/$bp" --data-binary @"$work/hello.txt"
done
# X-Module-ID is checked before the path.
for bp in '..' '/etc/passwd' 'a%00b' '%FF' "$path4097"; do
  refused_as 403 beta "POST /records/${bp:0:40} as another tenant (X-Module-ID first)" POST "/records/$bp" --data-binary @"$work/hello.txt"
  refused_as 400 "../x" "GET /records/${bp:0:40} with a malformed X-Module-ID (X-Module-ID first)" GET "/records/$bp"
done
echo "${#bad_paths[@]} bad record paths refused"
# /records/ with an empty path: no resource (404) or a bad path (400), never a record.
req POST /records/ --data-binary @"$work/hello.txt"
case $status in 400 | 404) want_error "$status" "POST /records/" ;; *) want_error 400 "POST /records/" ;; esac
expect_size "$size" "POST /records/"

# --- routes, methods, queries -------------------------------------------------------------------------
section "routes, methods, queries"
for p in / /foo /checkpoint/ /checkpoint/x /checkpoints /Checkpoint /recordsx /records.json /proof \
  /proof/ /proof/x /proof/inclusion/0 /tiles/0/000 /content /.ledger/identity /.ledger/lock \
  /content/e3/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855; do
  refused 404 "GET $p (no such resource)" GET "$p"
done
allow_has() { # allow_has METHOD...: the last Allow header lists each METHOD
  local m a
  a=$(hdr Allow | tr -d ' ')
  for m in "$@"; do
    tr ',' '\n' <<<"$a" | grep -qx "$m" || { show_response; fail "Allow '$a' lacks $m"; }
  done
}
allow_lacks() {
  local m a
  a=$(hdr Allow | tr -d ' ')
  for m in "$@"; do
    tr ',' '\n' <<<"$a" | grep -qx "$m" && { show_response; fail "Allow '$a' lists $m"; }
  done
  return 0
}
for m in DELETE PUT PATCH; do
  refused 405 "$m /records/<existing record>" "$m" /records/invoices/2026/0042.pdf --data-binary @"$work/hello.txt"
  allow_has GET HEAD POST
  allow_lacks "$m"
  refused 405 "$m /records/<new name>" "$m" /records/new-by-$m --data-binary @"$work/hello.txt"
  refused 404 "GET of a name a $m was refused for" GET /records/new-by-$m
done
for r in "POST /checkpoint" "PUT /checkpoint" "DELETE /checkpoint" "POST /tile/0/000" "PUT /tile/0/000" \
  "POST /tile/entries/000" "POST /records" "DELETE /records" "POST /proof/inclusion?index=0" \
  "POST /proof/consistency?from=1" "POST /checkpoint?bogus=1"; do
  refused 405 "$r" "${r%% *}" "${r#* }" --data-binary @"$work/hello.txt"
  allow_has GET HEAD
  allow_lacks POST PUT DELETE
done
# Order: route before method, bad path before method.
refused 404 "DELETE of no such route" DELETE /no-such-route
refused 400 "DELETE of a bad record path" DELETE '/records/a/../b'
bad_queries=(
  'since=-1' 'since=01' 'since=00' 'since=+1' 'since=1.0' 'since=1e3' 'since=0x10' 'since=%201' 'since=1%20'
  'since=18446744073709551616' 'since=99999999999999999999999' 'since=' 'since' 'limit=0' 'limit=-1'
  'limit=01' 'limit=' 'limit=abc' 'limit=18446744073709551616' 'bogus=1' 'since=0&since=0'
  'limit=1&limit=1' 'since=0&bogus' 'Since=0' 'since=0&'
)
for q in "${bad_queries[@]}"; do
  refused 400 "GET /records?$q" GET "/records?$q"
done
for q in 'index=-1' 'index=01' 'index=' 'index=x' 'index=0&index=0' 'index=0&bogus=1' 'index=0&size=' \
  'index=0&size=01' 'index=18446744073709551616'; do
  refused 400 "GET /proof/inclusion?$q" GET "/proof/inclusion?$q"
done
for q in 'from=-1' 'from=01' 'from=' 'from=1&from=1' 'from=1&to=0x1' 'from=1&index=0' 'from=18446744073709551616'; do
  refused 400 "GET /proof/consistency?$q" GET "/proof/consistency?$q"
done
for p in '/checkpoint?x=1' '/tile/0/000?x=1' '/records/invoices/2026/0042.pdf?x=1'; do
  refused 400 "GET $p (no parameters there)" GET "$p"
done
refused 400 "POST with a query" POST '/records/with-query?x=1' --data-binary @"$work/hello.txt"
refused 404 "GET of a name a bad query refused" GET /records/with-query
verify_store "$store" "$size"

# --- a second daemon: --tenant, a long checkpoint delay, SIGTERM -------------------------------------
section "a second daemon: --tenant, a long checkpoint delay, SIGTERM"
stop_serve
[ "$(checkpoint_size "$store")" = "$size" ] || fail "after SIGTERM the checkpoint has size $(checkpoint_size "$store"), want $size"
verify_store "$store" "$size"
start_serve "$store" --tenant beta --checkpoint-delay 60000 --max-body 64K
tenant=beta
refused_as 403 acme "the store folder's name, with --tenant beta" GET /checkpoint
req GET /checkpoint
want 200 "GET /checkpoint as beta"
covered=$size
post pending.txt "$work/hello.txt"
pending=$posted_index
req GET "/records?since=$pending"
want 200 "GET /records?since=$pending"
python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
assert p["size"] == int(sys.argv[2]) + 1 and [e["path"] for e in p["entries"]] == ["pending.txt"], p' "$work/b" "$covered" ||
  fail "GET /records does not list the committed entry the checkpoint does not cover yet: $(cat "$work/b")"
[ "$(checkpoint_size "$store")" = "$covered" ] || fail "test bug: the 60 s checkpoint delay published already"
req GET /records/pending.txt
want 200 "GET of a record acknowledged but not yet in the checkpoint"
t0=$(date +%s%N)
req GET "/proof/inclusion?index=$pending"
t1=$(date +%s%N)
want_error 503 "inclusion proof of an entry the checkpoint does not cover"
want_header Retry-After 1 "503 of the inclusion proof"
elapsed=$(((t1 - t0) / 1000000))
[ "$elapsed" -ge 4500 ] && [ "$elapsed" -lt 12000 ] || fail "the 503 came after $elapsed ms (docs/http.md: it waits up to 5 s when the delay is long)"
echo "inclusion proof of a pending entry: 503 after $elapsed ms"
refused 404 "inclusion proof beyond the committed size (pending daemon)" GET "/proof/inclusion?index=$((pending + 1))"
# A request in flight at SIGTERM finishes.
start_slow_post in-flight.bin 0.5
kill -TERM "$serve_pid"
finish_slow_post "the in-flight uploader"
[ "$slow_status" = 201 ] || fail "an upload in flight at SIGTERM ended with '$slow_status $slow_body' (docs/http.md: requests in flight finish)"
size=$((size + 1))
rc=0
wait "$serve_pid" || rc=$?
serve_pids=()
[ "$rc" = 0 ] || fail "serve exited $rc after SIGTERM"
[ "$(checkpoint_size "$store")" = "$size" ] || fail "the final checkpoint has size $(checkpoint_size "$store"), want $size"
"$LEDGERFS" log "$store" --since $((size - 2)) --json | python3 -c '
import json, sys
p = json.load(sys.stdin)
assert [e["path"] for e in p["entries"]] == ["pending.txt", "in-flight.bin"], p
assert p["entries"][1]["size"] == 2000, p' || fail "the log after SIGTERM"
verify_store "$store" "$size"

# --- a busy port: exit 1 naming the address, nothing served -----------------------------------------
section "a busy port: exit 1 naming the address, nothing served"
hold_port
rc=0
timeout 20 "$LEDGERFS" serve "$store" --listen "127.0.0.1:$busy" >"$work/busy.out" 2>"$work/busy.err" || rc=$?
[ "$rc" = 1 ] || { cat "$work/busy.err" >&2; fail "serve on a busy port exited $rc, want 1"; }
grep -q "127\.0\.0\.1:$busy" "$work/busy.err" || { cat "$work/busy.err" >&2; fail "serve on a busy port: the message does not name 127.0.0.1:$busy"; }
# The store was released: an append works.
echo after >"$work/after.txt"
"$LEDGERFS" append "$store" --path after-busy.txt --file "$work/after.txt" >/dev/null 2>"$work/append.err" ||
  { cat "$work/append.err" >&2; fail "ledgerfs append after the failed serve"; }
size=$((size + 1))
release_port
helper_pids=()
verify_store "$store" "$size"

section "other --listen forms: PORT, [::1]:PORT, unix:/path"
tenant=acme  # the store folder's name again
# PORT alone listens on 127.0.0.1 only.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log="$work/daemon.serve.port.log"
"$LEDGERFS" serve "$store" --listen "$port" 2>"$log" &
serve_pid=$!
serve_pids+=("$serve_pid")
base=$(wait_listen_url "$log" "$serve_pid")
[ "$base" = "http://127.0.0.1:$port" ] || fail "--listen $port logged '$base', want http://127.0.0.1:$port"
ss -Hltn "sport = :$port" >"$work/ss.out"
[ "$(awk '{print $4}' "$work/ss.out")" = "127.0.0.1:$port" ] || fail "--listen $port listens on: $(cat "$work/ss.out")"
req GET /checkpoint
want 200 "GET /checkpoint with --listen PORT"
stop_serve
# IPv6 loopback, when the machine has it.
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
  log="$work/daemon.serve.ipv6.log"
  "$LEDGERFS" serve "$store" --listen '[::1]:0' 2>"$log" &
  serve_pid=$!
  serve_pids+=("$serve_pid")
  base=$(wait_listen_url "$log" "$serve_pid")
  [[ $base == http://\[::1\]:* ]] || fail "--listen [::1]:0 logged '$base'"
  req GET /checkpoint
  want 200 "GET /checkpoint over IPv6 ($base)"
  stop_serve
fi
# A Unix socket.
sock="$work/api.sock"
log="$work/daemon.serve.unix.log"
"$LEDGERFS" serve "$store" --listen "unix:$sock" 2>"$log" &
serve_pid=$!
serve_pids+=("$serve_pid")
for i in $(seq 1 200); do [ -S "$sock" ] && break; kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.05; done
[ -S "$sock" ] || fail "--listen unix:$sock made no socket"
code=$(curl -sS --max-time 10 --unix-socket "$sock" -o "$work/b" -w '%{http_code}' -H "X-Module-ID: $tenant" http://localhost/checkpoint) || true
[ "$code" = 200 ] || fail "GET /checkpoint over the Unix socket: $code"
cmp -s "$work/b" "$store/checkpoint" || fail "GET /checkpoint over the Unix socket differs from the store's"
code=$(curl -sS --max-time 10 --unix-socket "$sock" -o "$work/b" -w '%{http_code}' -H "X-Module-ID: beta" http://localhost/checkpoint) || true
[ "$code" = 403 ] || fail "GET /checkpoint over the Unix socket as another tenant: $code"
stop_serve

section "proofs from sizes no checkpoint had"
# pending.txt and in-flight.bin were first covered together: no checkpoint ever had size
# $((covered + 1)). Consistency from it (and inclusion of both) must still be proved.
start_serve "$store"
python3 "$work/proofs.py" "$base" "$tenant" "$LEDGERFS" "$store" "$size" "$work/checkpoint.old" \
  "$covered,$((covered + 1)),$((size - 1))" "$((covered + 1)),$((covered + 2)),$size" ||
  fail "proofs from a size no checkpoint had"
stop_serve
check_error_bodies
# docs/http.md: a body that ended early gets 400 if the connection can still carry it; a client
# that half-closed may instead see the connection close. Never a success.
case "$(cat "$work/short.status")" in
  400 | None | "") ;;
  *) fail "a body shorter than its Content-Length (client half-closed, waiting): status '$(cat "$work/short.status")', want 400 or no answer" ;;
esac

echo "http_api: OK in $((($(date +%s%N) - t_start) / 1000000)) ms"
