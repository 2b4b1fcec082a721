#!/usr/bin/env bash
# bench/run.sh: the PRODUCT §7 benchmarks of the ledger core, each beside its baseline, in one run
# on one disk. Progress goes to stderr; the results, as a markdown table, to stdout.
#
#   bench/run.sh                      # everything, ~5-10 minutes on a 2-core VM
#   SECTIONS="growth" GROWTH_ENTRIES=10000000 bench/run.sh   # the 10 M growth run, by hand
#
# Environment (defaults in brackets):
#   BENCH_DIR        scratch directory on the disk under test [/var/tmp/service-fs-bench.<pid>];
#                    removed at the end unless KEEP=1
#   BUILD_DIR        build directory [<source>/build/bench]; BENCH_CMAKE_ARGS adds cmake arguments
#   SECTIONS         which of "append verify growth" to run [all three]
#   REPEAT           runs of each append measurement, baseline and core alternating; medians
#                    are compared [3]
#   SEQ_RECORDS      records for the 1-caller rows [2000]
#   PAR_RECORDS      records for the 8-caller rows [8000]
#   RECORD_SIZE      bytes per record [4096]
#   VERIFY_ENTRIES   entries of the verified store [200000]
#   GROWTH_ENTRIES   size the growth store is grown to [1000000]
#   GROWTH_PROBE     entries appended (8 callers) to measure the rate at a size [40000]
#   GROW_CALLERS     callers used to grow the store fast [256]
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build/bench}
sections=${SECTIONS:-append verify growth}
repeat=${REPEAT:-3}
seq_records=${SEQ_RECORDS:-2000}
par_records=${PAR_RECORDS:-8000}
record_size=${RECORD_SIZE:-4096}
verify_entries=${VERIFY_ENTRIES:-200000}
growth_entries=${GROWTH_ENTRIES:-1000000}
growth_probe=${GROWTH_PROBE:-40000}
grow_callers=${GROW_CALLERS:-256}

log() { echo "[bench $(date +%T)] $*" >&2; }
has_section() { [[ " $sections " == *" $1 "* ]]; }

log "building into $build"
# shellcheck disable=SC2086  # BENCH_CMAKE_ARGS is a list of arguments
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${BENCH_CMAKE_ARGS:-} \
  >/dev/null
ninja -C "$build" append_bench verify_bench open_bench >&2

dir=${BENCH_DIR:-/var/tmp/service-fs-bench.$$}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [[ "${KEEP:-0}" != 1 ]]; then trap 'rm -rf "$dir"' EXIT; fi
log "scratch directory $dir"

