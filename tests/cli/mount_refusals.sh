#!/usr/bin/env bash
# Every refusal of the tenant mount, with its exact errno (docs/mount.md "What each operation does",
# PRODUCT §2, §4), and what stays unchanged after it: the record's bytes (cmp), what records/
# shows (mode 0440/0550, owner, size, mtime), the tile/ tree and the log's size. Rows: create or
# open-for-write of a sealed name or of a name being written (O_EXCL EEXIST, otherwise EPERM),
# cp/`>`/`>>` onto it; read through inbox/ (EACCES); rename, unlink, rmdir, link, truncate (EPERM);
# symlink and mknod (EPERM in inbox/, EROFS elsewhere); chmod/chown/utimensat in inbox/ accepted
# and ignored; extended attributes anywhere (ENOSYS from the daemon, ENOTSUP to the caller); any
# change under records/, tile/, checkpoint and the root (EROFS); path limits (ENAMETOOLONG). And the
# seal rules: dd and `echo >` (first close at size 0), ftruncate and fallocate by the writer before
# close, fsync does not seal, a dup'ed descriptor after the seal, fchmod/fchown/futimens before
# close, a writer killed by SIGKILL or SIGTERM leaves no record and frees its name.
# Needs: LEDGERFS (the binary), root (FUSE), fusermount3, python3, dd, cmp, sha256sum.
set -euo pipefail

: "${LEDGERFS:?set LEDGERFS to the ledgerfs binary}"
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/mount.sh"
writer_pids=()
on_exit() {
  local p
  for p in "${writer_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  mount_cleanup
}

export LEDGERFS_KEY_DIR="$work/keys"
store="$work/store"
mnt="$work/mnt"
origin="test.example/x"
vkey=$("$LEDGERFS" init "$store" --origin "$origin")

# --- helpers -------------------------------------------------------------------------------------
# expect_errno WANT CODE [ARG...]: queues a check: the Python statements CODE, with os, errno,
# openclose (open then close) and fallocate in scope and the ARGs as a, b, c, …, must end with
# errno WANT (a name, OK for success, or alternatives separated by '|'). run_checks runs the queue
# in order in one Python process (python3 may be a slow shim: one process per check would take
# minutes) and fails the test with every mismatch; run it before anything that depends on a check.
checks="$work/checks"
: >"$checks"
cat >"$work/run_checks.py" <<'EOF'
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong]
def fallocate(fd, mode, offset, length):
    if libc.fallocate(fd, mode, offset, length) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
def openclose(path, flags, mode=0o600):
    fd = os.open(path, flags, mode)
    os.close(fd)
tokens = [os.fsdecode(t) for t in open(sys.argv[1], "rb").read().split(b"\0")[:-1]]
failures, i, n = [], 0, 0
while i < len(tokens):
    want, code, count = tokens[i], tokens[i + 1], int(tokens[i + 2])
    args = tokens[i + 3:i + 3 + count]
    i += 3 + count
    n += 1
    scope = {"os": os, "errno": errno, "openclose": openclose, "fallocate": fallocate}
    scope.update(zip("abcdefgh", args))
    try:
        exec(code, scope)
        num = 0
    except OSError as e:
        num = e.errno
    except BaseException as e:
        failures.append("%s %s: expected %s, raised %r" % (code.strip(), args, want, e))
        continue
    if not any((alt == "OK" and num == 0) or (alt != "OK" and num == getattr(errno, alt))
               for alt in want.split("|")):
        got = "OK" if num == 0 else "%s (%s)" % (errno.errorcode.get(num, num), os.strerror(num))
        failures.append("%s %s: expected %s, got %s" % (code.strip(), args, want, got))
for f in failures:
    print("  " + f, file=sys.stderr)
if failures:
    sys.exit("%d of %d checks failed" % (len(failures), n))
EOF
expect_errno() {
  local want=$1 code=$2
  shift 2
  printf '%s\0' "$want" "$code" "$#" "$@" >>"$checks"
}
run_checks() {
  [ -s "$checks" ] || return 0
  mv "$checks" "$checks.run"
  : >"$checks"
  python3 "$work/run_checks.py" "$checks.run" || fail "errno checks failed (above)"
}

# expect_fails CMD...: a tool must exit non-zero.
expect_fails() {
  local rc=0
  "$@" >/dev/null 2>&1 || rc=$?
  [ "$rc" != 0 ] || fail "exit 0, expected a failure: $*"
}

