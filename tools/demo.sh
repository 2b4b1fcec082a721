#!/usr/bin/env bash
# The main job (README): installs what it needs, builds, creates a demo tenant store, appends
# files to it, shows the log and a proof, and verifies the store two independent ways.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/tools/install-deps.sh"
"$src/tools/build.sh" "$src/build/release" -DCMAKE_BUILD_TYPE=RelWithDebInfo
ledgerfs=$src/build/release/ledgerfs

demo=${DEMO_DIR:-$(mktemp -d /tmp/ledgerfs-demo.XXXXXX)}
store=$demo/store
export LEDGERFS_KEY_DIR=$demo/keys
echo "== ledgerfs init $store"
$ledgerfs init "$store" --origin demo.example.com/acme

echo "== appending files"
mkdir -p "$demo/files"
printf 'quarterly report\n' >"$demo/files/report.txt"
head -c 3000000 /dev/urandom >"$demo/files/scan.bin"
: >"$demo/files/empty"
for f in report.txt scan.bin empty; do
  $ledgerfs append "$store" --path "inbox-demo/$f" <"$demo/files/$f"
done
for i in $(seq 1 20); do echo "mail $i" | $ledgerfs append "$store" --path "mail/$i.eml" >/dev/null; done

echo "== ledgerfs log"
$ledgerfs log "$store" --limit 5
echo "== cat checkpoint"
cat "$store/checkpoint"
echo "== ledgerfs prove --index 1"
$ledgerfs prove "$store" --index 1
echo "== ledgerfs verify"
$ledgerfs verify "$store" --vkey "$($ledgerfs vkey "$store")"
echo "== tools/ledger-check.sh (POSIX shell, od/dd/awk/sha256sum only)"
sh "$src/tools/ledger-check.sh" "$store"
echo "demo store left at $store"
