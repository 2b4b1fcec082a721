#!/usr/bin/env bash
# The main job (README): installs what it needs, builds, creates a demo tenant store and mounts it
# (PRODUCT §1, docs/mount.md) with the HTTP API on a Unix socket (docs/http.md), copies files in
# with cp, cp -r, tar and an HTTP POST, reads them back with ls, cat, cmp and curl, verifies the
# live mount, unmounts, and verifies the store two independent ways.
# Needs root (or sudo for the packages) and /dev/fuse. DEMO_DIR=… keeps the demo in that folder.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/tools/install-deps.sh"
"$src/tools/build.sh" "$src/build/release" -DCMAKE_BUILD_TYPE=RelWithDebInfo
ledgerfs=$src/build/release/ledgerfs

section() { printf '\n== %s\n' "$*"; }
die() {
  echo "demo: $*" >&2
  exit 1
}

[ -c /dev/fuse ] || die "/dev/fuse is missing: FUSE mounts need it (in a container: --device /dev/fuse --cap-add SYS_ADMIN)"
command -v fusermount3 >/dev/null || die "fusermount3 is missing (Debian package fuse3)"

demo=${DEMO_DIR:-$(mktemp -d /tmp/ledgerfs-demo.XXXXXX)}
mkdir -p "$demo"
store=$demo/store
mnt=$demo/mnt
files=$demo/files
export LEDGERFS_KEY_DIR=$demo/keys