# $expect lists every record the store must hold ("file PATH SOURCE" or "dir PATH -", tab-separated).
expect="$work/expect"
: >"$expect"
expect_file() { printf 'file\t%s\t%s\n' "$1" "$2" >>"$expect"; }
expect_dir() { printf 'dir\t%s\t-\n' "$1" >>"$expect"; }
count_expected() { wc -l <"$expect" | tr -d ' '; }

wait_exists() {  # a file never written is sealed a moment after its last close: up to 5 s
  local i
  for i in $(seq 1 100); do
    [ -e "$1" ] && return 0
    sleep 0.05
  done
  fail "$1 did not appear within 5 s"
}
wait_file() {  # wait_file PATH: up to 10 s for a marker file written by a helper process
  local i
  for i in $(seq 1 200); do
    [ -e "$1" ] && return 0
    sleep 0.05
  done
  fail "$1 did not appear within 10 s"
}

# snapshot FILE: what records/ shows (kind, mode, owner, size, mtime of each entry; sha256 of each
# file), the modes and owners in inbox/, and the tile/ tree with its digests.
snapshot() {
  {
    (cd "$mnt/records" && find . -mindepth 1 -printf '%p %y %m %U %G %s %T@\n' | LC_ALL=C sort)
    (cd "$mnt/records" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
    (cd "$mnt/inbox" && find . -printf 'inbox %p %y %m %U %G\n' | LC_ALL=C sort)
    (cd "$mnt/tile" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
  } >"$1"
}
# assert_unchanged WHAT: every file record is byte-identical to its source (cmp), the snapshot
# taken before is unchanged, and no record was added (the checkpoint, 0.5 s after the last
# operation with a 200 ms checkpoint delay, still has the expected size).
assert_unchanged() {
  local kind path src
  run_checks
  while IFS=$'\t' read -r kind path src; do
    if [ "$kind" = file ]; then
      cmp "$mnt/records/$path" "$src" || fail "$1: records/$path changed"
    fi
  done <"$expect"
  snapshot "$work/snap.after"
  diff "$work/snap.before" "$work/snap.after" >&2 || fail "$1: records/, inbox/ or tile/ changed"
  sleep 0.5
  [ "$(checkpoint_size "$mnt")" = "$(count_expected)" ] || fail "$1: the log has $(checkpoint_size "$mnt") records, expected $(count_expected)"
}

# --- fixtures: a sealed file, a folder with a file, an empty folder, an empty file ---------------
orig="$work/orig"
mkdir "$orig"
printf 'sealed content\n' >"$orig/sealed.txt"
printf 'inner content\n' >"$orig/inner.txt"
printf 'other content, never recorded\n' >"$orig/other.txt"
: >"$orig/empty"

start_mount "$store" "$mnt" --checkpoint-delay 200
daemon=$mount_pid
in="$mnt/inbox"
rec="$mnt/records"
cp "$orig/sealed.txt" "$in/sealed.txt"
expect_file sealed.txt "$orig/sealed.txt"
mkdir "$in/dir"
expect_dir dir
cp "$orig/inner.txt" "$in/dir/inner.txt"
expect_file dir/inner.txt "$orig/inner.txt"
mkdir "$in/emptydir"
expect_dir emptydir
touch "$in/zero"
expect_file zero "$orig/empty"
wait_exists "$rec/zero"
wait_checkpoint "$mnt" "$(count_expected)"
tile_file=$(cd "$mnt" && find tile -type f | LC_ALL=C sort | head -1)
[ -n "$tile_file" ] || fail "the mount has no tile file"
tile_dir=$(dirname "$tile_file")
snapshot "$work/snap.before"

# --- sealed names in inbox/: create or open for writing, read ------------------------------------
for f in sealed.txt dir/inner.txt zero; do
  p="$in/$f"
  expect_errno EEXIST 'openclose(a, os.O_WRONLY | os.O_CREAT | os.O_EXCL)' "$p"
  expect_errno EPERM 'openclose(a, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)' "$p"
  expect_errno EPERM 'openclose(a, os.O_WRONLY | os.O_TRUNC)' "$p"
  expect_errno EPERM 'openclose(a, os.O_WRONLY | os.O_APPEND)' "$p"
  expect_errno EPERM 'openclose(a, os.O_WRONLY | os.O_CREAT | os.O_APPEND)' "$p"
  expect_errno EPERM 'openclose(a, os.O_WRONLY)' "$p"
  expect_errno EPERM 'openclose(a, os.O_WRONLY | os.O_CREAT)' "$p"
  # O_RDWR is both a read (EACCES) and a write of an existing name (EPERM); the table names neither.
  expect_errno 'EPERM|EACCES' 'openclose(a, os.O_RDWR)' "$p"
  expect_errno EACCES 'openclose(a, os.O_RDONLY)' "$p"
  expect_errno OK 'import stat; assert stat.S_ISREG(os.stat(a).st_mode)' "$p"
done
run_checks
expect_fails cp "$orig/other.txt" "$in/sealed.txt"
expect_fails cp "$orig/other.txt" "$in/dir/inner.txt"
expect_fails bash -c 'echo overwrite >"$1"' _ "$in/sealed.txt"
expect_fails bash -c 'echo append >>"$1"' _ "$in/sealed.txt"
expect_fails cat "$in/sealed.txt"
expect_fails dd if="$orig/other.txt" of="$in/sealed.txt" status=none
expect_fails dd if="$orig/other.txt" of="$in/sealed.txt" conv=notrunc status=none
assert_unchanged "create/open of sealed names"

# --- rename, unlink, rmdir, link, truncate in inbox/: EPERM --------------------------------------
expect_errno EPERM 'os.rename(a, b)' "$in/sealed.txt" "$in/renamed.txt"
expect_errno EPERM 'os.rename(a, b)' "$in/sealed.txt" "$in/dir/sealed.txt"
expect_errno EPERM 'os.rename(a, b)' "$in/zero" "$in/sealed.txt"
expect_errno EPERM 'os.rename(a, b)' "$in/dir/inner.txt" "$in/inner.txt"
expect_errno EPERM 'os.rename(a, b)' "$in/dir" "$in/dir2"
expect_errno EPERM 'os.rename(a, b)' "$in/emptydir" "$in/dir/emptydir"
expect_errno EPERM 'os.rename(a, b)' "$in/emptydir" "$in/emptydir2"
expect_errno EPERM 'os.unlink(a)' "$in/sealed.txt"
expect_errno EPERM 'os.unlink(a)' "$in/dir/inner.txt"
expect_errno EPERM 'os.unlink(a)' "$in/zero"
expect_errno EPERM 'os.rmdir(a)' "$in/emptydir"
expect_errno EPERM 'os.rmdir(a)' "$in/dir"
expect_errno EPERM 'os.link(a, b)' "$in/sealed.txt" "$in/hard.txt"
expect_errno EPERM 'os.link(a, b)' "$in/sealed.txt" "$in/dir/hard.txt"
expect_errno EPERM 'os.truncate(a, 0)' "$in/sealed.txt"
expect_errno EPERM 'os.truncate(a, 4)' "$in/sealed.txt"
expect_errno EPERM 'os.truncate(a, 1000)' "$in/sealed.txt"
expect_errno EPERM 'os.truncate(a, os.stat(a).st_size)' "$in/sealed.txt"
expect_errno EPERM 'os.truncate(a, 10)' "$in/zero"
run_checks
expect_fails mv "$in/sealed.txt" "$in/moved.txt"
expect_fails rm -f "$in/sealed.txt"
expect_fails rm -rf "$in/dir"
expect_fails rmdir "$in/emptydir"
expect_fails ln "$in/sealed.txt" "$in/ln.txt"
expect_fails truncate -s 0 "$in/sealed.txt"
for p in renamed.txt dir/sealed.txt inner.txt dir2 dir/emptydir emptydir2 hard.txt dir/hard.txt moved.txt ln.txt; do
  [ ! -e "$in/$p" ] && [ ! -e "$rec/$p" ] || fail "a refused operation made $p"
done
assert_unchanged "rename/unlink/rmdir/link/truncate"

# --- symlink and mknod: EPERM in inbox/, EROFS elsewhere -----------------------------------------
expect_errno EPERM 'os.symlink("sealed.txt", a)' "$in/symlink"
expect_errno EPERM 'os.symlink("/etc/passwd", a)' "$in/dir/symlink"
expect_errno EPERM 'os.mkfifo(a, 0o600)' "$in/fifo"
expect_errno EPERM 'import stat; os.mknod(a, stat.S_IFCHR | 0o600, os.makedev(1, 3))' "$in/dir/null"
expect_errno EPERM 'import stat; os.mknod(a, stat.S_IFSOCK | 0o600)' "$in/emptydir/sock"
for d in "$rec" "$rec/dir" "$mnt/tile" "$mnt/$tile_dir" "$mnt"; do
  expect_errno EROFS 'os.symlink("x", a)' "$d/symlink"
  expect_errno EROFS 'os.mkfifo(a, 0o600)' "$d/fifo"
  expect_errno EROFS 'import stat; os.mknod(a, stat.S_IFSOCK | 0o600)' "$d/sock"
done
run_checks
expect_fails ln -s sealed.txt "$in/ln-s"
expect_fails mkfifo "$in/mkfifo"
assert_unchanged "symlink/mknod"

# --- chmod, chown, utimensat in inbox/: accepted, nothing changes --------------------------------
for p in "$in/sealed.txt" "$in/dir/inner.txt" "$in/zero" "$in/dir" "$in/emptydir"; do
  expect_errno OK 'os.chmod(a, 0o777)' "$p"
  expect_errno OK 'os.chmod(a, 0o000)' "$p"
  expect_errno OK 'os.chown(a, 1234, 5678)' "$p"
  expect_errno OK 'os.chown(a, -1, 4321)' "$p"
  expect_errno OK 'os.utime(a, (1000000000, 1000000000))' "$p"
  expect_errno OK 'os.utime(a, ns=(1, 2))' "$p"
  expect_errno OK 'os.utime(a)' "$p"
done
run_checks
chmod 644 "$in/sealed.txt" || fail "chmod of a sealed file failed"
chown 1:1 "$in/sealed.txt" || fail "chown of a sealed file failed"
touch -c -m -d 2001-02-03T04:05:06Z "$in/sealed.txt" || fail "touch -c of a sealed file failed"
chmod -R 755 "$in/dir" || fail "chmod -R of an inbox folder failed"
assert_unchanged "chmod/chown/utimensat"

# --- extended attributes, anywhere: the daemon answers ENOSYS, the caller sees ENOTSUP -----------
for p in "$in/sealed.txt" "$in/dir" "$in" "$rec/sealed.txt" "$rec/dir" "$rec" "$mnt/checkpoint" \
  "$mnt/$tile_file" "$mnt/tile" "$mnt"; do
  expect_errno ENOTSUP 'os.setxattr(a, "user.test", b"1")' "$p"
  expect_errno ENOTSUP 'os.getxattr(a, "user.test")' "$p"
  expect_errno ENOTSUP 'os.listxattr(a)' "$p"
  expect_errno ENOTSUP 'os.removexattr(a, "user.test")' "$p"
done
assert_unchanged "xattrs"

# --- any change under records/, tile/, checkpoint, the root: EROFS -------------------------------
for p in "$rec/sealed.txt" "$rec/dir/inner.txt" "$rec/zero" "$mnt/checkpoint" "$mnt/$tile_file"; do
  expect_errno EROFS 'openclose(a, os.O_WRONLY)' "$p"
  expect_errno EROFS 'openclose(a, os.O_WRONLY | os.O_TRUNC)' "$p"
  expect_errno EROFS 'openclose(a, os.O_WRONLY | os.O_APPEND)' "$p"
  expect_errno EROFS 'openclose(a, os.O_RDWR)' "$p"
  expect_errno EROFS 'os.truncate(a, 0)' "$p"
  expect_errno EROFS 'os.unlink(a)' "$p"
  expect_errno EROFS 'os.rename(a, a + ".moved")' "$p"
  expect_errno EROFS 'os.link(a, a + ".link")' "$p"
  expect_errno EROFS 'os.chmod(a, 0o644)' "$p"
  expect_errno EROFS 'os.chown(a, 1, 1)' "$p"
  expect_errno EROFS 'os.utime(a, (1000000000, 1000000000))' "$p"
done
for d in "$rec" "$rec/dir" "$rec/emptydir" "$mnt/tile" "$mnt/$tile_dir" "$mnt"; do
  expect_errno EROFS 'openclose(a, os.O_WRONLY | os.O_CREAT)' "$d/new"
  expect_errno EROFS 'openclose(a, os.O_WRONLY | os.O_CREAT | os.O_EXCL)' "$d/new"
  expect_errno EROFS 'os.mkdir(a)' "$d/newdir"
  expect_errno EROFS 'os.chmod(a, 0o755)' "$d"
  expect_errno EROFS 'os.chown(a, 1, 1)' "$d"
  expect_errno EROFS 'os.utime(a, (1000000000, 1000000000))' "$d"
done
expect_errno EROFS 'os.rmdir(a)' "$rec/emptydir"
expect_errno EROFS 'os.rmdir(a)' "$rec/dir"
expect_errno EROFS 'os.rename(a, b)' "$rec/dir" "$rec/dir2"
expect_errno EROFS 'os.rename(a, b)' "$rec/emptydir" "$rec/dir/emptydir"
expect_errno EROFS 'os.rmdir(a)' "$mnt/$tile_dir"
expect_errno EROFS 'os.rename(a, b)' "$mnt/$tile_dir" "$mnt/tile/moved"
for top in inbox records tile; do
  expect_errno EROFS 'os.rmdir(a)' "$mnt/$top"
  expect_errno EROFS 'os.rename(a, b)' "$mnt/$top" "$mnt/$top.moved"
done
# Between inbox/ and records/ both refusals apply; the table does not say which errno wins.
expect_errno 'EPERM|EROFS' 'os.rename(a, b)' "$in/sealed.txt" "$rec/moved.txt"
expect_errno 'EPERM|EROFS' 'os.rename(a, b)' "$rec/sealed.txt" "$in/moved.txt"
expect_errno 'EPERM|EROFS' 'os.link(a, b)' "$rec/sealed.txt" "$in/linked.txt"
run_checks
expect_fails cp "$orig/other.txt" "$rec/sealed.txt"
expect_fails cp "$orig/other.txt" "$rec/"
expect_fails rm -f "$rec/sealed.txt"
expect_fails touch "$rec/new"
expect_fails mkdir "$rec/newdir"
expect_fails bash -c 'echo x >"$1"' _ "$mnt/checkpoint"
expect_fails bash -c 'echo x >"$1"' _ "$mnt/new"
expect_fails mkdir "$mnt/newdir"
for p in "$in/moved.txt" "$in/linked.txt" "$rec/moved.txt" "$rec/new" "$rec/newdir" "$mnt/new" "$mnt/newdir"; do
  [ ! -e "$p" ] || fail "a refused operation made $p"
done
[ "$(ls "$mnt" | tr '\n' ' ')" = "checkpoint inbox records tile " ] || fail "the root now holds: $(ls "$mnt")"
assert_unchanged "EROFS"

# --- a name being written by another process -----------------------------------------------------
# writer.py PATH READY GO: creates PATH, writes "partial data\n", creates READY, waits for GO,
# writes "rest\n" and closes.
cat >"$work/writer.py" <<'EOF'
import os, sys, time
path, ready, go = sys.argv[1:4]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, b"partial data\n")
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.01)
os.write(fd, b"rest\n")
os.close(fd)
EOF
python3 "$work/writer.py" "$in/busy.txt" "$work/busy.ready" "$work/busy.go" 2>"$work/busy.err" &
writer_pids+=("$!")
busy_pid=$!
wait_file "$work/busy.ready"
b="$in/busy.txt"
expect_errno ENOENT 'os.stat(a)' "$rec/busy.txt"
expect_errno OK 'os.stat(a)' "$b"
expect_errno EEXIST 'openclose(a, os.O_WRONLY | os.O_CREAT | os.O_EXCL)' "$b"
expect_errno EPERM 'openclose(a, os.O_WRONLY)' "$b"
expect_errno EPERM 'openclose(a, os.O_WRONLY | os.O_CREAT)' "$b"
expect_errno EPERM 'openclose(a, os.O_WRONLY | os.O_TRUNC)' "$b"
expect_errno EPERM 'openclose(a, os.O_WRONLY | os.O_APPEND)' "$b"
expect_errno EACCES 'openclose(a, os.O_RDONLY)' "$b"
expect_errno EPERM 'os.rename(a, b)' "$b" "$in/busy2.txt"
expect_errno EPERM 'os.unlink(a)' "$b"
expect_errno EPERM 'os.link(a, b)' "$b" "$in/busy3.txt"
expect_errno ENOENT 'os.stat(a)' "$rec/busy.txt"
run_checks
expect_fails cp "$orig/other.txt" "$b"
touch "$work/busy.go"
wait "$busy_pid" || {
  cat "$work/busy.err" >&2
  fail "the busy writer failed"
}
writer_pids=()
printf 'partial data\nrest\n' >"$orig/busy.txt"
expect_file busy.txt "$orig/busy.txt"
cmp "$rec/busy.txt" "$orig/busy.txt" || fail "records/busy.txt is not what its writer wrote"
[ ! -e "$in/busy2.txt" ] && [ ! -e "$in/busy3.txt" ] || fail "a refused rename/link made a name"

