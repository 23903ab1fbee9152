#!/usr/bin/env bash
# The performance harness (issue 14, first part): installs what it needs, builds with the
# benchmarks, starts a throwaway PostgreSQL, and prints one table for one generated sample:
# each agent stage alone and the whole path into the real collector on SQLite and PostgreSQL,
# then the agent's footprint at rest and at a DC's pace (about 8 minutes on 2 cores in all).
#   tools/bench/run.sh [EVENTS]        (default 200000; BUILD_DIR=build)
# Results and the machine go into docs/performance.md by hand, with the date.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
scripts/install-deps.sh
BUILD_DIR=$BUILD_DIR scripts/build.sh -DT0W_BUILD_BENCH=ON
eval "$(scripts/postgres-test-server.sh start)"
trap 'scripts/postgres-test-server.sh stop' EXIT
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)," \
  "$(. /etc/os-release && echo "$PRETTY_NAME"), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%F)"
python3 tools/bench/stage_bench.py "$BUILD_DIR" "${1:-200000}"
# At rest and at 100 / 2,000 / 20,000 entries/s for a minute each (T0W_FOOTPRINT_SECONDS).
python3 tools/bench/footprint.py "$BUILD_DIR" "${T0W_FOOTPRINT_SECONDS:-60}"
