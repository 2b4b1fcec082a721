#!/usr/bin/env bash
# Legacy tools on a real mount (docs/mount.md "Tools" and "Users and permissions", PRODUCT §1, §2,
# §4): cp, cp -p, cp -r, cp -rp, tar -x, dd, `>` (the echo builtin, an external command, a group
# with forked commands), `cat >`, Python open('wb'), Python subprocess with stdout to the file,
# install -m 644, mv from another filesystem, touch, a 64 MiB file, rsync --inplace, mkdir and
# mkdir -p all exit 0. Each file is then byte-identical (cmp) in records/, its manifest (log --json)
# has the source's size and sha256 and that sha256 is sha256sum of records/<path>; folders made by
# mkdir, cp -r and tar are directory records; records/ holds nothing else and shows the documented
# modes and the received time as mtime. Plain rsync fails and leaves its temporary .name.XXXXXX as a
# record. Records appended before the mount show (the first of two with one path). A second mount
# and an append are refused while mounted (exit 3). Everything survives unmount and remount, names
# stay taken after the remount, SIGTERM unmounts with a final checkpoint, and verify passes on the
# mount and on the store.
# Needs: LEDGERFS (the binary), root (FUSE), fusermount3, python3, rsync, tar, cmp, sha256sum.
set -euo pipefail

: "${LEDGERFS:?set LEDGERFS to the ledgerfs binary}"
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/mount.sh"
on_exit() { mount_cleanup; }

command -v rsync >/dev/null || fail "rsync is not installed (tools/install-deps.sh installs it)"

export LEDGERFS_KEY_DIR="$work/keys"
store="$work/store"
mnt="$work/mnt"
origin="test.example/x"
vkey=$("$LEDGERFS" init "$store" --origin "$origin")

# --- helpers -------------------------------------------------------------------------------------
# $expect lists every record the store must hold, one per line, tab-separated:
#   file PATH SOURCE   a record shown as records/PATH, byte-identical to SOURCE
#   dir PATH -         a directory record shown as the folder records/PATH
#   logonly PATH SOURCE  a record in the log that records/ does not show (a second one with PATH)
expect="$work/expect"
: >"$expect"
expect_file() { printf 'file\t%s\t%s\n' "$1" "$2" >>"$expect"; }
expect_dir() { printf 'dir\t%s\t-\n' "$1" >>"$expect"; }
# expect_tree SRC REL: the folder SRC copied to inbox/REL: one record per folder (REL too) and file.
expect_tree() {
  local src=$1 rel=$2 p
  expect_dir "$rel"
  while IFS= read -r -d '' p; do
    if [ -d "$src/$p" ]; then expect_dir "$rel/$p"; else expect_file "$rel/$p" "$src/$p"; fi
  done < <(cd "$src" && find . -mindepth 1 -printf '%P\0')
}
count_expected() { wc -l <"$expect" | tr -d ' '; }

# tool CMD...: CMD must exit 0 (its stderr is shown otherwise).
tool() {
  local rc=0
  "$@" 2>"$work/tool.err" || rc=$?
  if [ "$rc" != 0 ]; then
    cat "$work/tool.err" >&2
    fail "exit $rc: $*"
  fi
}

# wait_exists PATH: a file never written is sealed when its last descriptor goes, asynchronously
# ("a moment after the close()"): up to 5 s.
wait_exists() {
  local i
  for i in $(seq 1 100); do
    [ -e "$1" ] && return 0
    sleep 0.05
  done
  fail "$1 did not appear within 5 s"
}


# check_records SUMS: every expected file is byte-identical in records/ (cmp) and every expected
# folder is a folder there; writes "PATH<tab>sha256sum of records/PATH" to SUMS; then records/
# holds nothing else and every mode and owner in the mount is the documented one.
check_records() {
  local sums=$1 kind path src
  : >"$sums"
  while IFS=$'\t' read -r kind path src; do
    case $kind in
      dir) [ -d "$mnt/records/$path" ] || fail "records/$path is not a folder" ;;
      file)
        [ -s "$src" ] || wait_exists "$mnt/records/$path"
        cmp "$mnt/records/$path" "$src" || fail "records/$path differs from $src"
        printf '%s\t%s\n' "$path" "$(sha256sum <"$mnt/records/$path" | cut -d' ' -f1)" >>"$sums"
        ;;
    esac
  done <"$expect"
  python3 - "$mnt" "$expect" <<'EOF' || fail "records/ or the mount's modes do not match"