# --- seal rules ----------------------------------------------------------------------------------
# dd and `echo >` close an empty descriptor before writing: still one record with all the data.
head -c 100001 /dev/urandom >"$orig/dd.bin"
dd if="$orig/dd.bin" of="$in/dd.bin" bs=1000 status=none || fail "dd failed"
expect_file dd.bin "$orig/dd.bin"
cmp "$rec/dd.bin" "$orig/dd.bin" || fail "records/dd.bin differs"
echo "one line from echo" >"$in/echo.txt"
echo "one line from echo" >"$orig/echo.txt"
expect_file echo.txt "$orig/echo.txt"
cmp "$rec/echo.txt" "$orig/echo.txt" || fail "records/echo.txt differs"

# ftruncate by the writer before close: grow fills with zeros, same size accepted, shrink EPERM;
# fallocate: mode 0 grows, KEEP_SIZE does nothing, other modes EOPNOTSUPP (and mode 0 still works
# afterwards: the daemon did not answer ENOSYS, which would turn fallocate off for the mount).
expect_errno OK '
fd = os.open(a, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, b"abc")
os.ftruncate(fd, 10)
os.ftruncate(fd, 10)
try:
    os.ftruncate(fd, 5)
    raise SystemExit("shrinking ftruncate succeeded")
