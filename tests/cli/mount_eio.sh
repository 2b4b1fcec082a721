#!/usr/bin/env bash
# The tenant mount when the store's device fails (PRODUCT §4 "disk full, I/O error", docs/mount.md
# "When a file is sealed", docs/design.md "Crash story": a failed fsync is fatal).
#
# Part 1, a fault shim (tests/support/fault_shim.c, built here with cc, LD_PRELOADed into the
# daemon) aims EIO or ENOSPC at one step of a seal at a time:
#   - the content write, the content fdatasync, the commit-log write (EIO and ENOSPC): the writer
#     gets the errno at write() or close(), never 0; nothing is recorded (not in records/, not in
#     the log); the daemon carries on and the same name seals once the fault is gone; over HTTP the
#     same faults give 500 (EIO) and 507 (ENOSPC);
#   - the commit-log fdatasync: the writer gets EIO at close(); the log stops accepting appends
#     (critical line in the daemon log; later creates, mkdir and POSTs fail with EIO / 503 even
#     though the device is healthy again); acknowledged records stay readable through the mount
#     and over HTTP; SIGTERM stops the daemon with a non-zero status; restarted without the shim
#     it recovers, the log is dense and verifies, and writes work. The file whose commit fsync
#     failed may or may not be a record after the restart (its bytes may have reached the disk);
#     if it is, it is complete.
#   - a publication fsync (tile/): the write that was committed is acknowledged and readable; the
#     log stops; after the restart the checkpoint covers it.
# Part 2, a real faulty block device when the machine allows it (loop device + ext4; the loop
# device is shrunk to 4 KiB with LOOP_SET_STATUS64, so every I/O beyond it fails with EIO in the
# block layer, then given back its size): the writer gets an error, never 0; the daemon logs it;
# after the device is back, fsck and a remount, every acknowledged record reads back from the
# device and the log verifies. Skipped (with a message) where loop devices or ext4 are unavailable
# (device-mapper's dm-error would do the same; this kernel has none, so it is not used).
# Needs: LEDGERFS (the binary), root (FUSE), fusermount3, python3, cc; for part 2 mkfs.ext4,
# e2fsck, findmnt, `mount -o loop` (the loop device it makes goes away with the unmount).
set -euo pipefail

: "${LEDGERFS:?set LEDGERFS to the ledgerfs binary}"
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/mount.sh"
here=$(cd "$(dirname "$0")" && pwd)
ext4_mounted=""
on_exit() {
  mount_cleanup
  if [ -n "$ext4_mounted" ]; then
    local i
    for i in $(seq 1 50); do  # a killed daemon may hold files on it for a moment
      umount "$ext4_mounted" 2>/dev/null && break
      sleep 0.1
    done
    if grep -qs " $ext4_mounted " /proc/mounts; then umount -l "$ext4_mounted" || true; fi
  fi
}
t_start=$(date +%s)

export LEDGERFS_KEY_DIR="$work/keys"
mnt="$work/mnt"
mkdir "$work/copies"

# forget_pid PID: a daemon that was reaped; mount_cleanup must not kill its (maybe reused) pid.
forget_pid() {
  local i
  for i in "${!mount_pids[@]}"; do
    if [ "${mount_pids[$i]}" = "$1" ]; then mount_pids[i]=""; fi
  done
}
# sigterm_mount MNT PID: SIGTERM, wait; the daemon's exit code in $term_rc. The mount must be gone.
sigterm_mount() {
  term_rc=0
  kill -TERM "$2"
  wait "$2" || term_rc=$?
  forget_pid "$2"
  wait_unmounted "$1"
}
daemon_log() { echo "$work/daemon.$((${#mount_pids[@]} - 1)).log"; }
# check_recovered_and_writable STORE VKEY NAME WHEN: on the daemon just mounted at $mnt, every
# record acknowledged before is there (eio.py recovered), a new file NAME can be written and is
# acknowledged; then the mount verifies, is stopped, and the store's log and tree verify.
# WHEN ("the restart") goes into the messages.
check_recovered_and_writable() {
  local store=$1 vkey=$2 name=$3 when=$4
  DAEMON=$mount_pid python3 "$work/eio.py" recovered || fail "after $when (above)"
  python3 - "$mnt" "$work" "$name" "written after $when" <<'EOF' || fail "writing after $when failed"
import hashlib, os, sys
mnt, work, name, text = sys.argv[1:5]
data = text.encode() + b"\n"
with open(os.path.join(mnt, "inbox", name), "wb") as f:
    f.write(data)
open(os.path.join(work, "acked"), "a").write("%s %s\n" % (name, hashlib.sha256(data).hexdigest()))
EOF
  expect_exit 0 "$LEDGERFS" verify "$mnt" --vkey "$vkey"
  stop_mount "$mnt" "$mount_pid"
  forget_pid "$mount_pid"
  wait_unmounted "$mnt"
  python3 "$work/eio.py" logcheck "$store" || fail "the log after $when (above)"
  expect_exit 0 "$LEDGERFS" verify "$store" --vkey "$vkey"
}