import os, stat, sys
mnt, expect = sys.argv[1], sys.argv[2]
want = set()
for line in open(expect):
    kind, path, _ = line.rstrip("\n").split("\t")
    if kind in ("file", "dir"):
        want.add((kind, path))
got = set()
rec = os.path.join(mnt, "records")
for root, dirs, files in os.walk(rec):
    rel = os.path.relpath(root, rec)
    for name in dirs + files:
        p = name if rel == "." else rel + "/" + name
        st = os.lstat(os.path.join(root, name))
        kind = "dir" if stat.S_ISDIR(st.st_mode) else "file" if stat.S_ISREG(st.st_mode) else "other"
        got.add((kind, p))
        mode = stat.S_IMODE(st.st_mode)
        assert mode == (0o550 if kind == "dir" else 0o440), ("records/" + p, oct(mode))
        assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid()), ("records/" + p, st.st_uid, st.st_gid)
assert got == want, ("records/ differs: missing", sorted(want - got), "unexpected", sorted(got - want))
# The root holds exactly the four documented entries, with the documented modes.
assert sorted(os.listdir(mnt)) == ["checkpoint", "inbox", "records", "tile"], os.listdir(mnt)
def mode(p):
    return oct(stat.S_IMODE(os.lstat(os.path.join(mnt, p)).st_mode))
assert mode(".") == "0o550", ("root", mode("."))
assert mode("inbox") == "0o700", ("inbox", mode("inbox"))
assert mode("checkpoint") == "0o440", ("checkpoint", mode("checkpoint"))
for root, dirs, files in os.walk(os.path.join(mnt, "tile")):
    assert oct(stat.S_IMODE(os.lstat(root).st_mode)) == "0o550", (root, "folder mode")
    for f in files:
        assert oct(stat.S_IMODE(os.lstat(os.path.join(root, f)).st_mode)) == "0o440", (root, f)
# Sealed names stay in inbox/ (stat works) with the inbox modes.
for kind, p in want:
    st = os.lstat(os.path.join(mnt, "inbox", p))
    if kind == "dir":
        assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700, ("inbox/" + p, oct(st.st_mode))
    else:
        assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600, ("inbox/" + p, oct(st.st_mode))
EOF
}

# check_log SUMS: after unmount, `log --json` (every page) holds exactly the expected records, once
# each, with dense indices; each file manifest has its source's size and sha256, and for the record
# records/ shows, the sha256 in SUMS (sha256sum of records/PATH). Saves the entries to $work/log.json.
check_log() {
  python3 - "$LEDGERFS" "$store" "$expect" "$1" "$work/log.json" <<'EOF' || fail "the log does not match the records"
import collections, hashlib, json, os, subprocess, sys
from ledger_log import read_log
ledgerfs, store, expect, sums_file, out = sys.argv[1:6]
entries, log_size = read_log(ledgerfs, store, 50)
json.dump(entries, open(out, "w"))
assert [e["index"] for e in entries] == list(range(log_size)), "indices are not dense"
def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
want = collections.Counter()
sizes = {}
for line in open(expect):
    kind, path, src = line.rstrip("\n").split("\t")
    if kind == "dir":
        want[("directory", path, None)] += 1
    else:
        sha = digest(src)
        want[("file", path, sha)] += 1
        sizes[(path, sha)] = os.path.getsize(src)
got = collections.Counter()
first = {}
for e in entries:
    assert "kind" in e, ("not a record manifest", e)
    assert e["received"].endswith("Z"), e
    if e["kind"] == "directory":
        assert "sha256" not in e and "size" not in e, e
        got[("directory", e["path"], None)] += 1
    else:
        assert e["kind"] == "file", e
        got[("file", e["path"], e["sha256"])] += 1
        assert e["size"] == sizes.get((e["path"], e["sha256"]), -1), ("size", e)
        first.setdefault(e["path"], e)
assert got == want, ("log differs: missing", sorted(map(str, (want - got).elements())),
                     "unexpected", sorted(map(str, (got - want).elements())))
for line in open(sums_file):
    path, sha = line.rstrip("\n").split("\t")
    assert first[path]["sha256"] == sha, ("sha256sum of records/%s is %s, its manifest says %s" % (path, sha, first[path]["sha256"]))
EOF
}

