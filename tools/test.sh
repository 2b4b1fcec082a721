#!/usr/bin/env bash
# The test command (README; .ci/run calls it): installs what it needs, then
#   1. TSan: the unit tests where threads meet, and both daemons (mount, HTTP) under concurrent
#      writers;
#   2. the libFuzzer targets, briefly (tools/fuzz.sh; its saved crash inputs always replay);
#   3. ASan+UBSan: every unit test and every test that drives a daemon;
#   4. the release build: every test.
# Stage 3 skips the few shell tests that only run the read-only CLI over files (their code runs
# under ASan in the unit tests) so the whole run stays well under 30 minutes on 2 cores.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/tools/install-deps.sh"
jobs=$(nproc)
build=${BUILD_ROOT:-$src/build}
started=$SECONDS
stage() { echo "== [$((SECONDS - started)) s] $*"; }

stage "TSan build: the tests where threads meet (log, storage, crash, fs, live verify, http)"
"$src/tools/build.sh" "$build/tsan" -DCMAKE_BUILD_TYPE=Debug -DSANITIZE=thread
# tests/support/tsan.supp: why the uninstrumented cpp-httplib library needs one suppression.
export TSAN_OPTIONS="halt_on_error=1 suppressions=$src/tests/support/tsan.supp"
"$build/tsan/unit_tests" \
  "[log],[storage],[crash],[fs],[live],[http],[record_index]"
stage "TSan: the mount daemon under 8 concurrent writers, the HTTP daemon under 8 clients"
(cd "$src" && export LEDGERFS="$build/tsan/ledgerfs" \
  SOURCE_DIR="$src" SHARED_DIR="$src/../shared" &&
  FILES_PER_WRITER=150 bash tests/cli/mount_concurrency.sh &&
  POSTS_PER_CLIENT=150 bash tests/cli/http_concurrency.sh)

stage "libFuzzer: every parser target, briefly (FUZZ_SECONDS=${FUZZ_SECONDS:-5})"
FUZZ_SECONDS=${FUZZ_SECONDS:-5} BUILD_ROOT="$build" "$src/tools/fuzz.sh"

stage "ASan+UBSan build: every unit test and every daemon test"
"$src/tools/build.sh" "$build/asan" -DCMAKE_BUILD_TYPE=Debug -DSANITIZE=address,undefined
(cd "$build/asan" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  POSTS_PER_CLIENT=300 ROUNDS=4 \
  ctest --output-on-failure -j "$jobs" \
  -E '^cli\.(golden_verify|interop_go|ledger_check|tamper_every_byte|http_interop)$')

stage "release build: every test"
"$src/tools/build.sh" "$build/release" -DCMAKE_BUILD_TYPE=RelWithDebInfo
(cd "$build/release" && ctest --output-on-failure -j "$jobs")
stage "all tests passed"