# field FILE KEY: the value of KEY= on the RESULT line of FILE.
field() { sed -n 's/^RESULT .*\b'"$2"'=\([^ ]*\).*/\1/p' "$1" | tail -1; }
# run NAME CMD...: runs a benchmark, its output kept in $dir/NAME.out, echoed to stderr.
run() {
  local name=$1
  shift
  "$@" >"$dir/$name.out"
  sed 's/^/    /' "$dir/$name.out" >&2
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
pct() { calc "100 * $1 / $2" 0; }
verdict() { awk "BEGIN { print ($1 >= $2) ? \"pass\" : \"**fail**\" }"; }

rows=()
row() { rows+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# --- append: records through the core API vs the native fsync loop --------------------------------
if has_section append; then
  for callers in 1 8; do
    records=$([[ $callers == 1 ]] && echo "$seq_records" || echo "$par_records")
    native=() core=()
    for r in $(seq "$repeat"); do
      log "append: $callers caller(s), $records x $record_size B, run $r/$repeat: native"
      rm -rf "$dir/a"
      run "native-$callers-$r" "$build/append_bench" --dir "$dir/a" --mode native \
        --callers "$callers" --records "$records" --size "$record_size"
      native+=("$(field "$dir/native-$callers-$r.out" rate)")
      log "append: $callers caller(s), run $r/$repeat: core"
      rm -rf "$dir/a"
      run "core-$callers-$r" "$build/append_bench" --dir "$dir/a" --mode core \
        --callers "$callers" --records "$records" --size "$record_size"
      core+=("$(field "$dir/core-$callers-$r.out" rate)")
    done
    rm -rf "$dir/a"
    n=$(echo "${native[*]}" | median)
    c=$(echo "${core[*]}" | median)
    target=$([[ $callers == 1 ]] && echo 50 || echo 70)
    row "append via Records, $callers caller(s), $records × $record_size B" \
      "$(calc "$n" 0) files/s (runs: ${native[*]})" "$(calc "$c" 0) records/s (runs: ${core[*]})" \
      "$(pct "$c" "$n") %" "≥ $target %" "$(verdict "100 * $c / $n" "$target")"
  done
fi

# --- verify: a cached store vs the SHA-256 bound of this CPU ---------------------------------------
if has_section verify; then
  log "verify: openssl speed -evp sha256 -bytes 16384 -seconds 3"
  openssl speed -evp sha256 -bytes 16384 -seconds 3 2>/dev/null >"$dir/openssl.out"
  sed 's/^/    /' "$dir/openssl.out" | tail -2 >&2
  kbps=$(awk '$1 == "sha256" { v = $NF } END { sub(/k$/, "", v); print v }' "$dir/openssl.out")
  sha_bps=$(calc "$kbps * 1000" 0)
  bound=$(calc "$sha_bps / 64 / 5" 0)
  log "verify: building and verifying a $verify_entries-entry store"
  run verify "$build/verify_bench" --dir "$dir/v" --entries "$verify_entries"
  v=$(field "$dir/verify.out" rate)
  rm -rf "$dir/v"
  row "verify, cached store of $verify_entries entries (~175 B), 1 core" \
    "$(calc "$bound" 0) entries/s (SHA-256 $(calc "$sha_bps / 1e9" 2) GB/s ÷ 64 ÷ 5)" \
    "$(calc "$v" 0) entries/s (RSS $(calc "$(field "$dir/verify.out" hwm_kib) / 1024") MiB)" \
    "$(pct "$v" "$bound") %" "≥ 50 %" "$(verdict "100 * $v / $bound" 50)"
fi

# --- growth: append rate, RSS and open time at 0 and at GROWTH_ENTRIES entries ---------------------
# Two stores: "small" starts empty, "big" is grown to GROWTH_ENTRIES. Probes (8 callers,
# entries-only) alternate between them so both see the same background load.
if has_section growth; then
  small="$dir/g0" big="$dir/gN"
  log "growth: creating the empty stores; open time at 0 entries"
  run g0-create "$build/append_bench" --dir "$small" --entries-only --records 0
  run g0-open "$build/open_bench" --dir "$small"
  grow=$growth_entries
  log "growth: growing $big to $grow entries with $grow_callers callers"
  run gN-grow "$build/append_bench" --dir "$big" --entries-only --callers "$grow_callers" \
    --records "$grow"
  run gN-open "$build/open_bench" --dir "$big"
  r0=() rN=() hN=()
  for r in $(seq "$repeat"); do
    log "growth: probe $r/$repeat at ~0 entries"
    run "g0-probe-$r" "$build/append_bench" --dir "$small" --entries-only --reuse --callers 8 \
      --records "$growth_probe"
    r0+=("$(field "$dir/g0-probe-$r.out" rate)")
    log "growth: probe $r/$repeat at ~$grow entries"
    run "gN-probe-$r" "$build/append_bench" --dir "$big" --entries-only --reuse --callers 8 \
      --records "$growth_probe"
    rN+=("$(field "$dir/gN-probe-$r.out" rate)")
    hN+=("$(field "$dir/gN-probe-$r.out" hwm_kib)")
  done
  a0=$(echo "${r0[*]}" | median)
  aN=$(echo "${rN[*]}" | median)
  hmax=$(echo "${hN[*]}" | tr ' ' '\n' | sort -g | tail -1)
  sN=$(field "$dir/gN-probe-1.out" start_size)
  row "growth: append rate (entries only, 8 callers) at $sN vs 0 entries" \
    "$(calc "$a0" 0) entries/s at 0 (runs: ${r0[*]})" "$(calc "$aN" 0) entries/s (runs: ${rN[*]})" \
    "$(pct "$aN" "$a0") %" "≥ 90 %" "$(verdict "100 * $aN / $a0" 90)"
  row "growth: peak RSS of the appending process at $sN entries" "—" \
    "$(calc "$hmax / 1024") MiB (0 entries: $(calc "$(field "$dir/g0-probe-1.out" hwm_kib) / 1024") MiB; the $grow_callers-caller grow process: $(calc "$(field "$dir/gN-grow.out" hwm_kib) / 1024") MiB)" \
    "—" "≤ 64 MiB" "$(verdict "64 * 1024" "$hmax")"
  o0=$(field "$dir/g0-open.out" best_s)
  oN=$(field "$dir/gN-open.out" best_s)
  row "growth: Log::Open (ready) at $(field "$dir/gN-open.out" entries) entries" \
    "$(calc "$o0 * 1000") ms at 0 entries" \
    "$(calc "$oN * 1000") ms (first, maybe uncached: $(calc "$(field "$dir/gN-open.out" first_s) * 1000") ms; RSS $(calc "$(field "$dir/gN-open.out" hwm_kib) / 1024") MiB)" \
    "—" "≤ 1000 ms" "$(verdict 1 "$oN")"
fi

load_end=$(cut -d' ' -f1-3 /proc/loadavg)

echo "## ledger core benchmarks ($(date -u +%Y-%m-%dT%H:%MZ))"
echo
echo "machine: $(nproc) cores ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)), kernel $(uname -r)"
echo "disk: $(df -hT "$dir" | awk 'NR == 2 { print $1 " " $2 ", " $3 " total, " $5 " free" }'), scratch $dir"
echo "load average at start: $load_start; at end: $load_end"
echo
echo "| workload | baseline | measured | ratio | target | result |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
