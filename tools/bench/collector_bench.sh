#!/usr/bin/env bash
# Ingest benchmark of tier0watch-collector: t0w-loadgen's concurrent agents against the
# collector on SQLite, then on PostgreSQL (scripts/postgres-test-server.sh), all on 127.0.0.1.
# Usage: tools/bench/collector_bench.sh [BUILD_DIR] [AGENTS] [BATCHES] [BATCH_SIZE]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR="${1:-build}"; AGENTS="${2:-4}"; BATCHES="${3:-30}"; BATCH_SIZE="${4:-500}"
COLLECTOR="$BUILD_DIR/tools/collector/tier0watch-collector"
LOADGEN="$BUILD_DIR/tools/collector/t0w-loadgen"
WORK="$(mktemp -d /tmp/t0w-collector-bench-XXXXXX)"
chmod 755 "$WORK"  # the PostgreSQL cluster below runs as the postgres user
PID=""
PG_STARTED=""
cleanup() {
  [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  [ -n "$PG_STARTED" ] && T0W_PG_DIR="$WORK/pg" scripts/postgres-test-server.sh stop || true
  rm -rf "$WORK"
}
trap cleanup EXIT

run() { # driver, extra storage yaml
  local driver="$1" storage="$2" dir="$WORK/$1"
  mkdir -p "$dir"
  cat > "$dir/collector.yaml" <<YAML
listen: {port: 0}
state_dir: $dir
threads: 4
log: {level: warn}
storage: {driver: $driver$storage}
limits: {agent_requests_per_second: 100000, agent_burst: 100000}
YAML
  : > "$dir/tokens"
  for i in $(seq 1 "$AGENTS"); do
    "$COLLECTOR" agents enroll "load$i" --config "$dir/collector.yaml" >> "$dir/tokens" 2>/dev/null
  done
  "$COLLECTOR" serve --config "$dir/collector.yaml" > "$dir/out" 2> "$dir/err" &
  PID=$!
  for _ in $(seq 1 100); do grep -q listening "$dir/out" 2>/dev/null && break; sleep 0.1; done
  local port
  port="$(sed -n 's/.*"listening":\([0-9]*\).*/\1/p' "$dir/out")"
  echo "== $driver: $AGENTS agents x $BATCHES batches x $BATCH_SIZE events"
  "$LOADGEN" --url "https://127.0.0.1:$port" --ca "$dir/tls/collector.pem" --tokens "$dir/tokens" \
    --batches "$BATCHES" --batch-size "$BATCH_SIZE"
  kill -TERM "$PID"; wait "$PID" || true; PID=""
}

run sqlite ""
eval "$(T0W_PG_DIR="$WORK/pg" T0W_PG_PORT=54339 scripts/postgres-test-server.sh start)"
PG_STARTED=1
run postgres ", postgres_url: '$T0W_PG_URL'"