except OSError as e:
    assert e.errno == errno.EPERM, e
assert os.fstat(fd).st_size == 10, os.fstat(fd).st_size
os.close(fd)' "$in/ftruncate.bin"
run_checks
printf 'abc\0\0\0\0\0\0\0' >"$orig/ftruncate.bin"
expect_file ftruncate.bin "$orig/ftruncate.bin"
cmp "$rec/ftruncate.bin" "$orig/ftruncate.bin" || fail "records/ftruncate.bin differs"

expect_errno OK '
fd = os.open(a, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, b"abc")
fallocate(fd, 0, 0, 20)
assert os.fstat(fd).st_size == 20, os.fstat(fd).st_size
fallocate(fd, 1, 0, 100)  # FALLOC_FL_KEEP_SIZE
assert os.fstat(fd).st_size == 20, os.fstat(fd).st_size
for mode in (0x03, 0x10):  # PUNCH_HOLE|KEEP_SIZE, ZERO_RANGE
    try:
        fallocate(fd, mode, 0, 2)
        raise SystemExit("fallocate mode %#x succeeded" % mode)
    except OSError as e:
        assert e.errno == errno.EOPNOTSUPP, (mode, e)
fallocate(fd, 0, 20, 4)
assert os.fstat(fd).st_size == 24, os.fstat(fd).st_size
os.close(fd)' "$in/fallocate.bin"
run_checks
{ printf 'abc'; head -c 21 /dev/zero; } >"$orig/fallocate.bin"
expect_file fallocate.bin "$orig/fallocate.bin"
cmp "$rec/fallocate.bin" "$orig/fallocate.bin" || fail "records/fallocate.bin differs"

