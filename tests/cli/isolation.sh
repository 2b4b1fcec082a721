#!/usr/bin/env bash
# Two tenants on one machine cannot reach each other (docs/mount.md "Users and permissions",
# docs/http.md "Every request"): stores a and b (0700, made by root), each mounted by a root daemon
# with --owner 4242:4242 / 4343:4343 AND serving HTTP on 127.0.0.1 (--listen 127.0.0.1:0). Each
# user writes its own records (through its mount and over its own HTTP daemon), and then, as the
# other user:
#   - reading, writing or listing anything in the other's mount, store or key gets EACCES;
#   - signalling (kill -0, -TERM, -KILL) the other tenant's daemon (root), its own daemon, or a
#     process of the other tenant (a writer holding a file open in inbox/) gets EPERM, and
#     /proc/PID/fd, cwd, root and environ of the daemons are closed to it (EACCES);
#   - each HTTP daemon answers 403 to the other tenant's X-Module-ID (every route and method,
#     including a POST and a read of a real record) and 400 without the header;
#   - nothing changes in either store: the same files with the same bytes, the same log size, and
#     `ledgerfs verify` passes; both daemons still run and serve.
# X-Module-ID is a routing check, not authentication (docs/http.md): any local user who can connect
# to a TCP listener can name its tenant. The test prints that as a NOTE and then shows the
# documented way to isolate HTTP between Unix users: `--listen unix:PATH` in a folder only the
# tenant's group can search (setgid, so that the socket gets that group), the daemon started with
# umask 007 so that the group may connect (the other user gets EACCES at connect; the tenant's group
# gets 200).
# Needs: LEDGERFS (the binary), root (FUSE, setpriv), fusermount3, /usr/bin/python3, curl.
set -euo pipefail

: "${LEDGERFS:?set LEDGERFS to the ledgerfs binary}"
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/mount.sh"
held_pids=()
on_exit() {
  local p
  for p in "${held_pids[@]+"${held_pids[@]}"}"; do kill -9 "$p" 2>/dev/null || true; done
  mount_cleanup
}
t_start=$(date +%s)

two_tenant_stores