# eio.py COMMAND ...: the checks, one python run per daemon. State shared between runs, in $work:
# acked ("PATH SHA256" per acknowledged file, "DIR PATH" per folder), maybe ("PATH SHA256": the
# writer got an error whose bytes may still have reached the disk), copies/PATH (what was written).
cat >"$work/eio.py" <<'EOF'
import errno, hashlib, json, os, sys, time, urllib.error, urllib.request
from ledger_log import read_log

work = os.environ["WORK"]
mnt = os.environ["MNT"]
trigger = os.environ.get("TRIGGER", "")
fault_log = os.environ.get("FAULT_LOG", "")
daemon = int(os.environ.get("DAEMON", "0"))
dlog = os.environ.get("DAEMON_LOG", "")
base = os.environ.get("BASE", "")
tenant = os.environ.get("TENANT", "")
rec = os.path.join(mnt, "records")
problems = []

def problem(msg):
    problems.append(msg)
    print("PROBLEM: " + msg, file=sys.stderr)

def done():
    sys.exit(1 if problems else 0)

def sha(b):
    return hashlib.sha256(b).hexdigest()

def data_for(path, size):
    d = (b"%s " % path.encode()) + os.urandom(size)
    return d[:size]

def remember(kind, path, data=None):
    with open(os.path.join(work, kind), "a") as f:
        f.write("DIR %s\n" % path if data is None else "%s %s\n" % (path, sha(data)))

def write(path, size):
    """Creates inbox/PATH with SIZE bytes in 64 KiB writes. Returns (errno name or "OK", call)."""
    data = data_for(path, size)
    c = os.path.join(work, "copies", path)
    os.makedirs(os.path.dirname(c), exist_ok=True)
    with open(c, "wb") as f:
        f.write(data)
    call = "open"
    try:
        fd = os.open(os.path.join(mnt, "inbox", path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        call = "write"
        try:
            off = 0
            while off < len(data):
                off += os.write(fd, data[off:off + 65536])
        except OSError:
            try:
                os.close(fd)
            except OSError:
                pass
            raise
        call = "close"
        os.close(fd)
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno)), call, data
    return "OK", "close", data

def write_ok(path, size):
    res, call, data = write(path, size)
    if res != "OK":
        problem("%s: %s at %s on a healthy store" % (path, res, call))
    else:
        remember("acked", path, data)
    return res == "OK"

def mkdir(path):
    try:
        os.mkdir(os.path.join(mnt, "inbox", path))
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    return "OK"

def set_trigger(spec):
    with open(trigger + ".tmp", "w") as f:
        f.write(spec + "\n")
    os.rename(trigger + ".tmp", trigger)

def clear_trigger():
    if os.path.exists(trigger):
        os.remove(trigger)

def faults():
    try:
        return open(fault_log).read().splitlines()
    except FileNotFoundError:
        return []

def alive():
    try:
        os.kill(daemon, 0)
        return True
    except OSError:
        return False

def absent(path, why):
    if os.path.lexists(os.path.join(rec, path)):
        problem("records/%s exists after %s" % (path, why))

def checkpoint_size():
    return int(open(os.path.join(mnt, "checkpoint"), "rb").read().split(b"\n")[1])

