#!/usr/bin/env bash
# The test command (README; .ci/run calls it): installs what it needs, then builds and runs every
# test under ASan+UBSan and again in a normal build, and the threaded tests under TSan.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/tools/install-deps.sh"
jobs=$(nproc)
build=${BUILD_ROOT:-$src/build}

# TSan first and the release run last, so that the run ends with ctest's summary.
echo "== TSan build: the tests where threads meet (log, storage, crash, fs, live verify)"
"$src/tools/build.sh" "$build/tsan" -DCMAKE_BUILD_TYPE=Debug -DSANITIZE=thread
TSAN_OPTIONS=halt_on_error=1 "$build/tsan/unit_tests" "[log],[storage],[crash],[fs],[live]"
echo "== TSan: the mount daemon under 8 concurrent writers"
(cd "$src" && TSAN_OPTIONS=halt_on_error=1 FILES_PER_WRITER=150 LEDGERFS="$build/tsan/ledgerfs" \
  SOURCE_DIR="$src" SHARED_DIR="$src/../shared" bash tests/cli/mount_concurrency.sh)

echo "== ASan+UBSan build: every test"
"$src/tools/build.sh" "$build/asan" -DCMAKE_BUILD_TYPE=Debug -DSANITIZE=address,undefined
(cd "$build/asan" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j "$jobs")

echo "== release build: every test"
"$src/tools/build.sh" "$build/release" -DCMAKE_BUILD_TYPE=RelWithDebInfo
(cd "$build/release" && ctest --output-on-failure -j "$jobs")
