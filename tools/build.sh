#!/usr/bin/env bash
# build.sh DIR [cmake args…]: configures and builds the tree into DIR with Ninja.
set -euo pipefail
dir=$1; shift
src=$(cd "$(dirname "$0")/.." && pwd)
cmake -S "$src" -B "$dir" -G Ninja "$@" >/dev/null
ninja -C "$dir"