def wait_checkpoint(n, what):
    t0 = time.monotonic()
    while time.monotonic() - t0 < 5:
        if checkpoint_size() == n:
            return
        time.sleep(0.05)
    problem("%s: checkpoint size %d after 5 s, expected %d" % (what, checkpoint_size(), n))

def acked():
    files, dirs = {}, set()
    try:
        lines = open(os.path.join(work, "acked")).read().split("\n")
    except FileNotFoundError:
        lines = []
    for line in lines:
        if line.startswith("DIR "):
            dirs.add(line[4:])
        elif line:
            p, s = line.split()
            files[p] = s
    return files, dirs

def maybe():
    """Files ("PATH SHA256") and folders ("DIR PATH") whose writer got an error that may still
    have reached the disk: after a restart each is absent or exactly what was written."""
    out = {}
    try:
        for line in open(os.path.join(work, "maybe")):
            p, s = line.split()
            out[s if p == "DIR" else p] = None if p == "DIR" else s
    except FileNotFoundError:
        pass
    return out

def check_acked(where):
    files, dirs = acked()
    for d in dirs:
        if not os.path.isdir(os.path.join(rec, d)):
            problem("%s: acknowledged folder records/%s is missing" % (where, d))
    for p, s in files.items():
        try:
            got = sha(open(os.path.join(rec, p), "rb").read())
        except OSError as e:
            problem("%s: acknowledged records/%s: %s" % (where, p, e.strerror))
            continue
        if got != s:
            problem("%s: records/%s has sha256 %s, acknowledged %s" % (where, p, got, s))
    return len(files) + len(dirs)

def http(method, path, body=None, module=None):
    req = urllib.request.Request(base + path, data=body, method=method)
    req.add_header("X-Module-ID", module or tenant)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

def expect_failure(spec, path, size, want_errno, what):
    """One fault: SPEC in the trigger while PATH is written; the writer must get WANT_ERRNO at
    write or close; nothing may be recorded; the daemon must live; the same name then seals."""
    n = len(faults())
    set_trigger(spec)
    res, call, data = write(path, size)
    clear_trigger()
    hit = len(faults()) - n
    print("%-34s %-32s writer: %s at %s (%d faults injected)" % (what, "[" + spec + "]", res, call, hit))
    if res == "OK":
        problem("%s: close() returned 0 while the store failed (a false success)" % path)
    elif res != want_errno or call not in ("write", "close"):
        problem("%s: %s at %s, expected %s at write or close" % (path, res, call, want_errno))
    if hit == 0:
        problem("%s: the shim injected no fault (does %s match the store's files?)" % (path, spec))
    absent(path, spec)
    if not alive():
        problem("the daemon died after [%s]" % spec)
    write_ok(path, 2000)  # the name is free again and the store takes writes