# --- sources -------------------------------------------------------------------------------------
src="$work/src"  # sources of the single files
tree="$work/tree/tree"  # a tree with nested folders, an empty folder, an empty file, odd names
exp="$work/exp"  # expected content of the files written by shell redirections
mkdir -p "$src" "$tree/sub/deeper" "$tree/empty folder" "$exp"
for n in one p dd cat py sub1 sub2 inst mv rs plain late deep; do
  head -c $((RANDOM * 7 + 1)) /dev/urandom >"$src/$n.bin"
done
head -c $((64 * 1024 * 1024)) /dev/urandom >"$src/big.bin"
printf 'top of the tree\n' >"$tree/top.txt"
head -c 100000 /dev/urandom >"$tree/rand.bin"
: >"$tree/empty"
printf 'a name with spaces\n' >"$tree/name with spaces.txt"
printf 'a\n' >"$tree/sub/a.txt"
head -c $((1024 * 1024 + 3)) /dev/urandom >"$tree/sub/deeper/b.bin"
chmod 755 "$tree/top.txt" "$src/p.bin"
chmod 700 "$tree/sub"
touch -d 2001-02-03T04:05:06Z "$src/p.bin" "$tree/top.txt" "$tree/sub/a.txt" "$tree/sub"
tar -cf "$work/tree.tar" -C "$work/tree" tree
: >"$exp/empty"

# --- records appended before the mount (two with one path: records/ shows the first) ------------
printf 'first dup\n' >"$src/dup1"
printf 'second dup\n' >"$src/dup2"
"$LEDGERFS" append "$store" --path dup.txt --file "$src/dup1" >/dev/null
"$LEDGERFS" append "$store" --path dup.txt --file "$src/dup2" >/dev/null
expect_file dup.txt "$src/dup1"
printf 'logonly\tdup.txt\t%s\n' "$src/dup2" >>"$expect"

# --- mount; the store is in use ------------------------------------------------------------------
start_mount "$store" "$mnt" --checkpoint-delay 200
daemon=$mount_pid
[ -d "$mnt/inbox" ] && [ -d "$mnt/records" ] && [ -d "$mnt/tile" ] && [ -f "$mnt/checkpoint" ] ||
  fail "the mount lacks inbox/, records/, tile/ or checkpoint"
mkdir "$work/mnt2"
expect_exit 3 timeout 20 "$LEDGERFS" mount "$store" "$work/mnt2" --foreground
grep -qF "store is in use by another process" "$work/err" || fail "second mount: $(cat "$work/err")"
is_mounted "$work/mnt2" && fail "a second mount of the store is live"
expect_exit 3 "$LEDGERFS" append "$store" --path while-mounted </dev/null

# --- the tool matrix -----------------------------------------------------------------------------
in="$mnt/inbox"
tool cp "$src/one.bin" "$in/"
expect_file one.bin "$src/one.bin"

tool cp -p "$src/p.bin" "$in/cp-p.bin"
expect_file cp-p.bin "$src/p.bin"

tool cp -r "$tree" "$in/cp-r"
expect_tree "$tree" cp-r

tool cp -rp "$tree" "$in/cp-rp"
expect_tree "$tree" cp-rp

tool mkdir "$in/tar"
expect_dir tar
tool tar -xf "$work/tree.tar" -C "$in/tar"
expect_tree "$tree" tar/tree

tool dd if="$src/dd.bin" of="$in/dd.bin" bs=4096 status=none
expect_file dd.bin "$src/dd.bin"

echo "written by the echo builtin" >"$in/echo.txt" || fail "echo > failed"
echo "written by the echo builtin" >"$exp/echo.txt"
expect_file echo.txt "$exp/echo.txt"

seq 1 20000 >"$in/seq.txt" || fail "seq > failed"
seq 1 20000 >"$exp/seq.txt"
expect_file seq.txt "$exp/seq.txt"

