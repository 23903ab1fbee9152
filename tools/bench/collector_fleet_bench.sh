#!/usr/bin/env bash
# Ingest of one and of two tier0watch-collector instances on ONE PostgreSQL database
# (docs/scaling.md): t0w-loadgen's concurrent agents, pre-encoded batches of ~1 KiB 4624 events
# over HTTPS with keep-alive, all on 127.0.0.1. With two instances, two t0w-loadgen processes
# run at once, each with half the agents against one instance; events/s is all events over the
# two runs' rates (they overlap). A throwaway PostgreSQL cluster of its own (scripts/postgres-test-server.sh,
# fsync off, port 54339), a fresh database per run.
# Usage: tools/bench/collector_fleet_bench.sh [BUILD_DIR] [AGENTS] [BATCHES] [BATCH_SIZE] [COLLECTOR]
#   COLLECTOR: another tier0watch-collector binary for the one-instance run (a baseline build).
# Prints one line per run: FLEET-BENCH {"instances", "agents", "events_stored", "seconds",
# "events_per_second", "batches_per_second", ...}.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR="${1:-build}"; AGENTS="${2:-8}"; BATCHES="${3:-30}"; BATCH_SIZE="${4:-500}"
COLLECTOR="$BUILD_DIR/tools/collector/tier0watch-collector"
BASELINE="${5:-}"
LOADGEN="$BUILD_DIR/tools/collector/t0w-loadgen"
WORK="$(mktemp -d /tmp/t0w-fleet-bench-XXXXXX)"
chmod 755 "$WORK"  # the PostgreSQL cluster below runs as the postgres user
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  T0W_PG_DIR="$WORK/pg" scripts/postgres-test-server.sh stop || true
  [ -n "${KEEP:-}" ] && echo "kept: $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT
eval "$(T0W_PG_DIR="$WORK/pg" T0W_PG_PORT=54339 scripts/postgres-test-server.sh start)"
ADMIN_URL="$T0W_PG_URL"
RUN=0

config() { # dir, url -> collector.yaml (port 0, shared certificate after the first)
  local dir="$1" url="$2" tls="$3"
  mkdir -p "$dir"
  cat > "$dir/collector.yaml" <<YAML
listen: {port: 0}
state_dir: $dir
threads: 4
log: {level: warn}
$tls
storage: {driver: postgres, postgres_url: '$url'}
limits: {agent_requests_per_second: 100000, agent_burst: 100000, max_connections_per_ip: 1024}
YAML
}

start() { # binary, dir -> PORT (not in a $(...) subshell: PIDS must keep the process id)
  local bin="$1" dir="$2"
  "$bin" serve --config "$dir/collector.yaml" > "$dir/out" 2> "$dir/err" &
  PIDS+=($!)
  for _ in $(seq 1 200); do grep -q listening "$dir/out" 2>/dev/null && break; sleep 0.1; done
  PORT="$(sed -n 's/.*"listening":\([0-9]*\).*/\1/p' "$dir/out")"
}

cpu() { # CPU seconds (user + system) of the collectors and of the PostgreSQL server processes
  local pm
  pm=$(head -1 "$WORK/pg/data/postmaster.pid")
  python3 - "$pm" "${PIDS[@]}" <<'PY'
import os, sys
tick = os.sysconf("SC_CLK_TCK")
def secs(pid):
    try:
        f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / tick
    except OSError:
        return 0.0
pm, collectors = sys.argv[1], sys.argv[2:]
pg = [pm] + [p for p in os.listdir("/proc") if p.isdigit() and
             open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()[1] == pm]
print("%.2f %.2f" % (sum(secs(p) for p in collectors), sum(secs(p) for p in pg)))
PY
}

run() { # instances, collector binary
  local n="$1" bin="$2"
  RUN=$((RUN + 1))
  local db="t0w_bench_$RUN" dir="$WORK/run$RUN"
  psql "$ADMIN_URL" -qc "CREATE DATABASE $db" >/dev/null
  local url="$ADMIN_URL dbname=$db"
  mkdir -p "$dir"
  config "$dir/i1" "$url" ""
  : > "$dir/tokens"
  for i in $(seq 1 "$AGENTS"); do
    "$bin" agents enroll "load$i" --config "$dir/i1/collector.yaml" >> "$dir/tokens" 2>/dev/null
  done
  local ports=()
  start "$bin" "$dir/i1"
  ports+=("$PORT")
  local ca="$dir/i1/tls/collector.pem"
  if [ "$n" -eq 2 ]; then
    config "$dir/i2" "$url" "tls: {cert_file: $ca, key_file: $dir/i1/tls/collector.key}"
    start "$bin" "$dir/i2"
    ports+=("$PORT")
  fi
  # Agents split between the instances (round robin over the token file).
  local lg=() before after
  before=$(cpu)
  for k in $(seq 0 $((n - 1))); do
    awk -v n="$n" -v k="$k" 'NR % n == k' "$dir/tokens" > "$dir/tokens$k"
    "$LOADGEN" --url "https://127.0.0.1:${ports[$k]}" --ca "$ca" --tokens "$dir/tokens$k" \
      --batches "$BATCHES" --batch-size "$BATCH_SIZE" --agent-offset $((k * AGENTS)) \
      > "$dir/lg$k.json" &
    lg+=($!)
  done
  for p in "${lg[@]}"; do wait "$p"; done
  after=$(cpu)
  local stored
  stored=$(psql "$url" -Atc "SELECT count(*) FROM events")
  python3 - "$n" "$AGENTS" "$stored" "$dir" "$bin" "$before" "$after" <<'PY'
import glob, json, sys
n, agents, stored, d, binary, before, after = sys.argv[1:]
b, a = [float(x) for x in before.split()], [float(x) for x in after.split()]
runs = [json.load(open(f)) for f in sorted(glob.glob(d + "/lg*.json"))]
# Each t0w-loadgen times its own sending (batches are encoded before its clock starts); the
# runs overlap, so the instances' rate is the sum of theirs.
print("FLEET-BENCH " + json.dumps({
    "instances": int(n), "agents": int(agents), "events_stored": int(stored),
    "seconds": [round(r["seconds"], 2) for r in runs],
    "events_per_second": round(sum(r["events_per_second"] for r in runs)),
    "batches_per_second": round(sum(r["batches_per_second"] for r in runs), 1),
    "batches_failed": sum(r["batches_failed"] for r in runs),
    "batches_throttled": sum(r["batches_throttled"] for r in runs),
    # CPU seconds while the load ran: all collector processes, all PostgreSQL processes.
    "cpu_s_collectors": round(a[0] - b[0], 2), "cpu_s_postgres": round(a[1] - b[1], 2),
    "collector": binary}))
PY
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  PIDS=()
}

if [ -n "$BASELINE" ]; then run 1 "$BASELINE"; fi
run 1 "$COLLECTOR"
run 2 "$COLLECTOR"