forget_pid() {
  local i
  for i in "${!mount_pids[@]}"; do
    if [ "${mount_pids[$i]}" = "$1" ]; then mount_pids[i]=""; fi
  done
}
# listen_url LOG PID: the address the daemon logged ("serving http://HOST:PORT").
listen_url() {
  local url=""
  for _ in $(seq 1 200); do
    url=$(grep -o 'serving http://[^ ]*' "$1" 2>/dev/null | head -1 | sed 's/^serving //; s,/$,,') || true
    [ -n "$url" ] && break
    kill -0 "$2" 2>/dev/null || fail "daemon $2 exited before it logged 'serving http://'"
    sleep 0.05
  done
  [ -n "$url" ] || fail "daemon $2 did not log 'serving http://HOST:PORT' within 10 s"
  echo "$url"
}
# as_user UID CMD...: runs CMD as UID:UID with no supplementary groups.
as_user() {
  local uid=$1
  shift
  (cd "$work" && exec setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@")
}
[ "$(as_user 4242 id -u)" = 4242 ] || fail "setpriv does not switch to uid 4242"

start_mount "$storeA" "$mntA" --owner 4242:4242 --tenant a --listen 127.0.0.1:0 --checkpoint-delay 200
daemonA=$mount_pid
urlA=$(listen_url "$work/daemon.0.log" "$daemonA")
start_mount "$storeB" "$mntB" --owner 4343:4343 --tenant b --listen 127.0.0.1:0 --checkpoint-delay 200
daemonB=$mount_pid
urlB=$(listen_url "$work/daemon.1.log" "$daemonB")
echo "tenant a: daemon $daemonA, $mntA, $urlA; tenant b: daemon $daemonB, $mntB, $urlB"

# --- each tenant writes its own records: through its mount and over its own HTTP daemon ------------
cat >"$work/own.py" <<'EOF'
import os, sys, urllib.request
mnt, url, tenant = sys.argv[1:4]
os.mkdir(os.path.join(mnt, "inbox", "own"))
with open(os.path.join(mnt, "inbox", "own", "secret.txt"), "wb") as f:
    f.write(b"tenant %s's secret\n" % tenant.encode())
req = urllib.request.Request(url + "/records/own/posted.txt", data=b"posted by " + tenant.encode(),
                             method="POST", headers={"X-Module-ID": tenant})
with urllib.request.urlopen(req, timeout=30) as r:
    assert r.status == 201, r.status
EOF
chmod 644 "$work/own.py"
as_user 4242 /usr/bin/python3 -I "$work/own.py" "$mntA" "$urlA" a || fail "tenant a could not write its own records"
as_user 4343 /usr/bin/python3 -I "$work/own.py" "$mntB" "$urlB" b || fail "tenant b could not write its own records"
wait_checkpoint "$mntA" 3
wait_checkpoint "$mntB" 3

# A writer of each tenant holds inbox/own/held.txt open (written, not closed) during the probes.
cat >"$work/held.py" <<'EOF'
import os, sys, time
mnt, tenant, go = sys.argv[1:4]
fd = os.open(os.path.join(mnt, "inbox", "own", "held.txt"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, b"held open by tenant %s\n" % tenant.encode())
print("ready", flush=True)
t0 = time.monotonic()
while not os.path.exists(go) and time.monotonic() - t0 < 120:
    time.sleep(0.02)
os.close(fd)
EOF
chmod 644 "$work/held.py"
(cd "$work" && exec setpriv --reuid=4242 --regid=4242 --clear-groups /usr/bin/python3 -I "$work/held.py" "$mntA" a "$work/release" >"$work/held.a") &
heldA=$!
held_pids+=("$heldA")
(cd "$work" && exec setpriv --reuid=4343 --regid=4343 --clear-groups /usr/bin/python3 -I "$work/held.py" "$mntB" b "$work/release" >"$work/held.b") &
heldB=$!
held_pids+=("$heldB")
for t in a b; do
  for _ in $(seq 1 200); do grep -q ready "$work/held.$t" 2>/dev/null && break; sleep 0.05; done
  grep -q ready "$work/held.$t" || fail "tenant $t's held writer did not start"
done
# setpriv execs python: the writer is that very pid, running as the tenant's uid.
[ "$(stat -c %u /proc/"$heldA")" = 4242 ] && [ "$(stat -c %u /proc/"$heldB")" = 4343 ] ||
  fail "the held writers do not run as 4242 and 4343"

# snapshot STORE: every file of the store with its size and sha256 (as root).
snapshot() {
  python3 - "$1" <<'EOF'
import hashlib, os, sys
top = sys.argv[1]
for root, dirs, files in sorted(os.walk(top)):
    dirs.sort()
    for f in sorted(files):
        p = os.path.join(root, f)
        print(os.path.relpath(p, top), os.path.getsize(p), hashlib.sha256(open(p, "rb").read()).hexdigest())
EOF
}
verified_size() {  # verified_size PATH VKEY: the size `ledgerfs verify` reports
  "$LEDGERFS" verify "$1" --vkey "$2" >"$work/verify.out" 2>&1 || { cat "$work/verify.out" >&2; fail "verify $1 failed"; }
  sed -n 's/^OK: [^ ]* size \([0-9]*\),.*/\1/p' "$work/verify.out"
}
snapshot "$storeA" >"$work/snapA.before"
snapshot "$storeB" >"$work/snapB.before"
sizeA=$(verified_size "$storeA" "$vkeyA")
sizeB=$(verified_size "$storeB" "$vkeyB")
[ "$sizeA" = 3 ] && [ "$sizeB" = 3 ] || fail "store sizes $sizeA and $sizeB, expected 3 and 3"

# --- the probes: everything the other tenant must not do --------------------------------------------
cat >"$work/probe.py" <<'EOF'
import errno, os, signal, sys, urllib.error, urllib.request
(me, other, own_mnt, other_mnt, other_store, own_store, key_dir, own_url, other_url,
 own_daemon, other_daemon, other_proc) = sys.argv[1:13]
failures, checks = [], 0

def expect_errno(what, fn, want):
    global checks
    checks += 1
    try:
        fn()
        failures.append("%s: succeeded, expected %s" % (what, errno.errorcode[want]))
    except OSError as e:
        if e.errno != want:
            failures.append("%s: %s, expected %s" % (what, e, errno.errorcode[want]))

def denied(what, fn):
    expect_errno(what, fn, errno.EACCES)

def read(p):
    with open(p, "rb") as f:
        return f.read()

def create(p):
    with open(p, "wb") as f:
        f.write(b"x")

def http(url, method, path, module, body=None):
    global checks
    checks += 1
    req = urllib.request.Request(url + path, data=body, method=method)
    if module is not None:
        req.add_header("X-Module-ID", module)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

# The other tenant's mount: nothing inside it.
denied("list the other mount", lambda: os.listdir(other_mnt))
for name in ["checkpoint", "inbox", "records", "tile", "records/own", "records/own/secret.txt",
             "inbox/own", "tile/0/000.p/3"]:
    denied("stat other mount/" + name, lambda: os.stat(os.path.join(other_mnt, name)))
for name in ["checkpoint", "records/own/secret.txt", "records/own/posted.txt"]:
    denied("read other mount/" + name, lambda: read(os.path.join(other_mnt, name)))
for name in ["inbox", "records", "records/own", "tile"]:
    denied("list other mount/" + name, lambda: os.listdir(os.path.join(other_mnt, name)))
denied("create other mount/inbox/intruder", lambda: create(os.path.join(other_mnt, "inbox", "intruder")))
denied("create other mount/inbox/own/intruder", lambda: create(os.path.join(other_mnt, "inbox", "own", "intruder")))
denied("mkdir other mount/inbox/intruder", lambda: os.mkdir(os.path.join(other_mnt, "inbox", "intruder")))
denied("open other mount/inbox/own/held.txt for writing",
       lambda: os.open(os.path.join(other_mnt, "inbox", "own", "held.txt"), os.O_WRONLY))

# Both stores (root's, 0700) and the keys.
for store in [other_store, own_store]:
    denied("list " + store, lambda: os.listdir(store))
    for name in ["checkpoint", ".ledger/identity", ".ledger/wal", "tile/0/000.p/3"]:
        denied("stat %s/%s" % (store, name), lambda: os.stat(os.path.join(store, name)))
    denied("read %s/checkpoint" % store, lambda: read(os.path.join(store, "checkpoint")))
    denied("create in " + store, lambda: create(os.path.join(store, "intruder")))
denied("list the key folder", lambda: os.listdir(key_dir))
for k in ["test.example_a.key", "test.example_b.key"]:
    denied("read key " + k, lambda: read(os.path.join(key_dir, k)))
    denied("create next to key " + k, lambda: create(os.path.join(key_dir, k + ".x")))

# Signals: the daemons run as root; the other tenant's writer runs as the other uid.
for name, pid in [("the other tenant's daemon", other_daemon), ("its own daemon", own_daemon),
                  ("the other tenant's writer", other_proc)]:
    for sig in [0, signal.SIGTERM, signal.SIGKILL]:
        expect_errno("kill -%d %s (%s)" % (sig, pid, name), lambda: os.kill(int(pid), sig), errno.EPERM)
for pid in [other_daemon, own_daemon]:
    for name in ["fd", "cwd", "root"]:
        denied("list /proc/%s/%s (daemon)" % (pid, name), lambda: os.listdir("/proc/%s/%s" % (pid, name)))
    denied("read /proc/%s/environ (daemon)" % pid, lambda: read("/proc/%s/environ" % pid))
denied("list /proc/%s/fd (the other tenant's writer)" % other_proc,
       lambda: os.listdir("/proc/%s/fd" % other_proc))

# HTTP: the other daemon with my tenant id, no header, an empty one; my daemon with the other's id.
routes = [("GET", "/checkpoint", None), ("GET", "/records?since=0", None),
          ("GET", "/records/own/secret.txt", None), ("HEAD", "/records/own/posted.txt", None),
          ("GET", "/tile/0/000.p/3", None), ("GET", "/tile/entries/000.p/3", None),
          ("GET", "/proof/inclusion?index=0", None), ("POST", "/records/intruder", b"x"),
          ("POST", "/records/own/secret.txt", b"overwrite")]
for method, path, body in routes:
    for url, module, want in [(other_url, me, 403), (own_url, other, 403), (other_url, None, 400),
                              (own_url, None, 400), (other_url, "", 400)]:
        status, resp = http(url, method, path, module, body)
        if status != want:
            failures.append("%s %s%s with X-Module-ID %r: %d, expected %d" % (method, url, path, module, status, want))
        if method != "HEAD" and status in (400, 403) and b"tenant" not in resp and b"X-Module-ID" not in resp:
            failures.append("%s %s%s: the %d body does not say why: %r" % (method, url, path, status, resp[:200]))
# The NOTE: a local user who names the other tenant gets in over TCP (X-Module-ID is not a secret).
status, resp = http(other_url, "GET", "/records/own/secret.txt", other)
print("user %s: NOTE: GET %s/records/own/secret.txt with X-Module-ID %s (the other tenant's name): %d%s"
      % (me, other_url, other, status, " (%d bytes)" % len(resp) if status == 200 else ""))

for f in failures:
    print("user %s: %s" % (me, f))
print("user %s: %d checks, %d failures" % (os.getuid(), checks, len(failures)))
sys.exit(1 if failures else 0)
EOF
chmod 644 "$work/probe.py"

rc=0
as_user 4242 /usr/bin/python3 -I "$work/probe.py" a b "$mntA" "$mntB" "$storeB" "$storeA" \
  "$LEDGERFS_KEY_DIR" "$urlA" "$urlB" "$daemonA" "$daemonB" "$heldB" || rc=1
as_user 4343 /usr/bin/python3 -I "$work/probe.py" b a "$mntB" "$mntA" "$storeA" "$storeB" \
  "$LEDGERFS_KEY_DIR" "$urlB" "$urlA" "$daemonB" "$daemonA" "$heldA" || rc=1
[ "$rc" = 0 ] || fail "isolation checks failed (above)"

# --- nothing changed, everything still runs ------------------------------------------------------------
for p in "$daemonA" "$daemonB" "$heldA" "$heldB"; do kill -0 "$p" 2>/dev/null || fail "process $p died during the probes"; done
is_mounted "$mntA" && is_mounted "$mntB" || fail "a mount went away during the probes"
snapshot "$storeA" >"$work/snapA.after"
snapshot "$storeB" >"$work/snapB.after"
diff "$work/snapA.before" "$work/snapA.after" >&2 || fail "store a changed during the other tenant's probes"
diff "$work/snapB.before" "$work/snapB.after" >&2 || fail "store b changed during the other tenant's probes"
[ "$(verified_size "$storeA" "$vkeyA")" = "$sizeA" ] || fail "store a's size changed"
[ "$(verified_size "$storeB" "$vkeyB")" = "$sizeB" ] || fail "store b's size changed"
for t in A B; do
  if [ $t = A ]; then url=$urlA id=a; else url=$urlB id=b; fi
  got=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Module-ID: $id" "$url/checkpoint")
  [ "$got" = 200 ] || fail "tenant $id's daemon no longer serves its own tenant: $got"
done
echo "both stores unchanged ($sizeA and $sizeB records, same files and bytes); both daemons serve"

# The held writers close: each record is its own tenant's, sealed as usual.
touch "$work/release"
wait "$heldA" || fail "tenant a's held writer failed"
wait "$heldB" || fail "tenant b's held writer failed"
held_pids=()
wait_checkpoint "$mntA" 4
wait_checkpoint "$mntB" 4
[ "$(as_user 4242 cat "$mntA/records/own/held.txt")" = "held open by tenant a" ] || fail "a's records/own/held.txt is wrong"
[ "$(as_user 4343 cat "$mntB/records/own/held.txt")" = "held open by tenant b" ] || fail "b's records/own/held.txt is wrong"

# --- HTTP isolation between Unix users: a Unix socket in a folder of the tenant's group -----------------
stop_mount "$mntA" "$daemonA"
forget_pid "$daemonA"
wait_unmounted "$mntA"
# connect() needs write permission on the socket, which the daemon (root) creates with its own
# gid and umask: the folder's setgid bit gives the socket the tenant's group, umask 007 gives that
# group rw. (A 0750 folder alone, as docs/http.md suggests, leaves the socket root:root 0755: the
# group can reach it but not connect.)
mkdir "$work/run-a"
chgrp 4242 "$work/run-a"
chmod 2750 "$work/run-a"
umask 007
start_mount "$storeA" "$mntA" --owner 4242:4242 --tenant a --listen "unix:$work/run-a/http.sock"
umask 022
daemonA=$mount_pid
for _ in $(seq 1 200); do [ -S "$work/run-a/http.sock" ] && break; sleep 0.05; done
[ -S "$work/run-a/http.sock" ] || fail "no socket at $work/run-a/http.sock"
echo "tenant a's socket: $(stat -c '%A %U:%G' "$work/run-a/http.sock") in $(stat -c '%A %U:%G' "$work/run-a")"
sock_get() {  # sock_get UID: the status of GET /records/own/secret.txt as UID over the socket
  local code=0 out
  out=$(as_user "$1" curl -s -o /dev/null -w '%{http_code}' --unix-socket "$work/run-a/http.sock" \
    -H "X-Module-ID: a" http://localhost/records/own/secret.txt 2>&1) || code=$?
  echo "${out:-000} curl-exit-$code"
}
got=$(sock_get 4343)
echo "user 4343 over tenant a's Unix socket: $got"
case $got in 000\ curl-exit-7) ;; *) fail "user 4343 reached tenant a's Unix socket: $got" ;; esac
got=$(setpriv --reuid=4343 --regid=4343 --clear-groups /usr/bin/python3 -I -c '
import socket, sys
try:
    socket.socket(socket.AF_UNIX).connect(sys.argv[1])
    print("connected")
except OSError as e:
    print(e.strerror)' "$work/run-a/http.sock")
[ "$got" = "Permission denied" ] || fail "user 4343 connecting to tenant a's socket: $got, expected Permission denied"
got=$(setpriv --reuid=4242 --regid=4242 --groups 4242 curl -s -o /dev/null -w '%{http_code}' \
  --unix-socket "$work/run-a/http.sock" -H "X-Module-ID: a" http://localhost/records/own/secret.txt) || true
echo "user 4242 (group 4242) over tenant a's Unix socket: $got"
[ "$got" = 200 ] || fail "tenant a over its own Unix socket: $got, expected 200"
stop_mount "$mntA" "$daemonA"
forget_pid "$daemonA"
stop_mount "$mntB" "$daemonB"
forget_pid "$daemonB"

# --- each store holds its own records only ---------------------------------------------------------------
for t in A B; do
  if [ $t = A ]; then s=$storeA v=$vkeyA want='own own/held.txt own/posted.txt own/secret.txt'; else
    s=$storeB v=$vkeyB want='own own/held.txt own/posted.txt own/secret.txt'; fi
  got=$("$LEDGERFS" log "$s" --json | python3 -c '
import json, sys
paths = [e["path"] for e in json.load(sys.stdin)["entries"]]
print(" ".join(sorted(p[len("inbox/"):] if p.startswith("inbox/") else p for p in paths)))')
  [ "$got" = "$want" ] || fail "store $t holds '$got', expected '$want'"
  expect_exit 0 "$LEDGERFS" verify "$s" --vkey "$v"
done
echo "isolation: OK ($(($(date +%s) - t_start)) s)"