# fsync and fdatasync return 0 and do not seal.
expect_errno OK '
fd = os.open(a, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, b"before fsync\n")
os.fsync(fd)
os.fdatasync(fd)
assert not os.path.exists(b), "fsync sealed the file"
os.write(fd, b"after fsync\n")
os.close(fd)' "$in/fsync.txt" "$rec/fsync.txt"
run_checks
printf 'before fsync\nafter fsync\n' >"$orig/fsync.txt"
expect_file fsync.txt "$orig/fsync.txt"
cmp "$rec/fsync.txt" "$orig/fsync.txt" || fail "records/fsync.txt differs"

# dup: the creating process's first close after data seals; writes through the copy then EPERM.
expect_errno OK '
fd = os.open(a, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, b"sealed by the first close\n")
fd2 = os.dup(fd)
os.close(fd)
assert open(b, "rb").read() == b"sealed by the first close\n", "not sealed at the first close"
try:
    os.write(fd2, b"too late\n")
    raise SystemExit("write through the dup after the seal succeeded")
except OSError as e:
    assert e.errno == errno.EPERM, e
os.close(fd2)' "$in/dup.txt" "$rec/dup.txt"
run_checks
printf 'sealed by the first close\n' >"$orig/dup.txt"
expect_file dup.txt "$orig/dup.txt"
cmp "$rec/dup.txt" "$orig/dup.txt" || fail "records/dup.txt differs"

