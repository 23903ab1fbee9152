#!/usr/bin/env bash
# CTest entry for the dashboard browser test: starts tier0watch-collector (port 0, fresh state
# dir), enrols an agent, sends events and an alert with t0w-collector-send, runs
# dashboard.test.js (playwright-core + Debian's chromium), stops the collector.
# Usage: run_dashboard_test.sh COLLECTOR SENDER SCREENSHOT_DIR
set -euo pipefail
COLLECTOR="$1"; SENDER="$2"; SHOTS="$3"
HERE="$(cd "$(dirname "$0")" && pwd)"
if [ ! -x /usr/bin/chromium ] || ! command -v npm >/dev/null; then
  echo "SKIP: needs /usr/bin/chromium and npm (scripts/install-deps.sh installs them)"
  exit 77
fi
WORK="$(mktemp -d /tmp/t0w-browser-XXXXXX)"
PID=""
cleanup() {
  [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

cat > "$WORK/collector.yaml" <<YAML
listen: {address: 127.0.0.1, port: 0}
state_dir: $WORK/state
log: {level: warn}
health: {evaluate_interval_seconds: 1}
YAML
TOKEN="$("$COLLECTOR" agents enroll dc01 --config "$WORK/collector.yaml")"
"$COLLECTOR" agents enroll dc02-silent --config "$WORK/collector.yaml" >/dev/null
PASSWORD="browser-test-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "$PASSWORD" | "$COLLECTOR" users add admin --password-stdin --config "$WORK/collector.yaml"

"$COLLECTOR" serve --config "$WORK/collector.yaml" > "$WORK/serve.out" 2> "$WORK/serve.err" &
PID=$!
for _ in $(seq 1 200); do
  grep -q listening "$WORK/serve.out" 2>/dev/null && break
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/serve.err"; exit 1; }
  sleep 0.05
done
PORT="$(sed -n 's/.*"listening":\([0-9]*\).*/\1/p' "$WORK/serve.out")"
[ -n "$PORT" ] || { echo "collector did not start"; cat "$WORK/serve.err"; exit 1; }

# Three events and an alert on the second one.
ev() { # record_id event_id subject
  printf '{"System":{"Provider":{"Name":"Microsoft-Windows-Security-Auditing"},"EventID":%s,"Channel":"Security","Computer":"DC01.corp.example","EventRecordID":%s,"TimeCreated":"2024-05-01T10:00:0%s.0000000Z"},"EventData":{"SubjectUserName":"%s","ObjectName":"DC=corp,DC=example"}}' "$2" "$1" "${1: -1}" "$3"
}
{ ev 101 4624 alice; echo; ev 102 4662 mallory; echo; ev 103 4624 bob; echo; } > "$WORK/events.jsonl"
printf '{"type":"alert","rule_id":"dcsync","rule_title":"DCSync by a non-DC account","level":"high","tags":["attack.credential_access","attack.t1003.006"],"time":"2024-05-01T10:00:02.0000000Z","event_key":"Security:102","matched":[{"field":"SubjectUserName","value":"mallory"}],"event":%s}\n' "$(ev 102 4662 mallory)" > "$WORK/alerts.jsonl"
# A heartbeat as the agent sends it: one source read live, one absent, drops since the start.
cat > "$WORK/heartbeat.json" <<'JSON'
{"version":"0.1.0","time":"2024-05-01T10:00:05.0000000Z","uptime_seconds":300,
 "config":{"digest":"fnv1a64:0123456789abcdef","origin":"file"},
 "sources":[{"name":"Security","kind":"eventlog","state":"subscribed","detail":"","last_position":"record:103",
             "events":3,"rate_per_second":12.5,"lag_seconds":3.25,"time_to_wrap_seconds":172800,"gaps":0},
            {"name":"Directory Service","kind":"eventlog","state":"absent","detail":"channel not found",
             "last_position":"","events":0,"rate_per_second":0,"lag_seconds":null,"time_to_wrap_seconds":null,"gaps":null}],
 "queue_depth":0,"queue":{"events":0,"bytes":0,"max_bytes":1073741824,"oldest_age_seconds":null},
 "drops":{"events":5,"by_source":{"Security":5}},"gaps":0,"dead_letters":{"chunks":0},
 "rules":{"loaded":40,"rejected":0},"process":{"cpu_percent":0.8,"memory_bytes":52428800,"peak_memory_bytes":62914560},
 "load":{"throttled":false},"clock_offset_ms":12}
JSON
"$SENDER" --url "https://127.0.0.1:$PORT" --token "$TOKEN" --ca "$WORK/state/tls/collector.pem" \
  --agent-id dc01-agent --hostname DC01.corp.example --events "$WORK/events.jsonl" \
  --alerts "$WORK/alerts.jsonl" --status --status-json "$WORK/heartbeat.json"

cd "$HERE"
npm ci --no-audit --no-fund --loglevel=error
T0W_URL="https://127.0.0.1:$PORT" T0W_USER=admin T0W_PASSWORD="$PASSWORD" \
  T0W_SCREENSHOT_DIR="$SHOTS" node dashboard.test.js
