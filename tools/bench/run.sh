#!/usr/bin/env bash
# The performance harness (issue 14, first part): installs what it needs, builds with the
# benchmarks, starts a throwaway PostgreSQL, and prints one table for one generated sample:
# each agent stage alone and the whole path into the real collector on SQLite and PostgreSQL,
# then the agent's footprint at rest and at a DC's pace, the event-to-stored latency at 2,000
# entries/s and the syslog-ng peer on the trace-file path (about 6 minutes on 2 cores in all
# once built: 5 min 59 s on 2026-12-07).
#   tools/bench/run.sh [EVENTS]        (default 200000; BUILD_DIR=build)
# Environment: T0W_FOOTPRINT_SECONDS (60), T0W_LATENCY_SECONDS (30), T0W_PEER_LINES (500000).
# Results and the machine go into docs/performance.md by hand, with the date.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
scripts/install-deps.sh
# The syslog-ng peer's packages, here and not in install-deps.sh (CI does not need them).
# syslog-ng-core conflicts with the other system loggers (rsyslog): installed only when apt would
# remove nothing. The script runs syslog-ng as its own foreground process, not the service (on a
# host with systemd, apt enables and starts the package's service all the same).
have_syslog_ng() {
  for p in syslog-ng-core syslog-ng-mod-http; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || return 1
  done
}
if ! have_syslog_ng; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update
  plan=$($SUDO apt-get install -s -y --no-install-recommends syslog-ng-core syslog-ng-mod-http)
  if grep -q '^Remv' <<<"$plan"; then
    echo "run.sh: not installing syslog-ng: apt would remove packages (a system logger);" \
      "the syslog-ng peer is skipped" >&2
  else
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
      syslog-ng-core syslog-ng-mod-http
  fi
fi
BUILD_DIR=$BUILD_DIR scripts/build.sh -DT0W_BUILD_BENCH=ON
eval "$(scripts/postgres-test-server.sh start)"
trap 'scripts/postgres-test-server.sh stop' EXIT
# The CPU model too: figures move with the machine (docs/performance.md, fourth run).
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)," \
  "$(. /etc/os-release && echo "$PRETTY_NAME"), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%F)," \
  "CPU $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
python3 tools/bench/stage_bench.py "$BUILD_DIR" "${1:-200000}"
# At rest and at 100 / 2,000 / 20,000 entries/s for a minute each (T0W_FOOTPRINT_SECONDS).
python3 tools/bench/footprint.py "$BUILD_DIR" "${T0W_FOOTPRINT_SECONDS:-60}"
# Event-to-stored latency p50/p99 at 2,000 entries/s, agent defaults (T0W_LATENCY_SECONDS).
python3 tools/bench/latency.py "$BUILD_DIR" "${T0W_LATENCY_SECONDS:-30}"
# syslog-ng (wildcard-file -> http(), reliable disk buffer) against the agent, same lines.
if have_syslog_ng; then
  python3 tools/bench/syslog_ng_peer.py "$BUILD_DIR" "${T0W_PEER_LINES:-500000}"
fi
