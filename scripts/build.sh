#!/usr/bin/env bash
# Configures and builds the Linux tree into build/ (ccache when available).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
  -DT0W_WERROR=${T0W_WERROR:-OFF} "$@"
cmake --build "$BUILD_DIR" -j "$(nproc)"