# fchmod, fchown, futimens before close: accepted; the record keeps no mode, owner or time.
t_before=$(date +%s)
expect_errno OK '
fd = os.open(a, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, b"metadata before close\n")
os.fchmod(fd, 0o755)
os.fchown(fd, 1234, 5678)
os.utime(fd, (1000000000, 1000000000))
os.close(fd)' "$in/fmeta.txt"
run_checks
printf 'metadata before close\n' >"$orig/fmeta.txt"
expect_file fmeta.txt "$orig/fmeta.txt"
cmp "$rec/fmeta.txt" "$orig/fmeta.txt" || fail "records/fmeta.txt differs"
[ "$(stat -c '%a %u %g' "$rec/fmeta.txt")" = "440 $(id -u) $(id -g)" ] ||
  fail "records/fmeta.txt shows $(stat -c '%a %u %g' "$rec/fmeta.txt")"
[ "$(stat -c %Y "$rec/fmeta.txt")" -ge "$t_before" ] || fail "records/fmeta.txt shows the writer's mtime"

# A file created and closed without a write is an empty record (sealed at its last close).
expect_errno OK 'os.close(os.open(a, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))' "$in/never-written"
run_checks
expect_file never-written "$orig/empty"
wait_exists "$rec/never-written"
cmp "$rec/never-written" "$orig/empty" || fail "records/never-written is not empty"