def main(cmd):
    if cmd == "healthy-then-faults":
        # --- acknowledged records before any fault ---------------------------------------------
        assert mkdir("base") == "OK"
        remember("acked", "base")
        for i in range(10):
            write_ok("base/f%d" % i, [1, 5000, 70000, 300000][i % 4])
        n = 11
        wait_checkpoint(n, "before the faults")
        # --- faults that stop one seal, not the log ---------------------------------------------
        expect_failure("EIO write .ledger/staging/", "c1", 300000, "EIO", "content write")
        expect_failure("EIO sync .ledger/staging/", "c2", 3000, "EIO", "content fdatasync")
        expect_failure("EIO write .ledger/wal/", "c3", 3000, "EIO", "commit-log write")
        expect_failure("ENOSPC write .ledger/staging/", "c4", 300000, "ENOSPC", "content write")
        expect_failure("ENOSPC write .ledger/wal/", "c5", 3000, "ENOSPC", "commit-log write")
        n += 5
        set_trigger("EIO write .ledger/wal/")
        res = mkdir("d1")
        clear_trigger()
        print("%-34s %-32s mkdir: %s" % ("commit-log write", "[EIO write .ledger/wal/]", res))
        if res != "EIO":
            problem("mkdir d1 with a failing commit log: %s, expected EIO" % res)
        absent("d1", "a failed mkdir")
        if mkdir("d1") != "OK":
            problem("mkdir d1 after the fault: failed")
        else:
            remember("acked", "d1")
            n += 1
        for spec, want in [("EIO write .ledger/staging/", 500), ("ENOSPC write .ledger/staging/", 507),
                           ("EIO write .ledger/wal/", 500)]:
            set_trigger(spec)
            status, body = http("POST", "/records/h%d" % want, os.urandom(100000))
            clear_trigger()
            print("%-34s %-32s POST: %d" % ("HTTP", "[" + spec + "]", status))
            if status != want:
                problem("POST /records/h%d under [%s]: %d %r, expected %d" % (want, spec, status, body[:200], want))
            absent("h%d" % want, "a failed POST")
        status, body = http("POST", "/records/h201", b"posted after the faults")
        if status != 201:
            problem("POST after the faults: %d %r" % (status, body[:200]))
        else:
            remember("acked", "h201", b"posted after the faults")
            n += 1
        wait_checkpoint(n, "after the faults")
        check_acked("after the faults")
        if not alive():
            problem("the daemon died")
        # --- the commit-log fsync fails: fatal ------------------------------------------------------
        set_trigger("EIO sync .ledger/wal/")
        res, call, data = write("fatal", 3000)
        clear_trigger()
        print("%-34s %-32s writer: %s at %s" % ("commit-log fdatasync", "[EIO sync .ledger/wal/]", res, call))
        if res != "EIO" or call != "close":
            problem("fatal: %s at %s, expected EIO at close" % (res, call))
        with open(os.path.join(work, "maybe"), "a") as f:
            f.write("fatal %s\n" % sha(data))
        absent("fatal", "a failed commit fsync")
        time.sleep(0.3)
        # The device is healthy again, but the log has stopped: every change is refused.
        res2, call2, _ = write("after-fatal", 100)
        res3 = mkdir("after-fatal-dir")
        st, body = http("POST", "/records/after-fatal-http", b"x")
        print("%-34s %-32s writer: %s at %s; mkdir: %s; POST: %d" % ("after the fatal error", "[no fault]", res2, call2, res3, st))
        if res2 != "EIO" or call2 != "close":
            problem("a write after the commit fsync failed: %s at %s, expected EIO at close" % (res2, call2))
        if res3 != "EIO":
            problem("a mkdir after the commit fsync failed: %s, expected EIO" % res3)
        if st != 503:
            problem("a POST after the commit fsync failed: %d %r, expected 503" % (st, body[:200]))
        for p in ["after-fatal", "after-fatal-dir", "after-fatal-http"]:
            absent(p, "the log stopped")
        log = open(dlog).read()
        if "critical" not in log or "the log stopped accepting appends" not in log or "fsync" not in log:
            problem("the daemon log does not say why the log stopped:\n" + log[-2000:])
        # Acknowledged records stay readable, through the mount and over HTTP.
        if not alive():
            problem("the daemon died after the fatal error")
        k = check_acked("after the fatal error")
        files, _ = acked()
        st, body = http("GET", "/records/base/f2")
        if st != 200 or sha(body) != files["base/f2"]:
            problem("GET /records/base/f2 after the fatal error: %d" % st)
        if checkpoint_size() != n:
            problem("checkpoint size %d after the fatal error, expected %d" % (checkpoint_size(), n))
        print("after the fatal error: %d acknowledged records and folders read back; checkpoint %d" % (k, n))
    elif cmd == "recovered":
        # A daemon without the shim on the same store: recovery, every acknowledged record, the
        # possibly-durable one complete or absent, a dense log, new writes.
        check_acked("after the restart")
        m = maybe()
        for p, s in m.items():
            f = os.path.join(rec, p)
            if s is None:
                state = "a folder" if os.path.isdir(f) else "absent"
            elif os.path.lexists(f):
                got = sha(open(f, "rb").read())
                state = "a complete record" if got == s else "A DIFFERENT RECORD"
                if got != s:
                    problem("records/%s after the restart is not what its writer wrote" % p)
            else:
                state = "absent"
            print("after the restart: %s (its writer got an error) is %s" % (p, state))
        for p in ["after-fatal", "after-fatal-dir", "after-fatal-http"]:
            absent(p, "the restart")
    elif cmd == "publish-fault":
        n = checkpoint_size()
        set_trigger("EIO sync tile/")
        res, call, data = write("published-late", 5000)
        print("%-34s %-32s writer: %s at %s" % ("publication fsync", "[EIO sync tile/]", res, call))
        if res != "OK":
            problem("published-late: %s at %s: the commit was durable, close() should return 0" % (res, call))
        else:
            remember("acked", "published-late", data)
        t0 = time.monotonic()
        while "the log stopped accepting appends" not in open(dlog).read():
            if time.monotonic() - t0 > 5:
                problem("the publisher's fsync failure was not logged within 5 s")
                break
            time.sleep(0.05)
        clear_trigger()
        check_acked("after the publication fault")
        if checkpoint_size() != n:
            problem("checkpoint size %d after a failed publication, expected %d" % (checkpoint_size(), n))
        res, call, _ = write("after-publish-fault", 100)
        print("%-34s %-32s writer: %s at %s" % ("after the publication fault", "[no fault]", res, call))
        if res != "EIO":
            problem("a write after the failed publication: %s at %s, expected EIO" % (res, call))
        absent("after-publish-fault", "the log stopped")
    elif cmd == "logcheck":
        # The store's whole log (after a clean stop): dense, each path once, exactly the
        # acknowledged records (and, at most, those in `maybe`), with their digests.
        store = sys.argv[2]
        entries, size = read_log(os.environ["LEDGERFS"], store)
        if [e["index"] for e in entries] != list(range(size)):
            problem("log indices are not dense")
        paths = [e["path"] for e in entries]
        if paths and all(p.startswith("inbox/") for p in paths):
            paths = [p[len("inbox/"):] for p in paths]
        if len(set(paths)) != len(paths):
            problem("the log names a path twice")
        files, dirs = acked()
        m = maybe()
        for e, p in zip(entries, paths):
            if e["kind"] == "directory":
                if p not in dirs and not (p in m and m[p] is None):
                    problem("log entry %d: folder %s was not acknowledged" % (e["index"], p))
            elif p in files:
                if e["sha256"] != files[p]:
                    problem("log entry %d: %s has another digest than acknowledged" % (e["index"], p))
            elif p in m:
                if e["sha256"] != m[p]:
                    problem("log entry %d: %s is not what its writer wrote" % (e["index"], p))
            else:
                problem("log entry %d: %s was never acknowledged" % (e["index"], p))
        missing = (set(files) | dirs) - set(paths)
        if missing:
            problem("acknowledged but not in the log: %s" % sorted(missing))
        print("log: %d entries, dense; %d acknowledged; %d written with an error and recorded anyway"
              % (size, len(files) + len(dirs), len(set(paths) & set(m))))
    elif cmd == "device-healthy":
        assert mkdir("dev") == "OK"
        remember("acked", "dev")
        for i in range(6):
            write_ok("dev/f%d" % i, [3000, 200000, 1][i % 3])
        wait_checkpoint(7, "on the loop device")
    elif cmd == "device-failed":
        res, call, data = write("dev/broken", 300000)
        print("%-34s %-32s writer: %s at %s" % ("the device fails", "[loop device shrunk]", res, call))
        if res == "OK":
            problem("dev/broken: close() returned 0 on a failed device (a false success)")
        with open(os.path.join(work, "maybe"), "a") as f:
            f.write("dev/broken %s\n" % sha(data))
        res2 = mkdir("dev/broken-dir")
        with open(os.path.join(work, "maybe"), "a") as f:
            f.write("DIR dev/broken-dir\n")
        res3, call3, data3 = write("dev/broken2", 10)
        print("%-34s %-32s mkdir: %s; writer: %s at %s" % ("the device fails", "[loop device shrunk]", res2, res3, call3))
        if res2 == "OK":
            problem("mkdir dev/broken-dir returned 0 on a failed device")
        if res3 == "OK":
            problem("dev/broken2: close() returned 0 on a failed device")
        with open(os.path.join(work, "maybe"), "a") as f:
            f.write("dev/broken2 %s\n" % sha(data3))
        if not alive():
            problem("the daemon died when the device failed")
        # Acknowledged records were written through the page cache, which still has them.
        check_acked("with the device failed (page cache)")
    else:
        sys.exit("unknown command " + cmd)
    done()

