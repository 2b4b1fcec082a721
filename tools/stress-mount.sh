#!/usr/bin/env bash
# stress-mount.sh: the long run of the mount's failure tests (docs/reliability.md), beyond what
# ctest runs:
#   - tests/cli/mount_kill9_stress.sh with KILL9_ROUNDS (default 60) kills of the daemon under 8
#     writers (cp, dd, `>`), KILL9_PER_STORE (default 10) rounds per store (CI: 10 rounds, one
#     store);
#   - tests/cli/mount_eio.sh EIO_RUNS times (default 5);
#   - tests/cli/isolation.sh ISOLATION_RUNS times (default 3).
# Then prints the per-round distribution of the kill -9 rounds (acknowledged files, tool errors,
# files sealed but not acknowledged) and exits 1 if any run failed.
#
#   tools/stress-mount.sh                                   the long run (root; about 5 minutes)
#   KILL9_ROUNDS=200 EIO_RUNS=0 ISOLATION_RUNS=0 tools/stress-mount.sh
#
# LEDGERFS (default $BUILD_ROOT/release/ledgerfs, or build/release/ledgerfs, built if missing) is
# the binary; STRESS_OUT (default a fresh folder under /tmp) keeps each run's output.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_ROOT:-$src/build}/release
if [ -z "${LEDGERFS:-}" ]; then
  LEDGERFS=$build/ledgerfs
  [ -x "$LEDGERFS" ] || "$src/tools/build.sh" "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
export LEDGERFS SOURCE_DIR="$src" SHARED_DIR="$src/../shared"
kill9_rounds=${KILL9_ROUNDS:-60}
kill9_per_store=${KILL9_PER_STORE:-10}
eio_runs=${EIO_RUNS:-5}
isolation_runs=${ISOLATION_RUNS:-3}
out=${STRESS_OUT:-$(mktemp -d /tmp/stress-mount.XXXXXX)}
mkdir -p "$out"
echo "stress-mount: $LEDGERFS; output in $out"

failed=0
results=()
# run NAME LOG CMD...: one test run, its output in LOG; records the result and the time.
run() {
  local name=$1 log=$2 t0 rc=0
  shift 2
  t0=$(date +%s)
  "$@" >"$log" 2>&1 || rc=$?
  local line
  line=$(printf '%-28s %-5s %4d s  %s' "$name" "$([ "$rc" = 0 ] && echo ok || echo FAIL)" $(($(date +%s) - t0)) "$log")
  echo "$line"
  results+=("$line")
  if [ "$rc" != 0 ]; then
    failed=1
    tail -30 "$log" | sed 's/^/    /'
  fi
}

if [ "$kill9_rounds" -gt 0 ]; then
  : >"$out/kill9.rounds"
  run "mount_kill9_stress x$kill9_rounds" "$out/kill9.log" env ROUNDS="$kill9_rounds" \
    ROUNDS_PER_STORE="$kill9_per_store" STRESS_REPORT="$out/kill9.rounds" \
    bash "$src/tests/cli/mount_kill9_stress.sh"
fi
for i in $(seq 1 "$eio_runs"); do
  run "mount_eio #$i" "$out/eio.$i.log" bash "$src/tests/cli/mount_eio.sh"
done
for i in $(seq 1 "$isolation_runs"); do
  run "isolation #$i" "$out/isolation.$i.log" bash "$src/tests/cli/isolation.sh"
done

echo
echo "== summary"
printf '%s\n' "${results[@]}"
if [ -s "$out/kill9.rounds" ]; then
  python3 - "$out/kill9.rounds" <<'EOF'
import re, statistics, sys
rows = []
for line in open(sys.argv[1]):
    m = re.search(r"killed (\d+) ms .*; (\d+) acknowledged, (\d+) tool errors, (\d+) sealed but not "
                  r"acknowledged; log size (\d+); failed tools: ([^;\s]+)", line)
    if m:
        rows.append([int(x) for x in m.groups()[:5]] + [m.group(6)])
if not rows:
    sys.exit(0)
acked = [r[1] for r in rows]
tools = {}
for r in rows:
    for kv in r[5].split(","):
        if "=" in kv:
            k, v = kv.split("=")
            tools[k] = tools.get(k, 0) + int(v)
print("kill -9 rounds: %d passed" % len(rows))
print("  acknowledged per round: min %d, median %d, max %d, total %d"
      % (min(acked), statistics.median(acked), max(acked), sum(acked)))
print("  tool errors (the write in flight at the kill): total %d, by tool %s"
      % (sum(r[2] for r in rows), ", ".join("%s %d" % kv for kv in sorted(tools.items()))))
unacked = [r[3] for r in rows]
print("  sealed but not acknowledged: total %d, in %d of %d rounds"
      % (sum(unacked), sum(1 for u in unacked if u), len(rows)))
EOF
fi
[ "$failed" = 0 ] && echo "stress-mount: OK" || echo "stress-mount: FAILED"
exit "$failed"