# --- a writer killed by a signal leaves no record and frees its name -----------------------------
# slow_writer.py PATH READY: creates PATH and writes to it until killed; READY once 64 KiB are in.
cat >"$work/slow_writer.py" <<'EOF'
import os, sys, time
path, ready = sys.argv[1:3]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
written = 0
while True:
    written += os.write(fd, os.urandom(4096))
    if written == 65536:
        open(ready, "w").close()
    time.sleep(0.002)
EOF
wait_checkpoint "$mnt" "$(count_expected)"  # published: tile/ no longer changes
snapshot "$work/snap.before"
for sig in KILL TERM; do
  name="killed-$sig.bin"
  python3 "$work/slow_writer.py" "$in/$name" "$work/$sig.ready" &
  pid=$!
  writer_pids+=("$pid")
  wait_file "$work/$sig.ready"
  expect_errno EEXIST 'openclose(a, os.O_WRONLY | os.O_CREAT | os.O_EXCL)' "$in/$name"
  run_checks
  kill -"$sig" "$pid"
  rc=0
  wait "$pid" || rc=$?
  writer_pids=()
  [ "$rc" -gt 128 ] || fail "the writer was not killed by SIG$sig (exit $rc)"
  freed=0
  for _ in $(seq 1 100); do
    if [ ! -e "$in/$name" ]; then
      freed=1
      break
    fi
    sleep 0.05
  done
  [ "$freed" = 1 ] || fail "inbox/$name still exists 5 s after its writer was killed by SIG$sig"
  [ ! -e "$rec/$name" ] || fail "a writer killed by SIG$sig left records/$name"
done
assert_unchanged "killed writers"
# The name is free again: a new file with it is one record.
cp "$orig/other.txt" "$in/killed-KILL.bin" || fail "cp onto the name of a killed writer failed"
expect_file killed-KILL.bin "$orig/other.txt"
cmp "$rec/killed-KILL.bin" "$orig/other.txt" || fail "records/killed-KILL.bin differs"