main(sys.argv[1])
EOF
export WORK="$work" MNT="$mnt" TENANT=eio LEDGERFS

# ================================ part 1: the fault shim ==========================================
cc -shared -fPIC -O2 -o "$work/fault_shim.so" "$here/../support/fault_shim.c" -ldl ||
  fail "could not build the fault shim with cc"
# $shimmed runs ledgerfs with the shim preloaded (exec: same pid), after the sanitizer runtime of
# a sanitizer build, which wants to come first in the library list.
preload="$work/fault_shim.so"
san=$(ldd "$LEDGERFS" 2>/dev/null | awk '/lib(a|t)san\.so/ {print $3; exit}')
if [ -n "$san" ]; then preload="$san:$preload"; fi
shimmed="$work/ledgerfs-with-shim"
printf '#!/bin/sh\nLD_PRELOAD=%q exec %q "$@"\n' "$preload" "$LEDGERFS" >"$shimmed"
chmod +x "$shimmed"
store="$work/eio"  # the tenant name is the folder's
vkey=$("$LEDGERFS" init "$store" --origin test.example/eio)
store=$(realpath "$store")
# The shim's settings; only a process with the shim preloaded (the daemons below) reads them.
export LEDGERFS_FAULT_DIR="$store" LEDGERFS_FAULT_TRIGGER="$work/trigger" LEDGERFS_FAULT_LOG="$work/faults"
export TRIGGER="$work/trigger" FAULT_LOG="$work/faults"