# The daemon is unmounted by its pid on any exit, failure or Ctrl-C included: SIGTERM makes it
# publish a final checkpoint and unmount; if it is still there after 30 s, it is unmounted lazily
# and killed.
daemon=""
is_mounted() { grep -qs " $(realpath -m "$mnt") fuse" /proc/mounts; }
stop_daemon() {
  [ -n "$daemon" ] || return 0
  local pid=$daemon i
  daemon=""
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "demo: daemon $pid still running 30 s after SIGTERM; unmounting lazily and killing it" >&2
    fusermount3 -uz "$mnt" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
    return 1
  fi
}
on_exit() {
  local status=$?
  stop_daemon || status=1
  if [ "$status" != 0 ]; then echo "demo: FAILED (exit $status); files left in $demo" >&2; fi
  exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

section "ledgerfs init $store --origin demo.example.com/acme   (prints the verifier key)"
vkey=$("$ledgerfs" init "$store" --origin demo.example.com/acme)
echo "$vkey"

sock=$demo/http.sock
section "ledgerfs mount $store $mnt --tenant acme --listen unix:$sock"
mkdir -p "$mnt"
"$ledgerfs" mount "$store" "$mnt" --tenant acme --pid-file "$demo/mount.pid" --listen "unix:$sock"
daemon=$(cat "$demo/mount.pid")
is_mounted || die "$mnt is not a mount after ledgerfs mount returned"
echo "mounted (daemon pid $daemon): $(grep " $(realpath "$mnt") " /proc/mounts)"
ls -la "$mnt"

section "some files to record"
mkdir -p "$files"
printf 'Quarterly report, Q3 2026\n' >"$files/report.txt"
head -c 3000000 /dev/urandom >"$files/scan.bin"
: >"$files/empty"
for m in 11 12; do
  mkdir -p "$files/mail-2026-11/inbox-$m"
  for i in 1 2 3; do
    printf 'From: customer%s@example.com\nSubject: order %s\n\nmessage %s\n' "$i" "$m$i" "$i" \
      >"$files/mail-2026-11/inbox-$m/$i.eml"
  done
done
mkdir -p "$files/scans/2026/11"
for i in 1 2 3; do head -c $((i * 10000)) /dev/urandom >"$files/scans/2026/11/page-$i.tif"; done
tar -cf "$files/scans.tar" -C "$files" scans
(cd "$files" && ls -R)

section "cp report.txt scan.bin empty $mnt/inbox/   (each returns once its record is durable)"
cp "$files/report.txt" "$files/scan.bin" "$files/empty" "$mnt/inbox/"
echo "ok"

section "cp -r mail-2026-11/ $mnt/inbox/"
cp -r "$files/mail-2026-11/" "$mnt/inbox/"
echo "ok"

section "tar -xf scans.tar -C $mnt/inbox/"
tar -xf "$files/scans.tar" -C "$mnt/inbox/"
echo "ok"

section "write once: overwriting or deleting a record is refused"
if (echo "changed" >"$mnt/inbox/report.txt") 2>"$demo/err"; then die "overwriting a record succeeded"; fi
echo "echo changed > inbox/report.txt: $(sed 's/^.*: //' "$demo/err")"
if rm -f "$mnt/inbox/report.txt" 2>"$demo/err"; then die "deleting a record succeeded"; fi
echo "rm inbox/report.txt: $(sed 's/^.*: //' "$demo/err")"

section "HTTP, same daemon: POST a record with curl, read it in records/ and over HTTP"
api() { curl -sS --unix-socket "$sock" "$@"; }
echo "\$ curl --unix-socket $sock -H 'X-Module-ID: acme' --data-binary @report.txt http://acme/records/http/report.txt"
api -H 'X-Module-ID: acme' --data-binary @"$files/report.txt" -w ' (HTTP %{http_code})\n' \
  http://acme/records/http/report.txt | tee "$demo/post.json"
grep -q '(HTTP 201)' "$demo/post.json" || die "POST /records/http/report.txt did not answer 201"
cmp "$mnt/records/http/report.txt" "$files/report.txt"
echo "records/http/report.txt is byte-identical to the body posted"
api -H 'X-Module-ID: acme' http://acme/records/scan.bin | cmp - "$files/scan.bin"
echo "GET /records/scan.bin is byte-identical to the file copied in with cp"
echo "without X-Module-ID: $(api -w ' (HTTP %{http_code})' http://acme/checkpoint)"
echo "another tenant:      $(api -H 'X-Module-ID: beta' -w ' (HTTP %{http_code})' http://acme/checkpoint)"

section "ls -R $mnt/records/"
ls -R "$mnt/records/"

section "cat $mnt/records/report.txt; cmp the 3 MB scan with its source"
cat "$mnt/records/report.txt"
cmp "$mnt/records/scan.bin" "$files/scan.bin"
echo "records/scan.bin is byte-identical to the file copied in"

# Every file and folder copied in is one record (folders are records too).
# The POST adds one record (http/ is a folder it implies, not a record).
records=$(($(cd "$files" && { printf '%s\n' report.txt scan.bin empty; find mail-2026-11 scans; } | wc -l) + 1))
section "the signed checkpoint covers all $records records within 1 s of the last close()"
for i in $(seq 1 100); do
  [ "$(sed -n 2p "$mnt/checkpoint")" = "$records" ] && break
  sleep 0.1
done
[ "$(sed -n 2p "$mnt/checkpoint")" = "$records" ] ||
  die "the checkpoint covers $(sed -n 2p "$mnt/checkpoint") records, not $records"
echo "\$ cat $mnt/checkpoint"
cat "$mnt/checkpoint"
echo "\$ ls $mnt/tile/ $mnt/tile/entries/"
ls "$mnt/tile/" "$mnt/tile/entries/"

section "ledgerfs verify $mnt --vkey \"\$(ledgerfs vkey $store)\"   (the live mount)"
"$ledgerfs" verify "$mnt" --vkey "$("$ledgerfs" vkey "$store")"

section "ledgerfs prove $mnt --index 1 --vkey …   (an inclusion proof for records/scan.bin)"
"$ledgerfs" prove "$mnt" --index 1 --vkey "$vkey"

section "unmount: SIGTERM to the daemon (pid $daemon)"
stop_daemon || die "the daemon did not stop cleanly"
is_mounted && die "$mnt is still mounted"
echo "unmounted"

section "ledgerfs log $store --limit 5"
"$ledgerfs" log "$store" --limit 5

section "ledgerfs verify $store --vkey …   (the store at rest, with its content/ files)"
"$ledgerfs" verify "$store" --vkey "$vkey"

section "tools/ledger-check.sh $store   (POSIX shell, od/dd/awk/sha256sum only)"
sh "$src/tools/ledger-check.sh" "$store"

section "done"
echo "demo store left at $store (mount it again: $ledgerfs mount $store $mnt)"