# --- path limits: a component of 256 bytes, a path of 4,097 bytes: ENAMETOOLONG -----------------
long255=$(printf 'n%.0s' $(seq 255))
expect_errno ENAMETOOLONG 'openclose(a, os.O_WRONLY | os.O_CREAT | os.O_EXCL)' "$in/${long255}x"
expect_errno ENAMETOOLONG 'os.mkdir(a)' "$in/${long255}x"
run_checks
printf 'a 255-byte name\n' >"$orig/long255"
cp "$orig/long255" "$in/$long255" || fail "cp to a 255-byte name failed"
expect_file "$long255" "$orig/long255"
cmp "$rec/$long255" "$orig/long255" || fail "records/<255-byte name> differs"
# 16 folders of 250 bytes make a 4,015-byte path; a file name of 80 bytes in it reaches 4,096.
python3 - "$in" "$rec" "$expect" "$orig/empty" "$orig/long255" <<'EOF' || fail "path length limits"
import errno, os, sys
inbox, rec, expect, empty, content_file = sys.argv[1:6]
content = open(content_file, "rb").read()
fd = os.open(inbox, os.O_PATH | os.O_DIRECTORY)
parts = []
for i in range(16):
    name = "%02d" % i + "d" * 248
    os.mkdir(name, dir_fd=fd)
    parts.append(name)
    with open(expect, "a") as f:
        f.write("dir\t%s\t-\n" % "/".join(parts))
    nfd = os.open(name, os.O_PATH | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd = nfd
def refused(what, fn):
    try:
        fn()
    except OSError as e:
        assert e.errno == errno.ENAMETOOLONG, (what, e)
        return
    raise SystemExit(what + " succeeded")
refused("mkdir of a 4,266-byte path", lambda: os.mkdir("x" * 250, dir_fd=fd))
refused("create of a 4,097-byte path",
        lambda: os.close(os.open("f" * 81, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=fd)))
wfd = os.open("f" * 80, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=fd)
os.write(wfd, content)
os.close(wfd)
path = "/".join(parts + ["f" * 80])
assert len(path.encode()) == 4096, len(path)
with open(expect, "a") as f:
    f.write("file\t%s\t%s\n" % (path, content_file))
rfd = os.open(rec, os.O_PATH | os.O_DIRECTORY)
for p in parts:
    nfd = os.open(p, os.O_PATH | os.O_DIRECTORY, dir_fd=rfd)
    os.close(rfd)
    rfd = nfd
r = os.open("f" * 80, os.O_RDONLY, dir_fd=rfd)
assert os.read(r, 1 << 16) == content, "records/<4,096-byte path> differs"
EOF
wait_checkpoint "$mnt" "$(count_expected)"
sleep 0.5
[ "$(checkpoint_size "$mnt")" = "$(count_expected)" ] || fail "the log has $(checkpoint_size "$mnt") records, expected $(count_expected)"

# --- after unmount: the log holds exactly the expected records; verify --------------------------
expect_exit 0 "$LEDGERFS" verify "$mnt" --vkey "$vkey"
grep -q "^OK: $origin size $(count_expected), " "$work/out" || fail "verify of the mount: $(cat "$work/out")"
stop_mount "$mnt" "$daemon"
mount_pids=()  # reaped: mount_cleanup must not kill a reused pid
wait_unmounted "$mnt"
python3 - "$LEDGERFS" "$store" "$expect" <<'EOF' || fail "the log does not hold exactly the expected records"
import collections, hashlib, json, subprocess, sys
from ledger_log import read_log
ledgerfs, store, expect = sys.argv[1:4]
entries, log_size = read_log(ledgerfs, store, 50)
assert [e["index"] for e in entries] == list(range(log_size)), "indices are not dense"
want = collections.Counter()
for line in open(expect):
    kind, path, src = line.rstrip("\n").split("\t")
    if kind == "dir":
        want[("directory", path, None, None)] += 1
    else:
        data = open(src, "rb").read()
        want[("file", path, hashlib.sha256(data).hexdigest(), len(data))] += 1
got = collections.Counter()
for e in entries:
    assert "kind" in e, ("not a record manifest", e)
    got[(e["kind"], e["path"], e.get("sha256"), e.get("size"))] += 1
def show(c):
    return sorted((k[0], k[1][:60], k[2]) for k in c.elements())
assert got == want, ("log differs: missing", show(want - got), "unexpected", show(got - want))
EOF
expect_exit 0 "$LEDGERFS" verify "$store" --vkey "$vkey"
grep -q "^OK: $origin size $(count_expected), " "$work/out" || fail "verify of the store: $(cat "$work/out")"

echo "mount_refusals: OK"
