#!/usr/bin/env bash
# Installs the Debian 12 packages service-fs builds and tests with (docs/dependencies.md says why
# each is there). Safe to run again; does nothing when everything is present.
set -euo pipefail
packages=(build-essential cmake ninja-build pkg-config clang clang-format
  libfuse3-dev fuse3 libssl-dev openssl libspdlog-dev catch2 libcli11-dev nlohmann-json3-dev
  golang-go golang-golang-x-mod-dev python3 rsync libcpp-httplib-dev curl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
