#!/usr/bin/env bash
# The README's second command: installs dependencies, builds everything, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# Formatting (clang-format --dry-run --Werror over every tracked C++ source).
scripts/format-check.sh
# The collector's storage suite also runs against a real PostgreSQL server (a throwaway cluster).
eval "$(scripts/postgres-test-server.sh start)"
export T0W_REQUIRE_POSTGRES=1
trap 'scripts/postgres-test-server.sh stop' EXIT
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