echo "== daemon 1 (shim): faults that fail one seal, then a commit-log fsync that stops the log"
LEDGERFS=$shimmed start_mount "$store" "$mnt" --checkpoint-delay 200 --listen 127.0.0.1:0
d1=$mount_pid
d1log=$(daemon_log)
for _ in $(seq 1 100); do grep -q 'serving http://' "$d1log" && break; sleep 0.05; done
BASE=$(grep -o 'serving http://[^ ]*' "$d1log" | head -1 | sed 's/^serving //; s,/$,,')
[ -n "$BASE" ] || fail "daemon 1 did not log its HTTP address"
grep -q "fault_shim.so" /proc/"$d1"/maps || fail "the daemon runs without the shim"
DAEMON=$d1 DAEMON_LOG=$d1log BASE=$BASE python3 "$work/eio.py" healthy-then-faults ||
  fail "faults through the shim (above)"
sigterm_mount "$mnt" "$d1"
echo "daemon 1 exited $term_rc on SIGTERM with its log stopped"
# It could not publish the final checkpoint the documented clean stop promises: not a 0.
[ "$term_rc" != 0 ] || fail "daemon 1 exited 0 on SIGTERM although its log had stopped"
grep -q "final publication failed" "$d1log" || fail "daemon 1 did not log that the final publication failed"
grep -E "critical" "$d1log" | sed 's/^/  daemon log: /'
expect_exit 0 "$LEDGERFS" verify "$store" --vkey "$vkey"  # what was published before the fault

echo "== daemon 2 (no shim): recovery on a healthy device"
start_mount "$store" "$mnt" --checkpoint-delay 200
check_recovered_and_writable "$store" "$vkey" after-restart "the restart"

echo "== daemon 3 (shim): a publication fsync fails after the commit"
LEDGERFS=$shimmed start_mount "$store" "$mnt" --checkpoint-delay 200
d3=$mount_pid
DAEMON=$d3 DAEMON_LOG=$(daemon_log) python3 "$work/eio.py" publish-fault || fail "publication fault (above)"
sigterm_mount "$mnt" "$d3"
echo "daemon 3 exited $term_rc on SIGTERM with its log stopped"
[ "$term_rc" != 0 ] || fail "daemon 3 exited 0 on SIGTERM although its log had stopped"

echo "== daemon 4 (no shim): recovery publishes the acknowledged record"
start_mount "$store" "$mnt" --checkpoint-delay 200
DAEMON=$mount_pid python3 "$work/eio.py" recovered || fail "after the second restart (above)"
expect_exit 0 "$LEDGERFS" verify "$mnt" --vkey "$vkey"
stop_mount "$mnt" "$mount_pid"
forget_pid "$mount_pid"
wait_unmounted "$mnt"
python3 "$work/eio.py" logcheck "$store" || fail "the log after the second restart (above)"
expect_exit 0 "$LEDGERFS" verify "$store" --vkey "$vkey"
unset LD_PRELOAD LEDGERFS_FAULT_DIR LEDGERFS_FAULT_TRIGGER LEDGERFS_FAULT_LOG

