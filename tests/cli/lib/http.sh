# Helpers for tests of the HTTP API (docs/http.md), sourced after common.sh (and after mount.sh
# when a test also mounts). Every `ledgerfs serve` a test starts is remembered by pid;
# serve_cleanup (call it from the test's on_exit) kills those daemons only, even when the test
# failed half-way.
#   start_serve STORE [serve options...]   `ledgerfs serve STORE --listen 127.0.0.1:0 ...` in the
#                                          background; sets $serve_pid and $base (http://HOST:PORT)
#   stop_serve [PID]                        SIGTERM, waits; the daemon must exit 0
#   wait_listen_url LOG PID                 the URL the daemon logged ("serving http://HOST:PORT")
#   req METHOD PATH [curl options...]       one request as $tenant: $status, $work/h, $work/b
#   req_as ID METHOD PATH [curl options...] the same with X-Module-ID: ID ("-": no header at all)
#   hdr NAME                                a header of the last response ("" if absent)
#   want STATUS WHAT / want_error STATUS WHAT   the last response's status (and JSON error body)
#   want_header NAME VALUE WHAT             a header of the last response
#   check_error_bodies                      every error body seen is {"error": TEXT, "status": N}
#   committed_size / expect_size N          "size" of GET /records?since=0 (the committed size)
#   checkpoint_size STORE / wait_checkpoint STORE N   the store's checkpoint
#   verify_store STORE                      `ledgerfs verify` (with $vkey) passes
# A test sets $tenant (the X-Module-ID it sends) and $base before calling req.
serve_pids=()
serve_pid=""
base=""
http_t0=$(date +%s%N)

# python3: the interpreter itself, resolved once (a pyenv shim costs most of a second per call, and
# these tests run python a few hundred times).
HTTP_PYTHON=$(command python3 -c 'import sys; print(sys.executable)')
python3() { "$HTTP_PYTHON" "$@"; }

# section NAME: prints NAME with the time since the test started (where the time goes).
section() { echo "[$((($(date +%s%N) - http_t0) / 1000000)) ms] $*"; }

# wait_listen_url LOG PID: up to 10 s for PID to log "serving http://HOST:PORT" in LOG; prints
# http://HOST:PORT. Fails if PID exits first.
wait_listen_url() {
  local log=$1 pid=$2 i url
  for i in $(seq 1 200); do
    url=$(grep -o 'serving http://[^ ]*' "$log" 2>/dev/null | head -1 | sed 's/^serving //') || true
    if [ -n "$url" ]; then
      echo "${url%/}"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "daemon $pid exited before it logged 'serving http://'"; }
    sleep 0.05
  done
  cat "$log" >&2
  fail "daemon $pid did not log 'serving http://HOST:PORT' within 10 s"
}

# start_serve STORE [options]: the daemon runs as a child of the test with its log in
# $work/daemon.serve.<n>.log ($serve_log); returns once it serves (and GET /checkpoint answers).
start_serve() {
  local store=$1
  shift
  serve_log="$work/daemon.serve.${#serve_pids[@]}.log"
  "$LEDGERFS" serve "$store" --listen 127.0.0.1:0 "$@" 2>"$serve_log" &
  serve_pid=$!
  serve_pids+=("$serve_pid")
  base=$(wait_listen_url "$serve_log" "$serve_pid")
}

# stop_serve [PID]: SIGTERM (requests in flight finish, then a final checkpoint); exit 0.
stop_serve() {
  local pid=${1:-$serve_pid} rc=0
  kill -TERM "$pid"
  wait "$pid" || rc=$?
  local i keep=()
  for i in "${serve_pids[@]}"; do [ "$i" = "$pid" ] || keep+=("$i"); done
  serve_pids=("${keep[@]+"${keep[@]}"}")  # reaped: serve_cleanup must not kill a reused pid
  [ "$rc" = 0 ] || fail "ledgerfs serve (pid $pid) exited $rc after SIGTERM (docs/http.md: it stops cleanly)"
}

serve_cleanup() {
  local p
  for p in "${serve_pids[@]+"${serve_pids[@]}"}"; do kill -9 "$p" 2>/dev/null || true; done
}

