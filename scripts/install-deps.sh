#!/usr/bin/env bash
# Installs every Debian 12 package the Linux build, tests and benchmarks need. Idempotent.
set -euo pipefail
PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config clang clang-format
  libpugixml-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libyaml-cpp-dev libre2-dev
  libcli11-dev libsqlite3-dev libpq-dev libboost-all-dev libssl-dev zlib1g-dev libzstd-dev
  libevtx-dev libbfio-dev libevtx-utils libxml2-utils
  libgtest-dev libgmock-dev libbenchmark-dev
  postgresql chromium nodejs
  python3 python3-jsonschema python3-yaml
  faketime
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
# npm: bundled with NodeSource's nodejs, a package of its own in Debian's (the collector's
# browser test runs `npm ci`).
if ! command -v npm >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends npm
fi