# ================================ part 2: a real faulty device ===================================
# set_loop_limit DEV BYTES: the loop device's size limit (0: the whole backing file), live.
set_loop_limit() {
  python3 - "$1" "$2" <<'EOF'
import fcntl, os, struct, sys
LOOP_SET_STATUS64, LOOP_GET_STATUS64 = 0x4C04, 0x4C05
fd = os.open(sys.argv[1], os.O_RDONLY)
info = bytearray(232)  # struct loop_info64
fcntl.ioctl(fd, LOOP_GET_STATUS64, info)
struct.pack_into("=Q", info, 32, int(sys.argv[2]))  # lo_sizelimit
fcntl.ioctl(fd, LOOP_SET_STATUS64, info)
EOF
}
skip_device() {
  echo "== part 2 SKIPPED: $*"
  echo "mount_eio: OK (shim only; $(($(date +%s) - t_start)) s)"
  exit 0
}
command -v mkfs.ext4 >/dev/null && command -v e2fsck >/dev/null && command -v findmnt >/dev/null ||
  skip_device "mkfs.ext4, e2fsck or findmnt missing"
truncate -s 64M "$work/disk.img"
mkfs.ext4 -q -F "$work/disk.img" >"$work/err" 2>&1 || skip_device "mkfs.ext4 failed: $(cat "$work/err")"
mkdir "$work/disk"
# mount_disk: ext4 on a loop device made by mount (autoclear: unmounting frees it); sets $loopdev.
mount_disk() {
  mount -o loop -t ext4 "$work/disk.img" "$work/disk" 2>"$work/err" || return 1
  ext4_mounted="$work/disk"
  loopdev=$(findmnt -n -o SOURCE "$work/disk")
  [ -b "$loopdev" ]
}
mount_disk || skip_device "cannot mount ext4 on a loop device: $(cat "$work/err")"
set_loop_limit "$loopdev" 0 2>"$work/err" || skip_device "LOOP_SET_STATUS64 refused: $(cat "$work/err")"

echo "== part 2: the store on ext4 on $loopdev; the device fails under the daemon"
: >"$work/acked"
: >"$work/maybe"
dstore="$work/disk/devstore"
dvkey=$("$LEDGERFS" init "$dstore" --origin test.example/dev)
start_mount "$dstore" "$mnt" --checkpoint-delay 200
dd_pid=$mount_pid
DAEMON=$dd_pid python3 "$work/eio.py" device-healthy || fail "writing to the healthy loop device (above)"
set_loop_limit "$loopdev" 4096  # from now on every I/O beyond the first 4 KiB fails with EIO
DAEMON=$dd_pid DAEMON_LOG=$(daemon_log) python3 "$work/eio.py" device-failed || fail "with the device failed (above)"
grep -E "error|critical" "$(daemon_log)" | tail -4 | sed 's/^/  daemon log: /'
grep -qE "Input/output error|Read-only file system" "$(daemon_log)" || fail "the daemon did not log the device's errors"
set_loop_limit "$loopdev" 0  # the device is back
sigterm_mount "$mnt" "$dd_pid"
echo "the daemon exited $term_rc on SIGTERM after the device failed"
umount "$work/disk" || fail "umount of the ext4 store failed"
ext4_mounted=""
rc=0
e2fsck -fy "$work/disk.img" >"$work/fsck" 2>&1 || rc=$?
echo "e2fsck -fy: exit $rc"
[ "$rc" -le 1 ] || { cat "$work/fsck" >&2; fail "e2fsck could not repair the filesystem (exit $rc)"; }
mount_disk || fail "remount of the ext4 store failed: $(cat "$work/err")"
start_mount "$dstore" "$mnt" --checkpoint-delay 200
check_recovered_and_writable "$dstore" "$dvkey" dev-after "the device came back"
echo "mount_eio: OK (shim and loop device; $(($(date +%s) - t_start)) s)"
