#!/usr/bin/env bash
# fuzz.sh [TARGET...]: builds the libFuzzer targets of tests/fuzz (clang, ASan+UBSan) and runs
# each one: first its saved crash inputs (tests/fuzz/regressions/<target>/, which must all pass
# now), then FUZZ_SECONDS of fuzzing from the seeds in tests/fuzz/corpus/<target>/. Prints a
# table of execs, new coverage and findings; exits 1 if any target failed or found something.
#
#   tools/fuzz.sh                     short mode (CI): 10 s per target, a throwaway corpus
#   FUZZ_SECONDS=600 tools/fuzz.sh    long mode (> 60 s): the corpus grows in FUZZ_CORPUS
#                                     (default ~/.cache/service-fs/fuzz-corpus), run after run
#
# FUZZ_BUILD (default $BUILD_ROOT/fuzz, or build/fuzz) is the build folder, FUZZ_JOBS (default
# nproc) how many targets run at once, FUZZ_OUT where findings go (default $FUZZ_BUILD/findings).
# A finding is a file there (crash-*, leak-*, timeout-*, oom-*): reproduce it with
# `$FUZZ_BUILD/tests/fuzz/<target>_fuzz FILE`, fix the parser, and keep the file under
# tests/fuzz/regressions/<target>/ so every later run replays it.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
seconds=${FUZZ_SECONDS:-10}
build=${FUZZ_BUILD:-${BUILD_ROOT:-$src/build}/fuzz}
jobs=${FUZZ_JOBS:-$(nproc)}
out=${FUZZ_OUT:-$build/findings}
all_targets=(encoding note checkpoint tile_path tile_data proof_text records verify_tree
  mount_options http_request listen_address)
targets=("$@")
((${#targets[@]})) || targets=("${all_targets[@]}")

# The tree's packages, plus the libFuzzer runtime (Debian puts it in libclang-rt-14-dev).
"$src/tools/install-deps.sh"
if ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q "install ok installed"; then
  echo "fuzz: installing libclang-rt-14-dev"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libclang-rt-14-dev
fi

build_start=$SECONDS
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DLEDGER_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" fuzz_targets
echo "== fuzz: built in $((SECONDS - build_start)) s"

# Short runs start from the seeds alone so CI results do not depend on earlier runs.
if ((seconds > 60)) || [ -n "${FUZZ_CORPUS:-}" ]; then
  corpus_root=${FUZZ_CORPUS:-${XDG_CACHE_HOME:-$HOME/.cache}/service-fs/fuzz-corpus}
else
  corpus_root=$(mktemp -d)
  trap 'rm -rf "$corpus_root"' EXIT
fi
mkdir -p "$out" "$build/fuzz-logs"

# run_target NAME: replays regressions, then fuzzes; writes $build/fuzz-logs/NAME.{log,result}.
run_target() {
  local t=$1 bin="$build/tests/fuzz/${1}_fuzz" log="$build/fuzz-logs/$1.log"
  local result="$build/fuzz-logs/$1.result" regress="$src/tests/fuzz/regressions/$1"
  local replayed=0 status=""
  mkdir -p "$corpus_root/$t" "$out/$t"
  : >"$log"
  if [ -d "$regress" ] && [ -n "$(ls -A "$regress")" ]; then
    replayed=$(find "$regress" -type f | wc -l)
    "$bin" "$regress"/* >>"$log" 2>&1 || status="REGRESSION "
  fi
  # Whole trees need room (a two-level tree is 9 KB); single parsers do better with short inputs.
  local max_len=8192
  [ "$t" = verify_tree ] && max_len=32768
  local before
  before=$(find "$out/$t" -type f | wc -l)
  # New inputs go to the first folder (the work corpus); the seeds are only read.
  "$bin" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -dict="$src/tests/fuzz/dict/$t.dict" -artifact_prefix="$out/$t/" \
    "$corpus_root/$t" "$src/tests/fuzz/corpus/$t" >>"$log" 2>&1 || status+="FINDING"
  local findings=$(($(find "$out/$t" -type f | wc -l) - before))
  local execs new cov0 cov1
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  new=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)
  cov0=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$log" | tail -1)
  cov1=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' "$log" | tail -1)
  echo "$t ${execs:-?} ${new:-?} ${cov0:-?} ${cov1:-?} $findings $replayed ${status:-ok}" >"$result"
}

echo "== fuzz: ${#targets[@]} targets, $seconds s each, $jobs at a time; corpus $corpus_root"
fuzz_start=$SECONDS
rm -f "$build"/fuzz-logs/*.result
for t in "${targets[@]}"; do
  [ -x "$build/tests/fuzz/${t}_fuzz" ] || { echo "fuzz: no target $t" >&2; exit 2; }
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
  run_target "$t" &
done
wait

failed=0
printf '\n%-16s %12s %8s %14s %9s %11s  %s\n' target execs "new" "coverage" findings regressions result
for t in "${targets[@]}"; do
  if [ ! -s "$build/fuzz-logs/$t.result" ]; then
    printf '%-16s %s\n' "$t" "did not finish (see $build/fuzz-logs/$t.log)"
    failed=1
    continue
  fi
  read -r name execs new cov0 cov1 findings replayed status <"$build/fuzz-logs/$t.result"
  printf '%-16s %12s %8s %14s %9s %11s  %s\n' "$name" "$execs" "$new" "$cov0 -> $cov1" \
    "$findings" "$replayed" "$status"
  [ "$status" = ok ] || failed=1
done
echo "== fuzz: $((SECONDS - fuzz_start)) s of fuzzing; logs in $build/fuzz-logs, findings in $out"
if ((failed)); then
  echo "fuzz: FAILED (see the logs above; every finding must be fixed and kept in tests/fuzz/regressions/)" >&2
  exit 1
fi