# The shell opens group.txt; the forked seq writes to it and exits (its close is not the seal), the
# forked true closes it without writing, then the shell writes and closes it (the seal).
{ echo first; seq 3; env true; echo last; } >"$in/group.txt" ||
  fail "{ …; } > failed"
printf 'first\n1\n2\n3\nlast\n' >"$exp/group.txt"
expect_file group.txt "$exp/group.txt"

cat "$src/cat.bin" >"$in/cat.bin" || fail "cat > failed"
expect_file cat.bin "$src/cat.bin"

tool python3 -c '
import sys
data = open(sys.argv[1], "rb").read()
f = open(sys.argv[2], "wb")
f.write(data)
f.close()' "$src/py.bin" "$in/py.bin"
expect_file py.bin "$src/py.bin"

# Python subprocess, stdout redirected to a file the parent opened: (1) only the child writes,
# (2) the parent writes, then the child, then the parent again.
tool python3 -c '
import subprocess, sys
with open(sys.argv[2], "wb") as f:
    subprocess.run(["cat", sys.argv[1]], stdout=f, check=True)' "$src/sub1.bin" "$in/subprocess1.bin"
expect_file subprocess1.bin "$src/sub1.bin"
tool python3 -c '
import subprocess, sys
with open(sys.argv[2], "wb") as f:
    f.write(b"header\n")
    f.flush()
    subprocess.run(["cat", sys.argv[1]], stdout=f, check=True)
    f.write(b"trailer\n")' "$src/sub2.bin" "$in/subprocess2.bin"
{ printf 'header\n'; cat "$src/sub2.bin"; printf 'trailer\n'; } >"$exp/subprocess2.bin"
expect_file subprocess2.bin "$exp/subprocess2.bin"

tool install -m 644 "$src/inst.bin" "$in/install.bin"
expect_file install.bin "$src/inst.bin"

cp "$src/mv.bin" "$work/mv.bin"  # $work is not the mount: mv copies, then removes the source
tool mv "$work/mv.bin" "$in/mv.bin"
[ ! -e "$work/mv.bin" ] || fail "mv left its source behind"
expect_file mv.bin "$src/mv.bin"

tool touch "$in/touched"
expect_file touched "$exp/empty"

t0=$(date +%s%N)
tool cp "$src/big.bin" "$in/big.bin"
t1=$(date +%s%N)
echo "64 MiB copied into the mount in $(((t1 - t0) / 1000000)) ms"
expect_file big.bin "$src/big.bin"

tool rsync --inplace "$src/rs.bin" "$in/rsync-inplace.bin"
expect_file rsync-inplace.bin "$src/rs.bin"

tool mkdir "$in/made"
expect_dir made
tool mkdir -p "$in/deep/er/est"
expect_dir deep
expect_dir deep/er
expect_dir deep/er/est
tool mkdir -p "$in/deep/er"  # exists: mkdir -p succeeds and makes no record
tool cp "$src/deep.bin" "$in/deep/er/deep.bin"
expect_file deep/er/deep.bin "$src/deep.bin"

# Plain rsync fails (its rename of the temporary file is refused) and the temporary .plain.bin.XXXXXX
# stays as a record; records/plain.bin does not exist.
rc=0
rsync "$src/plain.bin" "$in/plain.bin" 2>"$work/rsync.err" || rc=$?
[ "$rc" != 0 ] || fail "plain rsync exited 0 (docs/mount.md: it fails)"
[ ! -e "$mnt/records/plain.bin" ] || fail "plain rsync made records/plain.bin"
[ ! -e "$in/plain.bin" ] || fail "plain rsync made inbox/plain.bin"
temps=()
for t in "$mnt/records/.plain.bin."??????; do [ -e "$t" ] && temps+=("$(basename "$t")"); done
[ "${#temps[@]}" = 1 ] || fail "expected one record .plain.bin.XXXXXX after plain rsync, found: ${temps[*]:-none}"
expect_file "${temps[0]}" "$src/plain.bin"