# req_as ID METHOD PATH [curl options...]: ID is the X-Module-ID value ("-" sends none; "" sends
# an empty one). PATH is sent as is (no dot-segment folding). Sets $status; the response headers
# are in RESP_H (lowercase names; hdr reads them) and, CR stripped, in $work/h; the body is in
# $work/b. With $size_check set to N, the same curl then asks GET /records?since=N&limit=1 as
# $tenant (status in $size_status, body in $work/size.b): expect_size's check, one process less.
# Few forks per request: these tests send several hundred.
declare -A RESP_H=()
size_check=""
size_status=""
req_as() {
  local id=$1 method=$2 path=$3
  shift 3
  local out="$work/b"
  [ "$method" = HEAD ] && out=/dev/null  # curl -I would write the headers as the body; it reads none
  local args=(-sS --path-as-is --max-time 60 -o "$out" -D "$work/h.raw" -w '%{http_code}\n')
  if [ "$id" = "-" ]; then
    :
  elif [ -z "$id" ]; then
    args+=(-H 'X-Module-ID;')  # curl's spelling of an empty header
  else
    args+=(-H "X-Module-ID: $id")
  fi
  case $method in
    GET) ;;
    HEAD) args+=(-I) ;;
    *) args+=(-X "$method") ;;
  esac
  : >"$work/b"
  : >"$work/h.raw"
  local next=()
  if [ -n "$size_check" ]; then
    : >"$work/size.b"
    next=(--next -sS --max-time 30 -o "$work/size.b" -w '%{http_code}\n' -H "X-Module-ID: $tenant"
      "$base/records?since=$size_check&limit=1")
  fi
  local got rc=0
  got=$(curl "${args[@]}" "$@" "$base$path" "${next[@]+"${next[@]}"}") || rc=$?
  status=${got%%$'\n'*}
  size_status=${got#*$'\n'}
  [ -n "$status" ] && [ "$status" != 000 ] || status="curl-failed($rc)"
  RESP_H=()
  local line name h=""
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}
    h+=$line$'\n'
    if [[ $line == HTTP/* ]]; then
      RESP_H=()  # a 100 Continue first: keep the final response's headers only
      continue
    fi
    [[ $line == *:* ]] || continue
    name=${line%%:*}
    name=${name,,}
    line=${line#*:}
    line=${line#"${line%%[! ]*}"}
    RESP_H[$name]=${line%"${line##*[! ]}"}
  done <"$work/h.raw"
  printf '%s' "$h" >"$work/h"
}
req() { req_as "$tenant" "$@"; }

# hdr NAME: the value of header NAME in the last response (the last one if repeated).
hdr() { echo "${RESP_H[${1,,}]-}"; }

show_response() {
  echo "--- response headers:" >&2
  cat "$work/h" >&2
  echo "--- response body (first 400 bytes):" >&2
  head -c 400 "$work/b" >&2
  echo >&2
}

# want STATUS WHAT: the last response had STATUS.
want() {
  if [ "$status" != "$1" ]; then
    show_response
    fail "$2: status $status, want $1"
  fi
}

# want_header NAME VALUE WHAT: the last response's header NAME is VALUE.
want_header() {
  local got
  got=$(hdr "$1")
  [ "$got" = "$2" ] || { show_response; fail "$3: $1 is '$got', want '$2'"; }
}

# want_error STATUS WHAT: STATUS, and the documented error body: Content-Type application/json,
# {"error": "<text>", "status": STATUS} (checked here with a pattern; check_error_bodies parses
# every one kept in $work/errors/ as JSON, in one go). A 405 also needs Allow.
error_count=0
mkdir -p "$work/errors"
want_error() {
  want "$@"
  case ${RESP_H[content-type]-} in
    application/json*) ;;
    *) show_response; fail "$2: a $1 with Content-Type '${RESP_H[content-type]-}', want application/json" ;;
  esac
  local body=""
  IFS= read -r -d '' body <"$work/b" || true
  if ! [[ $body =~ \"status\"[[:space:]]*:[[:space:]]*$1([^0-9]|$) && $body =~ \"error\"[[:space:]]*:[[:space:]]*\" ]]; then
    show_response
    fail "$2: the $1 body is not {\"error\": TEXT, \"status\": $1}"
  fi
  if [ "$1" = 405 ] && [ -z "${RESP_H[allow]-}" ]; then
    show_response
    fail "$2: 405 without an Allow header"
  fi
  error_count=$((error_count + 1))
  printf '%s' "$body" >"$work/errors/$error_count.$1"
}

# check_error_bodies: every error body kept by want_error is a JSON object with exactly a
# non-empty string "error" and the status as "status".
check_error_bodies() {
  [ -d "$work/errors" ] || return 0
  python3 - "$work/errors" <<'EOF' || fail "an error body is not {\"error\": TEXT, \"status\": N}"
import json, os, sys
d = sys.argv[1]
for name in os.listdir(d):
    status = int(name.split(".")[1])
    body = json.load(open(os.path.join(d, name), "rb"))
    assert isinstance(body, dict) and "error" in body and "status" in body, (name, body)
    assert isinstance(body["error"], str) and body["error"], (name, body)
    assert body["status"] == status, (name, body)
print("%d error bodies checked" % len(os.listdir(d)))
EOF
}

# json_field FIELD [FILE]: the number or plain string (no escapes) FIELD of a flat JSON object
# such as a 201 body (default: the last response's), without a python start per call.
json_field() {
  local body=""
  IFS= read -r -d '' body <"${2:-$work/b}" || true
  if [[ $body =~ \"$1\"[[:space:]]*:[[:space:]]*(\"([^\"\\]*)\"|([0-9]+)) ]]; then
    echo "${BASH_REMATCH[2]}${BASH_REMATCH[3]}"
  else
    echo "(no plain field $1 in: ${body:0:200})"
  fi
}

# committed_size: the committed size as the API reports it ("size" of GET /records?since=0). Keeps
# the last response of the caller intact.
committed_size() {
  local s
  s=$(curl -sS --max-time 30 -H "X-Module-ID: $tenant" "$base/records?since=0&limit=1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])') ||
    fail "GET /records?since=0&limit=1 did not give a JSON page with a size"
  echo "$s"
}

# expect_size N WHAT: the committed size is N (nothing was appended by WHAT): GET /records?since=N
# must be the empty last page of a log of size N. Keeps the caller's last response intact.
expect_size() {
  local body
  body=$(curl -sS --max-time 30 -H "X-Module-ID: $tenant" "$base/records?since=$1&limit=1") || true
  size_page_is "$1" "$body" "$2"
}
# size_page_is N BODY WHAT: BODY (of GET /records?since=N) is the empty page of a log of size N.
size_page_is() {
  if ! [[ $2 =~ \"entries\"[[:space:]]*:[[:space:]]*\[[[:space:]]*\] && $2 =~ \"size\"[[:space:]]*:[[:space:]]*$1([^0-9]|$) ]]; then
    fail "$3: GET /records?since=$1 is '${2:0:300}', want the empty page of a log of size $1 (a refused request changed the log)"
  fi
}

# verify_store STORE [SIZE]: `ledgerfs verify` of the (possibly live) store with $vkey passes, and
# reports SIZE if given.
verify_store() {
  local out
  out=$("$LEDGERFS" verify "$1" --vkey "$vkey" 2>"$work/verify.err") || {
    cat "$work/verify.err" >&2
    fail "ledgerfs verify $1 failed"
  }
  if [ -n "${2:-}" ]; then
    grep -q "^OK: .* size $2, " <<<"$out" || fail "ledgerfs verify $1: '$out', want size $2"
  fi
}

# An HTTP/1.1 client over plain sockets for what curl cannot send (a body cut short, a client that
# goes away, a header without a body), and a keep-alive poster: $work/httpc.py, on PYTHONPATH.
cat >"$work/httpc.py" <<'EOF'
"""Raw HTTP/1.1 for the HTTP API tests (tests/cli/lib/http.sh writes this file)."""
import http.client
import json
import socket
import time
from urllib.parse import urlsplit


def hostport(base):
    u = urlsplit(base)
    return u.hostname, u.port


def connect(base, timeout=30):
    return socket.create_connection(hostport(base), timeout=timeout)


def read_response(sock, timeout=30):
    """Reads one response (status line, headers, Content-Length body) or what arrives before EOF.
    Returns (status, headers dict with lowercase names, body bytes); status None if nothing came."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    if b"\r\n\r\n" not in data:
        return None, {}, data
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    want = int(headers.get("content-length", "0"))
    try:
        while len(body) < want:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    return status, headers, body


def head(method, path, tenant, extra=()):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1"]
    if tenant is not None:
        lines.append("X-Module-ID: %s" % tenant)
    lines += list(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunk(data):
    return b"%x\r\n" % len(data) + data + b"\r\n"


class Poster:
    """POSTs records over one keep-alive connection (reconnecting when the server closes it)."""

    def __init__(self, base, tenant):
        self.host, self.port = hostport(base)
        self.tenant = tenant
        self.conn = None
        self.count = 0     # responses on the current connection
        self.closes = []   # responses a connection had when the server said Connection: close
        self.resends = 0   # requests sent again because the server had closed the connection

    def request(self, method, path, body=None, headers=None):
        h = {"X-Module-ID": self.tenant}
        h.update(headers or {})
        for attempt in range(3):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                self.count += 1
                if r.getheader("Connection", "").lower() == "close":
                    self.closes.append(self.count)
                    self.count = 0
                    self.conn.close()
                    self.conn = None
                return r.status, r, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection just before this request:
                # nothing was processed; send it again.
                self.resends += 1
                self.count = 0
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                time.sleep(0.05)

    def post(self, path, body):
        status, r, data = self.request("POST", "/records/" + path, body=body,
                                       headers={"Content-Type": "application/octet-stream"})
        return status, r, (json.loads(data) if status == 201 else data)

    def close(self):
        if self.conn is not None:
            self.conn.close()


# RFC 6962 / RFC 9162 Merkle trees, written from the RFC (not from service-fs) to check what the
# API serves.
import base64
import hashlib


def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(leaf_hashes):
    """MTH over a list of leaf hashes (RFC 6962 2.1)."""
    n = len(leaf_hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf_hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaf_hashes[:k]), mth(leaf_hashes[k:]))


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_root, second_root, proof):
    """RFC 9162 2.1.4.2."""
    if first == second:
        return not proof and first_root == second_root
    if first == 0 or first > second:
        return False
    if first & (first - 1) == 0:
        proof = [first_root] + list(proof)
    if not proof:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def parse_bundle(data):
    """C2SP tlog-tiles entry bundle: 2-byte big-endian length, then the entry, repeated."""
    entries, i = [], 0
    while i < len(data):
        assert i + 2 <= len(data), "truncated length prefix"
        n = int.from_bytes(data[i:i + 2], "big")
        assert i + 2 + n <= len(data), "truncated entry"
        entries.append(data[i + 2:i + 2 + n])
        i += 2 + n
    return entries


def parse_checkpoint(note):
    """(origin, size, root bytes) of a signed checkpoint note (signature not checked here)."""
    lines = note.decode().split("\n")
    return lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)


def tile_index_path(n):
    """tlog-tiles index path: 1234067 -> x001/x234/067."""
    p = "%03d" % (n % 1000)
    while n >= 1000:
        n //= 1000
        p = "x%03d/" % (n % 1000) + p
    return p
EOF
# ledger_log.py (the paged `ledgerfs log --json` reader) is in this folder.
export PYTHONPATH="$work:$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)${PYTHONPATH:+:$PYTHONPATH}"

# hold_port: a process listening on a free loopback port, for the "address in use" checks. Sets
# $busy (the port) and $busy_pid, and adds the pid to helper_pids (the test's on_exit kills them).
# The command runs under `exec` in its subshell: bash does not always replace the subshell by the
# command, and a `kill $!` that reached only the subshell once left the holder running for
# minutes with the test's output pipe open. It never outlives 120 s either way.
hold_port() {
  (exec python3 -c '
import socket, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
time.sleep(120)' >"$work/busy.port" 2>/dev/null) &
  busy_pid=$!
  helper_pids+=("$busy_pid")
  local i
  for i in $(seq 1 100); do [ -s "$work/busy.port" ] && break; sleep 0.05; done
  busy=$(cat "$work/busy.port")
  [ -n "$busy" ] || fail "the port holder did not start"
}

# release_port: stops the hold_port process.
release_port() {
  kill "$busy_pid" 2>/dev/null || true
  wait "$busy_pid" 2>/dev/null || true
}
