#!/usr/bin/env bash
# bench/run.sh: the PRODUCT §7 benchmarks, each beside its baseline, in one run on one disk.
# Progress goes to stderr; the results, as a markdown table, to stdout.
#
#   bench/run.sh                      # everything, ~15-20 minutes on a 2-core VM
#   SECTIONS="growth" GROWTH_ENTRIES=10000000 bench/run.sh   # the 10 M growth run, by hand
#   SECTIONS=fuse bench/run.sh        # the FUSE mount rows (PRODUCT §7 rows 1-4) only
#   SECTIONS=http bench/run.sh        # the HTTP rows (`ledgerfs serve` vs nginx, vs the fsync loop)
#
# Environment (defaults in brackets):
#   BENCH_DIR        scratch directory on the disk under test [/var/tmp/service-fs-bench.<pid>];
#                    removed at the end unless KEEP=1. Not tmpfs: the rows compare fsyncs.
#   BUILD_DIR        build directory [<source>/build/bench]; BENCH_CMAKE_ARGS adds cmake arguments
#   SECTIONS         which of "append verify growth fuse-cp fuse-cp8 fuse-big fuse-read
#                    fuse-trace http-get http-post" to run; "fuse" stands for the first four
#                    fuse-*, "http" for both http-* [append verify growth fuse http]
#   REPEAT           runs of each append and FUSE measurement, baseline and ours alternating;
#                    medians are compared [3]
#   SEQ_RECORDS      records for the 1-caller rows [2000]
#   PAR_RECORDS      records for the 8-caller rows [8000]
#   RECORD_SIZE      bytes per record [4096]
#   VERIFY_ENTRIES   entries of the verified store [200000]
#   GROWTH_ENTRIES   size the growth store is grown to [1000000]
#   GROWTH_PROBE     entries appended (8 callers) to measure the rate at a size [40000]
#   GROW_CALLERS     callers used to grow the store fast [256]
#  FUSE rows (`ledgerfs mount`; needs /dev/fuse, fusermount3, and root for the passthrough_hp
#  baseline's first build, which enables deb-src and runs `apt-get source fuse3`):
#   FUSE_FILES       files copied by `cp` per run (fuse-cp, fuse-cp8) [10000]
#   FUSE_FILE_SIZE   bytes per file [4096]
#   FUSE_WRITERS     parallel `cp` processes (fuse-cp8), each copying FUSE_FILES/FUSE_WRITERS [8]
#   BIG_MIB          size of the one big file (fuse-big) [1024]
#   READ_RECORDS     records re-read (fuse-read), besides every full tile and bundle [2000]
#   READ_PASSES      timed passes of each re-read, alternating; the fastest of each side is
#                    compared (other processes can only slow a pass down) [7]
#   TRACE_FILES      files copied under `-o debug` and strace (fuse-trace) [1000]
#   FUSE_CACHE       where Debian's fuse3 source and the passthrough_hp binary are kept between
#                    runs (never in the repository) [/var/tmp/servicefs-bench]
#  HTTP rows (`ledgerfs serve`; wrk and nginx, which are apt-get installed if missing and root):
#   HTTP_TILE_ENTRIES  entries in the store whose full tiles http-get reads [65792: 257 full
#                    bundles and level-0 tiles, and the full level-1 tile tile/1/000]
#   HTTP_SECONDS     seconds per wrk run [10]
#   HTTP_WRK_THREADS wrk threads (-t) [2]
#   HTTP_GET_CONNS   connection counts (-c) of the http-get runs, each a row ["16 64"]
#   HTTP_SERVE_THREADS  `ledgerfs serve --threads` [16, its default]
#   HTTP_NGINX_WORKERS  nginx worker_processes [auto: one per core]. On a loaded machine the
#                    scheduler shares CPU per thread, so 16 server threads get more of it than 2
#                    workers; HTTP_NGINX_WORKERS=16 matches them.
#   HTTP_POST_CLIENTS   connections (-c) posting records in http-post, and the native loop's
#                    writers [8]
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build/bench}
sections=${SECTIONS:-append verify growth fuse http}
sections=" $sections "
sections=${sections// fuse / fuse-cp fuse-cp8 fuse-big fuse-read }
sections=${sections// http / http-get http-post }
repeat=${REPEAT:-3}
seq_records=${SEQ_RECORDS:-2000}
par_records=${PAR_RECORDS:-8000}
record_size=${RECORD_SIZE:-4096}
verify_entries=${VERIFY_ENTRIES:-200000}
growth_entries=${GROWTH_ENTRIES:-1000000}
growth_probe=${GROWTH_PROBE:-40000}
grow_callers=${GROW_CALLERS:-256}
fuse_files=${FUSE_FILES:-10000}
fuse_file_size=${FUSE_FILE_SIZE:-4096}
fuse_writers=${FUSE_WRITERS:-8}
big_mib=${BIG_MIB:-1024}
read_records=${READ_RECORDS:-2000}
read_passes=${READ_PASSES:-7}
trace_files=${TRACE_FILES:-1000}
fuse_cache=${FUSE_CACHE:-/var/tmp/servicefs-bench}
http_tile_entries=${HTTP_TILE_ENTRIES:-65792}
http_seconds=${HTTP_SECONDS:-10}
http_wrk_threads=${HTTP_WRK_THREADS:-2}
http_get_conns=${HTTP_GET_CONNS:-16 64}
http_serve_threads=${HTTP_SERVE_THREADS:-16}
http_nginx_workers=${HTTP_NGINX_WORKERS:-auto}
http_post_clients=${HTTP_POST_CLIENTS:-8}

log() { echo "[bench $(date +%T)] $*" >&2; }
has_section() { [[ " $sections " == *" $1 "* ]]; }
has_fuse() { [[ " $sections " == *" fuse-"* ]]; }
has_http() { [[ " $sections " == *" http-"* ]]; }

log "building into $build"
# shellcheck disable=SC2086  # BENCH_CMAKE_ARGS is a list of arguments
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${BENCH_CMAKE_ARGS:-} \
  >/dev/null
targets=(append_bench verify_bench open_bench)
if has_fuse || has_http; then targets+=(ledgerfs); fi
ninja -C "$build" "${targets[@]}" >&2

dir=${BENCH_DIR:-/var/tmp/service-fs-bench.$$}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# Every FUSE mount this script starts is remembered with its daemon's pid; at exit, even after a
# failure or ^C, those mounts are unmounted and those daemons (and only those) killed, before the
# scratch directory is removed.
# Servers (`ledgerfs serve`, nginx) are remembered the same way, by pid, and stopped at exit.
mount_points=() mount_pids=() server_pids=()
cleanup() {
  local i
  for i in "${!server_pids[@]}"; do
    kill "${server_pids[$i]}" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "${server_pids[$i]}" 2>/dev/null || break; sleep 0.5; done
    kill -9 "${server_pids[$i]}" 2>/dev/null || true
  done
  for i in "${!mount_points[@]}"; do
    fusermount3 -u -z "${mount_points[$i]}" 2>/dev/null || true
    kill "${mount_pids[$i]}" 2>/dev/null || true
  done
  for i in "${!mount_pids[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "${mount_pids[$i]}" 2>/dev/null || break; sleep 0.5; done
    kill -9 "${mount_pids[$i]}" 2>/dev/null || true
  done
  if [[ "${KEEP:-0}" != 1 ]]; then
    if grep -qs " $dir/" /proc/mounts; then
      echo "[bench] not removing $dir: something is still mounted below it" >&2
    else
      rm -rf "$dir"
    fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
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
best() { tr ' ' '\n' | grep -v '^$' | sort -g | tail -1; }
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

# --- FUSE mount: PRODUCT §7 rows 1-4 (`ledgerfs mount`) ------------------------------------------
# One ledger store and mount (fstore/fmnt) serves fuse-cp, fuse-cp8, fuse-big and fuse-read; the
# baselines write to the same disk ($dir). Every run writes content not seen before, since the
# store keeps identical content once.
notes=()
now() { date +%s.%N; }
is_mounted() { grep -qs " $1 fuse" /proc/mounts; }
# cpu_s PID: user+system CPU seconds of a process, all its threads.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }
# The whole disk under $dir, and its counters: writes and cache flushes completed (each fsync
# that reaches a write-back-cache disk is one flush). Other processes' I/O counts too.
disk=$(basename "$(df --output=source "$dir" | tail -1)")
if [[ -e /sys/class/block/$disk/partition ]]; then
  disk=$(basename "$(dirname "$(readlink -f "/sys/class/block/$disk")")")
fi
disk_io() { awk -v d="$disk" '$3 == d { print $8, $19 }' /proc/diskstats; }

# start_daemon MNT LOG CMD...: runs a FUSE daemon in the foreground, as a child of this script
# remembered for cleanup, and waits until MNT is mounted; sets $daemon_pid.
start_daemon() {
  local mnt=$1 logf=$2
  shift 2
  mkdir -p "$mnt"
  "$@" 2>"$logf" &
  daemon_pid=$!
  mount_points+=("$mnt")
  mount_pids+=("$daemon_pid")
  for _ in $(seq 400); do
    if is_mounted "$mnt"; then return 0; fi
    if ! kill -0 "$daemon_pid" 2>/dev/null; then
      cat "$logf" >&2
      log "the daemon for $mnt exited before mounting"
      exit 1
    fi
    sleep 0.05
  done
  cat "$logf" >&2
  log "$mnt did not become a mount within 20 s"
  exit 1
}
# stop_daemon MNT PID: unmounts cleanly and waits (up to 2 minutes) for the daemon, which must
# exit 0.
stop_daemon() {
  local mnt=$1 pid=$2 rc=0 i state
  fusermount3 -u "$mnt"
  for _ in $(seq 600); do
    state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || true)
    [[ -z $state || $state == Z ]] && break
    sleep 0.2
  done
  if [[ -n $state && $state != Z ]]; then
    log "the daemon $pid of $mnt is still running 2 minutes after the unmount"
    exit 1
  fi
  wait "$pid" || rc=$?
  for i in "${!mount_pids[@]}"; do
    if [[ ${mount_pids[$i]} == "$pid" ]]; then unset "mount_pids[$i]" "mount_points[$i]"; fi
  done
  if [[ $rc != 0 ]]; then
    log "the daemon $pid of $mnt exited $rc"
    exit 1
  fi
}
# new_ledger STORE MNT [mount options...]: a fresh store, mounted; sets $ledger_pid.
new_ledger() {
  local store=$1 mnt=$2
  shift 2
  "$build/ledgerfs" init "$store" --origin "bench.example/$(basename "$store")" \
    --key "$store.key" >/dev/null 2>"$store.init.log"
  start_daemon "$mnt" "$store.daemon.log" "$build/ledgerfs" mount "$store" "$mnt" --foreground \
    --key "$store.key" "$@"
  ledger_pid=$daemon_pid
}
published_size() { sed -n 2p "$1/checkpoint"; }
# settle STORE: waits until the daemon's publisher is idle (the checkpoint size has not moved for
# 2 s), then flushes everything dirty, so that no run pays for the previous one's tail.
settle() {
  local prev=-1 cur
  if [[ -n ${1:-} ]]; then
    for _ in $(seq 90); do
      cur=$(published_size "$1")
      [[ $cur == "$prev" ]] && break
      prev=$cur
      sleep 2
    done
  fi
  sync
  sleep 1
}
# make_src DIR N SIZE PARTS: N files of SIZE fresh random bytes in PARTS folders d0, d1, ...
make_src() {
  local d=$1 n=$2 size=$3 parts=$4 p count
  rm -rf "$d"
  mkdir -p "$d"
  for ((p = 0; p < parts; p++)); do
    count=$((n / parts + (p < n % parts ? 1 : 0)))
    mkdir "$d/d$p"
    head -c $((count * size)) /dev/urandom | split -a 6 -d -b "$size" - "$d/d$p/f"
  done
}
count_files() { find "$1" -type f | wc -l; }

fstore=$dir/fstore fmnt=$dir/fmnt
ensure_ledger() {
  if [[ -z ${fmain_pid:-} ]]; then
    log "fuse: creating and mounting the store $fstore on $fmnt"
    new_ledger "$fstore" "$fmnt"
    fmain_pid=$ledger_pid
  fi
}

if has_fuse; then
  [[ -e /dev/fuse ]] || { log "fuse: /dev/fuse is missing"; exit 1; }
  command -v fusermount3 >/dev/null || { log "fuse: fusermount3 is missing (fuse3)"; exit 1; }
  if [[ $(stat -f -c %T "$dir") == tmpfs ]]; then
    log "fuse: $dir is on tmpfs; set BENCH_DIR to a folder on the disk under test"
    exit 1
  fi
fi

# passthrough_hp is built once from Debian's fuse3 source package (deb-src is enabled if needed),
# against the installed libfuse3, in $fuse_cache; neither the source nor the binary is part of the
# repository.
build_passthrough_hp() {
  local bin=$fuse_cache/passthrough_hp srcdir
  [[ -x $bin ]] && { echo "$bin"; return; }
  mkdir -p "$fuse_cache/fuse3-src"
  srcdir=$(find "$fuse_cache/fuse3-src" -mindepth 1 -maxdepth 1 -type d -name 'fuse3-*' -print -quit)
  if [[ -z $srcdir ]]; then
    if ! apt-cache showsrc fuse3 2>/dev/null | grep -q '^Package:'; then
      log "fuse-big: enabling deb-src (/etc/apt/sources.list.d/servicefs-bench-src.sources)"
      [[ $(id -u) == 0 ]] || { log "fuse-big: run as root once, or enable deb-src by hand"; exit 1; }
      {
        echo "# Added by service-fs bench/run.sh: source packages, for the passthrough_hp baseline"
        echo "Types: deb-src"
        echo "URIs: http://deb.debian.org/debian"
        echo "Suites: $(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)"
        echo "Components: main"
        echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
      } >/etc/apt/sources.list.d/servicefs-bench-src.sources
      apt-get update >&2
    fi
    log "fuse-big: apt-get source fuse3 (into $fuse_cache/fuse3-src)"
    (cd "$fuse_cache/fuse3-src" && apt-get source fuse3 >&2)
    srcdir=$(find "$fuse_cache/fuse3-src" -mindepth 1 -maxdepth 1 -type d -name 'fuse3-*' -print -quit)
  fi
  log "fuse-big: building passthrough_hp from $srcdir (libfuse $(pkg-config --modversion fuse3))"
  # The HAVE_* macros are what libfuse's meson build defines on Linux.
  # shellcheck disable=SC2046  # pkg-config prints lists of flags
  g++ -std=c++17 -O2 -DHAVE_UTIMENSAT -DHAVE_POSIX_FALLOCATE -DHAVE_SETXATTR \
    $(pkg-config --cflags fuse3) "$srcdir/example/passthrough_hp.cc" -o "$bin.tmp" \
    $(pkg-config --libs fuse3) -pthread >&2
  mv "$bin.tmp" "$bin"
  echo "$bin"
}
pt_pid=
ensure_passthrough() { # mounts passthrough_hp of $dir/pt-backing on $dir/pt-mnt, once
  if [[ -z $pt_pid ]]; then
    pthp=$(build_passthrough_hp)
    log "fuse: mounting passthrough_hp ($pthp) of $dir/pt-backing on $dir/pt-mnt"
    mkdir -p "$dir/pt-backing"
    start_daemon "$dir/pt-mnt" "$dir/pt.log" "$pthp" --foreground "$dir/pt-backing" "$dir/pt-mnt"
    pt_pid=$daemon_pid
  fi
}

# --- fuse-cp, fuse-cp8: `cp` of FUSE_FILES small files into inbox/ vs the native fsync loop -------
# copy_in DEST: $dir/src into DEST (new) with one `cp -r` (mode seq) or one `cp -r` per folder,
# all at once (mode par).
copy_in() {
  local p pid pids=()
  if [[ $mode == seq ]]; then
    cp -r "$dir/src" "$1"
  else
    mkdir "$1"
    for ((p = 0; p < fuse_writers; p++)); do
      cp -r "$dir/src/d$p" "$1/" &
      pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
  fi
}
for mode in seq par; do
  section=$([[ $mode == seq ]] && echo fuse-cp || echo fuse-cp8)
  has_section "$section" || continue
  ensure_ledger
  ensure_passthrough
  writers=$([[ $mode == seq ]] && echo 1 || echo "$fuse_writers")
  native=() ours=() cpus=() nflush=() oflush=() floor=()
  for r in $(seq "$repeat"); do
    log "$section: $fuse_files x $fuse_file_size B, $writers writer(s), run $r/$repeat: native"
    rm -rf "$dir/n"
    settle "$fstore"
    read -r w0 f0 < <(disk_io)
    run "$section-native-$r" "$build/append_bench" --dir "$dir/n" --mode native \
      --callers "$writers" --records "$fuse_files" --size "$fuse_file_size"
    read -r w1 f1 < <(disk_io)
    native+=("$(field "$dir/$section-native-$r.out" rate)")
    nflush+=("$(calc "($f1 - $f0) / $fuse_files" 2)")
    rm -rf "$dir/n"

    log "$section: run $r/$repeat: cp into $fmnt/inbox/$mode-$r"
    make_src "$dir/src" "$fuse_files" "$fuse_file_size" "$fuse_writers"
    settle "$fstore"
    read -r w0 f0 < <(disk_io)
    c0=$(cpu_s "$fmain_pid")
    t0=$(now)
    copy_in "$fmnt/inbox/$mode-$r"
    t1=$(now)
    c1=$(cpu_s "$fmain_pid")
    read -r w1 f1 < <(disk_io)
    got=$(count_files "$fmnt/records/$mode-$r")
    [[ $got == "$fuse_files" ]] || { log "$section: records/$mode-$r has $got files"; exit 1; }
    rate=$(calc "$fuse_files / ($t1 - $t0)")
    ours+=("$rate")
    cpus+=("$(calc "1e6 * ($c1 - $c0) / $fuse_files" 0)")
    oflush+=("$(calc "($f1 - $f0) / $fuse_files" 2)")
    log "    cp: $fuse_files files in $(calc "$t1 - $t0" 2) s, $rate files/s; daemon CPU $(calc "$c1 - $c0" 2) s; disk flushes/file ${oflush[-1]}"

    # The FUSE floor: the same cp into passthrough_hp, which makes nothing durable.
    settle "$fstore"
    t0=$(now)
    copy_in "$dir/pt-mnt/$mode-$r"
    t1=$(now)
    floor+=("$(calc "$fuse_files / ($t1 - $t0)" 0)")
    rm -rf "${dir:?}/pt-mnt/$mode-$r" # through the mount, so that the daemon forgets the inodes
    log "    passthrough_hp, same cp, no fsync: ${floor[-1]} files/s"
  done
  n=$(echo "${native[*]}" | median)
  o=$(echo "${ours[*]}" | median)
  target=$([[ $mode == seq ]] && echo 50 || echo 60)
  what=$([[ $mode == seq ]] && echo "one \`cp -r\`" || echo "$fuse_writers parallel \`cp -r\` of $((fuse_files / fuse_writers)) files each")
  row "FUSE: $what, $fuse_files × $fuse_file_size B into \`inbox/\`" \
    "native loop, $writers writer(s): $(calc "$n" 0) files/s (runs: ${native[*]})" \
    "$(calc "$o" 0) files/s (runs: ${ours[*]})" \
    "$(pct "$o" "$n") %" "≥ $target %" "$(verdict "100 * $o / $n" "$target")"
  notes+=("$section: the same cp into \`passthrough_hp\` (no fsync; the FUSE floor): $(echo "${floor[*]}" | median) files/s (runs: ${floor[*]}); daemon CPU per file (µs, per run): ${cpus[*]}; disk cache flushes per file, ours: ${oflush[*]}, native: ${nflush[*]} (whole disk, other processes included)")
done


if has_section fuse-big; then
  ensure_passthrough
  ensure_ledger
  big=$dir/big.src
  log "fuse-big: writing a $big_mib MiB source file"
  head -c "$((big_mib << 20))" /dev/urandom >"$big"
  base=() ours=() cpus=()
  for r in $(seq "$repeat"); do
    # New content each run (the store would keep a repeated file once); the file stays cached.
    printf 'service-fs bench run %s %06d' "$$" "$r" | dd of="$big" conv=notrunc status=none
    log "fuse-big: run $r/$repeat: passthrough_hp, dd bs=1M conv=fsync"
    settle "$fstore"
    t0=$(now)
    dd if="$big" of="$dir/pt-mnt/big-$r" bs=1M conv=fsync status=none
    t1=$(now)
    base+=("$(calc "$big_mib * 1.048576 / ($t1 - $t0)" 0)")
    rm -f "$dir/pt-mnt/big-$r"
    log "    $(calc "$t1 - $t0" 2) s, ${base[-1]} MB/s"
    log "fuse-big: run $r/$repeat: dd bs=1M into $fmnt/inbox/big-$r (durable at close)"
    settle "$fstore"
    c0=$(cpu_s "$fmain_pid")
    t0=$(now)
    dd if="$big" of="$fmnt/inbox/big-$r" bs=1M status=none
    t1=$(now)
    c1=$(cpu_s "$fmain_pid")
    ours+=("$(calc "$big_mib * 1.048576 / ($t1 - $t0)" 0)")
    cpus+=("$(calc "$c1 - $c0" 2)")
    got=$(stat -c %s "$fmnt/records/big-$r")
    [[ $got == $((big_mib << 20)) ]] || { log "fuse-big: records/big-$r has $got bytes"; exit 1; }
    log "    $(calc "$t1 - $t0" 2) s, ${ours[-1]} MB/s, daemon CPU ${cpus[-1]} s"
  done
  b=$(echo "${base[*]}" | median)
  o=$(echo "${ours[*]}" | median)
  row "FUSE: one $big_mib MiB file, \`dd bs=1M\` into \`inbox/\`" \
    "\`passthrough_hp\` (libfuse $(pkg-config --modversion fuse3)), \`dd … conv=fsync\`: $(calc "$b" 0) MB/s (runs: ${base[*]})" \
    "$(calc "$o" 0) MB/s (runs: ${ours[*]})" "$(pct "$o" "$b") %" "≥ 80 %" \
    "$(verdict "100 * $o / $b" 80)"
  notes+=("fuse-big: daemon CPU per $big_mib MiB file (s, per run): ${cpus[*]}")
fi

# --- fuse-read: cached re-reads of full tiles, bundles and records vs `cat` in the store ----------
# The same files are read with one `cat` per list (xargs) through the mount and in the store folder;
# a first pass warms both caches, then READ_PASSES timed passes alternate, each reading the list 3
# times; the fastest pass of each side is compared (the passes are short, and other processes can
# only slow one down).
if has_section fuse-read; then
  ensure_ledger
  if (($(published_size "$fstore") < fuse_files)); then
    log "fuse-read: filling the store with $fuse_files records"
    make_src "$dir/src" "$fuse_files" "$fuse_file_size" "$fuse_writers"
    cp -r "$dir/src" "$fmnt/inbox/read"
  fi
  settle "$fstore"
  (cd "$fstore" && find tile -type f ! -path '*.p/*' ! -path 'tile/entries/*' | sort) >"$dir/tiles.rel"
  (cd "$fstore" && find tile/entries -type f ! -path '*.p/*' | sort) >"$dir/bundles.rel"
  (cd "$fmnt" && find records -type f -size "-$((fuse_file_size + 1))c" | awk "NR <= $read_records") \
    >"$dir/records.rel"
  sed "s|^|$fmnt/|" "$dir/tiles.rel" "$dir/bundles.rel" >"$dir/published.fuse"
  sed "s|^|$fstore/|" "$dir/tiles.rel" "$dir/bundles.rel" >"$dir/published.native"
  sed "s|^|$fmnt/|" "$dir/records.rel" >"$dir/records.fuse"
  # A record's content is content/<hh>/<sha256> in the store.
  xargs -d '\n' -a "$dir/records.fuse" sha256sum |
    awk -v s="$fstore" '{ print s "/content/" substr($1, 1, 2) "/" $1 }' >"$dir/records.native"
  readpass() { xargs -d '\n' -a "$1" cat; }
  for kind in published records; do
    nfiles=$(wc -l <"$dir/$kind.fuse")
    bytes=$(readpass "$dir/$kind.fuse" | wc -c)
    nbytes=$(readpass "$dir/$kind.native" | wc -c)
    [[ $bytes == "$nbytes" ]] || { log "fuse-read: $kind: $bytes bytes via the mount, $nbytes in the store"; exit 1; }
    native=() ours=()
    for r in $(seq "$read_passes"); do
      t0=$(now)
      for _ in 1 2 3; do readpass "$dir/$kind.native" >/dev/null; done
      t1=$(now)
      native+=("$(calc "3 * $nfiles / ($t1 - $t0)" 0)")
      t0=$(now)
      for _ in 1 2 3; do readpass "$dir/$kind.fuse" >/dev/null; done
      t1=$(now)
      ours+=("$(calc "3 * $nfiles / ($t1 - $t0)" 0)")
      log "fuse-read: $kind, pass $r/$read_passes: native ${native[-1]} files/s, mount ${ours[-1]} files/s"
    done
    n=$(echo "${native[*]}" | best)
    o=$(echo "${ours[*]}" | best)
    if [[ $kind == published ]]; then
      what="$(wc -l <"$dir/tiles.rel") full tiles + $(wc -l <"$dir/bundles.rel") full bundles"
    else
      what="$nfiles records of ≤ $fuse_file_size B"
    fi
    row "FUSE: cached re-read of $what ($(calc "$bytes / 1048576") MiB), one \`cat\` per list, best of $read_passes" \
      "\`cat\` in the store folder: $(calc "$n" 0) files/s, $(calc "$n * $bytes / $nfiles / 1e6" 0) MB/s (runs: ${native[*]})" \
      "$(calc "$o" 0) files/s, $(calc "$o * $bytes / $nfiles / 1e6" 0) MB/s (runs: ${ours[*]})" \
      "$(pct "$o" "$n") %" "≥ 80 %" "$(verdict "100 * $o / $n" 80)"
  done
  # The big record, if fuse-big left one: bandwidth rather than per-file cost.
  if [[ -f $fmnt/records/big-1 ]]; then
    h=$(sha256sum "$fmnt/records/big-1" | cut -c1-64)
    nat=$fstore/content/${h:0:2}/$h
    cat "$nat" >/dev/null
    cat "$fmnt/records/big-1" >/dev/null
    native=() ours=()
    for r in $(seq "$read_passes"); do
      t0=$(now); cat "$nat" >/dev/null; t1=$(now)
      native+=("$(calc "$big_mib * 1.048576 / ($t1 - $t0)" 0)")
      t0=$(now); cat "$fmnt/records/big-1" >/dev/null; t1=$(now)
      ours+=("$(calc "$big_mib * 1.048576 / ($t1 - $t0)" 0)")
    done
    n=$(echo "${native[*]}" | best)
    o=$(echo "${ours[*]}" | best)
    row "FUSE: cached re-read of one $big_mib MiB record, best of $read_passes" \
      "\`cat\` in the store folder: $(calc "$n" 0) MB/s (runs: ${native[*]})" \
      "$(calc "$o" 0) MB/s (runs: ${ours[*]})" "$(pct "$o" "$n") %" "≥ 80 %" \
      "$(verdict "100 * $o / $n" 80)"
  fi
fi

if [[ -n $pt_pid ]]; then
  stop_daemon "$dir/pt-mnt" "$pt_pid"
  rm -rf "$dir/pt-backing" "$dir/pt-mnt"
fi
if [[ -n ${fmain_pid:-} ]]; then
  log "fuse: unmounting $fmnt"
  stop_daemon "$fmnt" "$fmain_pid"
fi

# --- fuse-trace: where a small file's time goes (not timed) ---------------------------------------
# Three `cp -r` of TRACE_FILES fresh files into fresh stores (each warmed by one untraced cp):
#  1. mounted with `-o debug` (libfuse logs every request): FUSE requests per file;
#  2. plain mount, the daemon's system calls counted by `perf stat` tracepoints (cheap, so the
#     publisher keeps its normal rhythm), its CPU time and the disk's cache flushes;
#  3. plain mount under `strace -f -y`: which files and folders the syncs are for.
trace=()
if has_section fuse-trace; then
  # trace_cp STORE [mount options]: a fresh store and mount, warmed by one untraced cp (the
  # first records create the content/<hh> folders, which a store does once), then settled, with
  # fresh files in $dir/tsrc/d0 for the traced cp into inbox/t.
  trace_cp() {
    new_ledger "$1" "$1.mnt" "${@:2}"
    tpid=$ledger_pid
    make_src "$dir/tsrc" "$trace_files" "$fuse_file_size" 1
    cp -r "$dir/tsrc/d0" "$1.mnt/inbox/warm"
    make_src "$dir/tsrc" "$trace_files" "$fuse_file_size" 1
    settle "$1"
  }
  per_file() { calc "$1 / $trace_files" 2; }

  log "fuse-trace: 1/3 FUSE requests (-o debug), $trace_files files"
  trace_cp "$dir/t1" -o debug
  lines0=$(wc -l <"$dir/t1.daemon.log")
  cp -r "$dir/tsrc/d0" "$dir/t1.mnt/inbox/t"
  settle "$dir/t1"
  stop_daemon "$dir/t1.mnt" "$tpid"
  trace+=("| FUSE requests during one \`cp -r\` of $trace_files × $fuse_file_size B (\`-o debug\`) | per file |" "|---|---|")
  while read -r count op; do
    trace+=("| $op | $(per_file "$count") |")
  done < <(tail -n +"$((lines0 + 1))" "$dir/t1.daemon.log" |
    grep -o 'opcode: [A-Z_]*' | awk '{ print $2 }' | sort | uniq -c | sort -rn)

  if command -v perf >/dev/null; then
    log "fuse-trace: 2/3 system calls (perf stat), $trace_files files"
    trace_cp "$dir/t2"
    calls=(fsync fdatasync renameat linkat unlinkat openat mkdirat read writev pwrite64 write)
    events=$(printf 'syscalls:sys_enter_%s,' "${calls[@]}")
    perf stat -x, -e "${events%,}" -p "$tpid" -o "$dir/t2.perf" &
    perf_pid=$!
    sleep 1
    read -r w0 f0 < <(disk_io)
    c0=$(cpu_s "$tpid")
    t0=$(now)
    cp -r "$dir/tsrc/d0" "$dir/t2.mnt/inbox/t"
    t1=$(now)
    settle "$dir/t2"
    c1=$(cpu_s "$tpid")
    read -r w1 f1 < <(disk_io)
    kill -INT "$perf_pid"
    wait "$perf_pid" || true
    stop_daemon "$dir/t2.mnt" "$tpid"
    trace+=("" "| daemon system calls, one \`cp -r\` + its publication (\`perf stat\`) | per file |" "|---|---|")
    while IFS=, read -r count _ event _; do
      trace+=("| ${event#syscalls:sys_enter_} | $(per_file "$count") |")
    done < <(grep 'syscalls:' "$dir/t2.perf")
    renames=$(awk -F, '$3 == "syscalls:sys_enter_renameat" { print $1 }' "$dir/t2.perf")
    trace+=("| publications (renameat − files: each file's content is renamed once, each checkpoint once) | $(per_file "$((renames - trace_files))") |")
    trace+=("" "cp: $(calc "$trace_files / ($t1 - $t0)" 0) files/s; daemon CPU $(calc "1e6 * ($c1 - $c0) / $trace_files" 0) µs per file (cp + publication); disk ($disk, whole): $(per_file "$((w1 - w0))") writes and $(per_file "$((f1 - f0))") cache flushes per file")
  fi

  if command -v strace >/dev/null; then
    log "fuse-trace: 3/3 sync targets (strace -f -y), $trace_files files"
    trace_cp "$dir/t3"
    strace -f -y -e trace=fsync,fdatasync -p "$tpid" -o "$dir/t3.strace" 2>/dev/null &
    strace_pid=$!
    sleep 1
    cp -r "$dir/tsrc/d0" "$dir/t3.mnt/inbox/t"
    settle "$dir/t3"
    kill -INT "$strace_pid"
    wait "$strace_pid" || true
    stop_daemon "$dir/t3.mnt" "$tpid"
    trace+=("" "| syncs by target, one \`cp -r\` + its publication (\`strace -f -y\`, which slows the daemon: more, smaller publications) | per file |" "|---|---|")
    while read -r count what; do
      trace+=("| $what | $(per_file "$count") |")
    done < <(sed -nE 's/^[0-9]+ +(fsync|fdatasync)\([0-9]+<([^>]*)>.*/\1 \2/p' "$dir/t3.strace" |
      awk -v s="$dir/t3" '{
        p = substr($2, length(s) + 1)
        if (p ~ /^\/\.ledger\/staging\/./) w = "content, staged file"
        else if (p ~ /^\/\.ledger\/wal\//) w = "commit log"
        else if (p ~ /^\/content\/[0-9a-f][0-9a-f]$/) w = "content/<hh> folder"
        else if (p == "/.ledger/staging") w = "staging folder"
        else if (p ~ /\/\.tmp\.[^\/]*$/) w = "new tile, bundle or checkpoint (temporary file)"
        else if (p ~ /^\/tile/) w = "tile/ folders (mostly <N>.p/)"
        else if (p == "") w = "store root"
        else w = p
        print $1 " of " w }' | sort | uniq -c | sort -rn)
  fi
fi

# --- http-get, http-post: `ledgerfs serve` (PRODUCT §7's HTTP row; docs/http.md) -----------------
# The load generator is wrk (Debian's), with the Lua scripts in bench/wrk/, which also count the
# answers that are not 2xx. On a 2-core machine wrk shares the cores with the server under test;
# it runs with the same -t/-c/-d against ours and against the baseline.
http_tenant=bench
# ensure_pkg CMD PACKAGE: installs PACKAGE with apt-get (as root) unless CMD is found.
ensure_pkg() {
  command -v "$1" >/dev/null || [[ -x /usr/sbin/$1 ]] && return 0
  [[ $(id -u) == 0 ]] || { log "http: $1 is missing; install $2 (apt-get install $2)"; exit 1; }
  log "http: apt-get install $2"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$2" >&2 ||
    { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$2" >&2; }
}
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# start_serve STORE LOG [options...]: `ledgerfs serve STORE` on a free loopback port, as a child
# remembered for cleanup; waits for its "serving http://" line; sets $serve_pid and $serve_url.
start_serve() {
  local store=$1 logf=$2 port
  shift 2
  "$build/ledgerfs" serve "$store" --listen 127.0.0.1:0 --tenant "$http_tenant" \
    --threads "$http_serve_threads" "$@" 2>"$logf" &
  serve_pid=$!
  server_pids+=("$serve_pid")
  for _ in $(seq 600); do
    port=$(sed -n 's|.*serving http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$logf" 2>/dev/null | head -1 || true)
    [[ -n $port ]] && break
    kill -0 "$serve_pid" 2>/dev/null || { cat "$logf" >&2; log "http: ledgerfs serve exited"; exit 1; }
    sleep 0.1
  done
  [[ -n $port ]] || { cat "$logf" >&2; log "http: ledgerfs serve did not listen within 60 s"; exit 1; }
  serve_url=http://127.0.0.1:$port
}
# stop_server PID [SIGNAL]: stops a server started here and waits for it; it must exit 0.
stop_server() {
  local pid=$1 rc=0 i
  kill "-${2:-TERM}" "$pid"
  wait "$pid" || rc=$?
  for i in "${!server_pids[@]}"; do
    if [[ ${server_pids[$i]} == "$pid" ]]; then unset "server_pids[$i]"; fi
  done
  [[ $rc == 0 ]] || { log "http: server $pid exited $rc"; exit 1; }
}
# wrk_run NAME CONNS SCRIPT URL ARGS...: one wrk run, kept in $dir/NAME.out; sets $wrk_rate (2xx
# answers per second), $wrk_ok (their number) and $wrk_bad (non-2xx answers + socket errors and
# timeouts), and remembers any of the latter in $http_problems for the notes.
http_problems=()
wrk_run() {
  local name=$1 conns=$2 script=$3 url=$4 req non2xx errs secs
  shift 4
  run "$name" wrk -t "$http_wrk_threads" -c "$conns" -d "${http_seconds}s" -s "$script" "$url" -- "$@"
  req=$(sed -n 's/^WRK .*\brequests=\([0-9]*\).*/\1/p' "$dir/$name.out")
  non2xx=$(sed -n 's/^WRK .*\bnon2xx=\([0-9]*\).*/\1/p' "$dir/$name.out")
  errs=$(sed -n 's/^WRK .*\berrors=\([0-9]*\).*/\1/p' "$dir/$name.out")
  secs=$(sed -n 's/^WRK .*\bduration_s=\([0-9.]*\).*/\1/p' "$dir/$name.out")
  [[ -n $req ]] || { log "http: $name: no WRK line from $script"; exit 1; }
  wrk_ok=$((req - non2xx))
  wrk_rate=$(calc "$wrk_ok / $secs")
  wrk_bad=$((non2xx + errs))
  if ((wrk_bad > 0)); then
    http_problems+=("$name: $non2xx non-2xx answers (first: $(sed -n 's/^WRK .*\bfirst_non2xx=\([^ ]*\).*/\1/p' "$dir/$name.out")) and $errs socket errors/timeouts in $req requests")
  fi
}

if has_http; then
  ensure_pkg wrk wrk
  if [[ $(stat -f -c %T "$dir") == tmpfs ]]; then
    log "http: $dir is on tmpfs; set BENCH_DIR to a folder on the disk under test"
    exit 1
  fi
fi

# --- http-get: GET of every full tile, ours vs nginx serving the same store folder ---------------
# One store of HTTP_TILE_ENTRIES entries (grown like the growth section's, through the core API)
# is served by `ledgerfs serve` and, as static files, by nginx (sendfile, keep-alive, one worker
# per core unless HTTP_NGINX_WORKERS says otherwise, access_log off). wrk cycles over the same
# list of full tiles (tile/entries/NNN, tile/0/NNN, tile/1/NNN) against both, alternating; each
# side is warmed by a short run first. Medians of REPEAT runs are compared, per connection count.
if has_section http-get; then
  ensure_pkg nginx nginx-light
  nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
  hg=$dir/hget
  log "http-get: making a store of $http_tile_entries entries ($grow_callers callers)"
  run hget-grow "$build/append_bench" --dir "$hg" --entries-only --callers "$grow_callers" \
    --records "$http_tile_entries"
  chmod 600 "$hg/signer.key"
  (cd "$hg/store" && find tile -type f ! -path '*.p/*' | sort | sed 's|^|/|') >"$dir/hget.paths"
  ntiles=$(wc -l <"$dir/hget.paths")
  tile_bytes=$(cd "$hg/store" && sed 's|^/||' "$dir/hget.paths" | xargs -d '\n' cat | wc -c)
  log "http-get: $ntiles full tiles and bundles, $tile_bytes bytes"
  ((ntiles > 0)) || { log "http-get: no full tiles in $hg/store"; exit 1; }

  ng=$dir/nginx
  mkdir -p "$ng/tmp"
  ng_port=$(free_port)
  temps="client_body_temp_path $ng/tmp/body;"
  for m in proxy fastcgi uwsgi scgi; do
    "$nginx_bin" -V 2>&1 | grep -q -- "--without-http_${m}_module" ||
      temps+=" ${m}_temp_path $ng/tmp/$m;"
  done
  cat >"$ng/nginx.conf" <<NGINX
# bench/run.sh http-get: the static-file baseline, serving the ledger store folder read-only.
daemon off;
worker_processes $http_nginx_workers;
pid $ng/nginx.pid;
error_log $ng/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 5s;
  keepalive_requests 1000;
  default_type application/octet-stream;
  $temps
  server {
    listen 127.0.0.1:$ng_port;
    root $hg/store;
    location / { }
  }
}
NGINX
  nginx_workers=$([[ $http_nginx_workers == auto ]] && nproc || echo "$http_nginx_workers")
  log "http-get: nginx ($("$nginx_bin" -v 2>&1 | sed 's/.*version: //'), $nginx_workers workers) on 127.0.0.1:$ng_port"
  "$nginx_bin" -p "$ng" -c "$ng/nginx.conf" -e "$ng/error.log" &
  ng_pid=$!
  server_pids+=("$ng_pid")
  log "http-get: ledgerfs serve $hg/store --threads $http_serve_threads"
  start_serve "$hg/store" "$dir/hget.serve.log" --key "$hg/signer.key"
  for _ in $(seq 100); do curl -so /dev/null "http://127.0.0.1:$ng_port/" && break; sleep 0.1; done
  # Both must serve the same bytes.
  first=$(head -1 "$dir/hget.paths")
  a=$(curl -sf -H "X-Module-ID: $http_tenant" "$serve_url$first" | sha256sum)
  b=$(curl -sf "http://127.0.0.1:$ng_port$first" | sha256sum)
  [[ $a == "$b" ]] || { log "http-get: $first differs between ledgerfs serve and nginx"; exit 1; }

  for conns in $http_get_conns; do
    for side in nginx ours; do
      url=$([[ $side == nginx ]] && echo "http://127.0.0.1:$ng_port" || echo "$serve_url")
      log "http-get: warming $side, -c$conns, 2 s"
      wrk -t "$http_wrk_threads" -c "$conns" -d 2s -s "$src/bench/wrk/get_tiles.lua" "$url" -- \
        "$dir/hget.paths" "$http_tenant" >/dev/null
    done
    base=() ours=() cpus=()
    for r in $(seq "$repeat"); do
      log "http-get: -t$http_wrk_threads -c$conns -d${http_seconds}s, run $r/$repeat: nginx"
      wrk_run "hget-nginx-c$conns-$r" "$conns" "$src/bench/wrk/get_tiles.lua" \
        "http://127.0.0.1:$ng_port" "$dir/hget.paths" "$http_tenant"
      base+=("$wrk_rate")
      log "http-get: run $r/$repeat: ledgerfs serve"
      c0=$(cpu_s "$serve_pid")
      wrk_run "hget-ours-c$conns-$r" "$conns" "$src/bench/wrk/get_tiles.lua" "$serve_url" \
        "$dir/hget.paths" "$http_tenant"
      c1=$(cpu_s "$serve_pid")
      ours+=("$wrk_rate")
      cpus+=("$(calc "1e6 * ($c1 - $c0) / $wrk_ok" 0)")
    done
    b=$(echo "${base[*]}" | median)
    o=$(echo "${ours[*]}" | median)
    row "HTTP: \`GET\` of $ntiles full tiles and bundles (cycled; $(calc "$tile_bytes / $ntiles / 1024") KiB average), wrk -t$http_wrk_threads -c$conns, ${http_seconds} s per run" \
      "nginx $("$nginx_bin" -v 2>&1 | sed 's/.*nginx\///'), sendfile, $nginx_workers workers: $(calc "$b" 0) requests/s (runs: ${base[*]})" \
      "$(calc "$o" 0) requests/s, --threads $http_serve_threads (runs: ${ours[*]})" \
      "$(pct "$o" "$b") %" "≥ 50 %" "$(verdict "100 * $o / $b" 50)"
    notes+=("http-get -c$conns: \`ledgerfs serve\` CPU per request (µs, per run): ${cpus[*]}")
  done
  stop_server "$serve_pid"
  stop_server "$ng_pid" QUIT
  [[ ! -s $ng/error.log ]] || { log "http-get: nginx error log:"; sed 's/^/    /' "$ng/error.log" >&2; }
fi

# --- http-post: POST of new 4 KiB records, each durable at its 201, vs the native fsync loop -------
# HTTP_POST_CLIENTS keep-alive connections (wrk -c) each POST a new record to a new path,
# /records/rN/<thread>-<counter>, with content no other record has; the baseline is append_bench's
# native loop with as many writers (open / write / fsync / close per file), on the same disk,
# alternating with ours. One store serves every run, after one untimed warm-up run; before each run
# it is left to publish and the disk is synced.
if has_section http-post; then
  hp=$dir/hpost
  "$build/ledgerfs" init "$hp/store" --origin "bench.example/hpost" --key "$hp/signer.key" \
    >/dev/null 2>"$dir/hpost.init.log" || { cat "$dir/hpost.init.log" >&2; exit 1; }
  log "http-post: ledgerfs serve $hp/store --threads $http_serve_threads"
  start_serve "$hp/store" "$dir/hpost.serve.log" --key "$hp/signer.key"
  # The first records of a fresh store are slow on this VM's journal-less ext4: inode allocation
  # in its new folders' block group skips every inode freed in the last 10-15 s (ext4's
  # recently_deleted(), ~50 % of the daemon's CPU in perf), so one untimed run warms it. For the
  # same reason the native runs' files are deleted only at the end of the section.
  log "http-post: warming the store: wrk -c$http_post_clients -d${http_seconds}s, POST /records/r0/… (untimed)"
  wrk_run hpost-warm "$http_post_clients" "$src/bench/wrk/post_records.lua" "$serve_url" \
    "$http_tenant" r0 "$record_size"
  total=$wrk_ok
  native=() ours=() cpus=() nflush=() oflush=()
  for r in $(seq "$repeat"); do
    log "http-post: $par_records x $record_size B, $http_post_clients writers, run $r/$repeat: native"
    settle "$hp/store"
    read -r w0 f0 < <(disk_io)
    run "hpost-native-$r" "$build/append_bench" --dir "$dir/hn-$r" --mode native \
      --callers "$http_post_clients" --records "$par_records" --size "$record_size"
    read -r w1 f1 < <(disk_io)
    native+=("$(field "$dir/hpost-native-$r.out" rate)")
    nflush+=("$(calc "($f1 - $f0) / $par_records" 2)")
    log "http-post: run $r/$repeat: wrk -t$http_wrk_threads -c$http_post_clients -d${http_seconds}s, POST /records/r$r/…"
    settle "$hp/store"
    read -r w0 f0 < <(disk_io)
    c0=$(cpu_s "$serve_pid")
    wrk_run "hpost-ours-$r" "$http_post_clients" "$src/bench/wrk/post_records.lua" "$serve_url" \
      "$http_tenant" "r$r" "$record_size"
    c1=$(cpu_s "$serve_pid")
    read -r w1 f1 < <(disk_io)
    ours+=("$wrk_rate")
    total=$((total + wrk_ok))
    cpus+=("$(calc "1e6 * ($c1 - $c0) / $wrk_ok" 0)")
    oflush+=("$(calc "($f1 - $f0) / $wrk_ok" 2)")
  done
  stop_server "$serve_pid"
  rm -rf "$dir"/hn-*
  # Every 201 must be in the final checkpoint (besides the folders rN, the records wrk cut off).
  published=$(published_size "$hp/store")
  ((published >= total)) || { log "http-post: the checkpoint covers $published entries, < $total answered 201"; exit 1; }
  n=$(echo "${native[*]}" | median)
  o=$(echo "${ours[*]}" | median)
  row "HTTP: \`POST /records/…\` of new $record_size B records, $http_post_clients keep-alive clients (wrk -c$http_post_clients, ${http_seconds} s per run), each durable at its 201" \
    "native loop, $http_post_clients writers: $(calc "$n" 0) files/s (runs: ${native[*]})" \
    "$(calc "$o" 0) records/s (runs: ${ours[*]})" \
    "$(pct "$o" "$n") %" "none in PRODUCT §7 (the 8-writer \`cp\` row's is ≥ 60 %)" \
    "$(verdict "100 * $o / $n" 60) (vs 60 %)"
  notes+=("http-post: \`ledgerfs serve\` CPU per record (µs, per run): ${cpus[*]}; disk cache flushes per record, ours: ${oflush[*]}, native: ${nflush[*]} (whole disk, other processes included); final checkpoint: $published entries for $total records counted")
fi
if ((${#http_problems[@]})); then
  notes+=("**HTTP answers that were not 2xx, or socket errors:** $(printf '%s; ' "${http_problems[@]}" | sed 's/; $//')")
fi

load_end=$(cut -d' ' -f1-3 /proc/loadavg)

echo "## service-fs benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), sections:$sections)"
echo
echo "machine: $(nproc) cores ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)), kernel $(uname -r)"
echo "disk: $(df -hT "$dir" | awk 'NR == 2 { print $1 " " $2 ", " $3 " total, " $5 " free" }'), scratch $dir"
echo "load average at start: $load_start; at end: $load_end"
if ((${#rows[@]})); then
  echo
  echo "| workload | baseline | measured | ratio | target | result |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
fi
if ((${#notes[@]})); then
  echo
  printf -- '- %s\n' "${notes[@]}"
fi
if ((${#trace[@]})); then
  echo
  printf '%s\n' "${trace[@]}"
fi