# --- everything is in records/; the checkpoint covers it; verify the mount ------------------------
check_records "$work/sums.1"
count=$(count_expected)
wait_checkpoint "$mnt" "$count"
expect_exit 0 "$LEDGERFS" verify "$mnt" --vkey "$vkey"
grep -q "^OK: $origin size $count, " "$work/out" || fail "verify of the mount: $(cat "$work/out")"
grep -qiF "dup.txt" "$work/daemon.0.log" || fail "the daemon did not log a warning about the second dup.txt"

# --- unmount: the log has every record once with its digest; verify the store --------------------
stop_mount "$mnt" "$daemon"
mount_pids=()  # reaped: mount_cleanup must not kill a reused pid
wait_unmounted "$mnt"
check_log "$work/sums.1"
expect_exit 0 "$LEDGERFS" verify "$store" --vkey "$vkey"
grep -q "^OK: $origin size $count, " "$work/out" || fail "verify of the store: $(cat "$work/out")"

# --- remount: every record and folder is still there, identical, with its received time ----------
start_mount "$store" "$mnt" --checkpoint-delay 30000
daemon=$mount_pid
check_records "$work/sums.2"
cmp "$work/sums.1" "$work/sums.2" || fail "sha256sum of a record changed across the remount"
python3 - "$mnt" "$work/log.json" <<'EOF' || fail "records/ does not show the received time as mtime"
import datetime, json, os, sys
mnt, entries = sys.argv[1], json.load(open(sys.argv[2]))
seen = set()
for e in entries:
    if e["path"] in seen:
        continue
    seen.add(e["path"])
    t = datetime.datetime.strptime(e["received"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    want_ms = round(t.timestamp() * 1000)
    got_ms = os.stat(os.path.join(mnt, "records", e["path"])).st_mtime_ns // 1000000
    assert got_ms == want_ms, ("records/" + e["path"], "mtime", got_ms, "received", e["received"], want_ms)
EOF
# Names stay taken across the remount: no second record with a sealed path through the mount.
python3 - "$mnt/inbox" <<'EOF' || fail "a sealed name is free again after the remount"
import errno, os, sys
inbox = sys.argv[1]
for p in ("one.bin", "touched", "cp-r/sub/a.txt"):
    try:
        os.open(os.path.join(inbox, p), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        sys.exit("O_EXCL create of inbox/%s succeeded" % p)
    except OSError as e:
        assert e.errno == errno.EEXIST, (p, e)
for p in ("made", "deep/er"):
    try:
        os.mkdir(os.path.join(inbox, p))
        sys.exit("mkdir inbox/%s succeeded" % p)
    except OSError as e:
        assert e.errno == errno.EEXIST, (p, e)
EOF
rc=0
cp "$src/late.bin" "$in/one.bin" 2>/dev/null || rc=$?
[ "$rc" != 0 ] || fail "cp onto a sealed name exited 0 after the remount"
cmp "$mnt/records/one.bin" "$src/one.bin" || fail "records/one.bin changed after cp onto it"
expect_exit 0 "$LEDGERFS" verify "$mnt" --vkey "$vkey"
grep -q "^OK: $origin size $count, " "$work/out" || fail "verify of the remount: $(cat "$work/out")"

# --- SIGTERM unmounts cleanly and publishes a checkpoint covering every acknowledged record -------
# (the checkpoint delay is 30 s: only the daemon's final checkpoint can cover late.bin this soon)
tool cp "$src/late.bin" "$in/late.bin"
expect_file late.bin "$src/late.bin"
cmp "$mnt/records/late.bin" "$src/late.bin" || fail "records/late.bin differs"
printf 'late.bin\t%s\n' "$(sha256sum <"$src/late.bin" | cut -d' ' -f1)" >>"$work/sums.2"
kill -TERM "$daemon"
rc=0
wait "$daemon" || rc=$?
mount_pids=()
[ "$rc" = 0 ] || fail "the daemon exited $rc after SIGTERM (docs/mount.md: it exits 0)"
wait_unmounted "$mnt"
check_log "$work/sums.2"
count=$(count_expected)
expect_exit 0 "$LEDGERFS" verify "$store" --vkey "$vkey"
grep -q "^OK: $origin size $count, " "$work/out" || fail "verify after SIGTERM: $(cat "$work/out")"

echo "mount_tools: OK"
