#!/usr/bin/env bash
# The README's first command: installs the Debian packages, builds, generates a sample of a
# domain controller's events (password spray, DCSync, delegation change, RC4 tickets, DSRM
# password set, Password Protection rejections, PTA agent failures, log cleared) and scans it.
# Then it starts the central collector (self-signed certificate, agent enrolment, admin login)
# and the real agent, `tier0watch run`, replaying the sample with the built-in detection pack
# (packs/tier0, docs/detections.md) and shipping events and alerts over HTTPS (trusting the collector's certificate, nothing
# insecure). Once the collector's API shows every event and alert, it prints the dashboard URL
# and the login and keeps the collector in the foreground until Ctrl+C.
#
# Environment:
#   BUILD_DIR=build           build tree (scripts/build.sh)
#   DEMO_DIR=BUILD_DIR/demo   sample, outputs, agent and collector state
#   T0W_DEMO_PORT=8443        collector port on 127.0.0.1 (0: any free port)
#   DEMO_EXIT=1               stop the collector and exit once the counts are checked (tests)
#   DEMO_SKIP_BUILD=1         use the existing build: no package install, no build (tests)
#   DEMO_TIMEOUT=300          seconds allowed for the agent to deliver everything
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
if [ "${DEMO_SKIP_BUILD:-0}" != 1 ]; then
  scripts/install-deps.sh
  scripts/build.sh
fi
BUILD_DIR=${BUILD_DIR:-build}
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
DEMO_DIR=${DEMO_DIR:-$BUILD_DIR/demo}
mkdir -p "$DEMO_DIR"
DEMO_DIR=$(cd "$DEMO_DIR" && pwd)
TIMEOUT=${DEMO_TIMEOUT:-300}
TIER0WATCH="$BUILD_DIR/agent/tier0watch"
COLLECTOR="$BUILD_DIR/tools/collector/tier0watch-collector"
# The built-in pack of this source tree (what the MSI installs beside tier0watch.exe).
PACK_DIR="$ROOT/packs"

SAMPLE="$DEMO_DIR/dc01-sample.xml"
echo "== Generating $SAMPLE (seed 42)"
"$BUILD_DIR/tools/bench/t0w-samplegen" --seed 42 --summary --output "$SAMPLE"

echo "== tier0watch scan --events --format table $SAMPLE"
"$TIER0WATCH" scan --events --format table --output "$DEMO_DIR/events.txt" "$SAMPLE"
"$TIER0WATCH" scan --events --output "$DEMO_DIR/events.jsonl" "$SAMPLE" 2>/dev/null
# What the agent must deliver: every event, and the alerts the same pack raises offline.
"$TIER0WATCH" scan --pack "$PACK_DIR/tier0" --output "$DEMO_DIR/alerts.jsonl" "$SAMPLE" 2>/dev/null
EXPECTED_EVENTS=$(wc -l < "$DEMO_DIR/events.jsonl")
EXPECTED_ALERTS=$(wc -l < "$DEMO_DIR/alerts.jsonl")

echo
echo "== The scenario events (ordinary logons, logoffs, TGTs and AES tickets left out):"
# Columns: date time channel eventid computer details. The spray is long: its first lines only.
awk 'NR == 1 { print; next }
     $3 == "Security" && ($4 == 4624 || $4 == 4634 || $4 == 4768) && $0 !~ /10\.66\.6\./ { next }
     $4 == 4769 && /TicketEncryptionType=0x12/ { next }
     ($4 == 4625 || $4 == 4771) { if (++spray[$4] > 3) next }
     { print }
     END { printf "   ... %d failed logons (4625) and %d pre-authentication failures (4771) in all\n",
                  spray[4625], spray[4771] }' "$DEMO_DIR/events.txt"
echo
echo "Output:"
echo "  sample (rendered event XML): $SAMPLE"
echo "  events as a table:           $DEMO_DIR/events.txt"
echo "  events as JSON lines:        $DEMO_DIR/events.jsonl (schemas/event.schema.json)"
echo "  alerts of scan --pack tier0: $DEMO_DIR/alerts.jsonl (schemas/alert.schema.json)"

# ---- the central collector ----------------------------------------------------------------
STATE="$DEMO_DIR/collector"
PORT=${T0W_DEMO_PORT:-8443}
mkdir -p "$STATE"
# A collector left by an earlier demo that was not stopped with Ctrl+C.
if [ -f "$STATE/collector.pid" ]; then
  old=$(cat "$STATE/collector.pid")
  if kill "$old" 2>/dev/null; then
    for _ in $(seq 1 100); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$STATE/collector.pid"
fi
cat > "$STATE/collector.yaml" <<YAML
listen: {address: 127.0.0.1, port: $PORT}
state_dir: "$STATE"
YAML
(umask 077
 [ -s "$STATE/agent.token" ] || "$COLLECTOR" agents enroll dc01 --config "$STATE/collector.yaml" \
   > "$STATE/agent.token" 2>/dev/null
 [ -s "$STATE/admin.password" ] || "$COLLECTOR" users add admin --config "$STATE/collector.yaml" \
   > "$STATE/admin.password" 2>/dev/null)

"$COLLECTOR" serve --config "$STATE/collector.yaml" > "$STATE/collector.out" \
  2> "$STATE/collector.log" &
COLLECTOR_PID=$!
echo "$COLLECTOR_PID" > "$STATE/collector.pid"
stop_collector() {
  if kill "$COLLECTOR_PID" 2>/dev/null; then wait "$COLLECTOR_PID" 2>/dev/null || true; fi
  rm -f "$STATE/collector.pid"
}
trap stop_collector EXIT
trap 'exit 130' INT TERM
# serve prints {"listening": PORT, ...} once it accepts connections.
LISTEN_PORT=""
for _ in $(seq 1 300); do
  LISTEN_PORT=$(sed -n 's/.*"listening": *\([0-9][0-9]*\).*/\1/p' "$STATE/collector.out")
  [ -n "$LISTEN_PORT" ] && break
  kill -0 "$COLLECTOR_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$LISTEN_PORT" ]; then
  echo "demo: the collector did not start; its log ($STATE/collector.log):" >&2
  tail -n 20 "$STATE/collector.log" >&2
  exit 1
fi
URL="https://127.0.0.1:$LISTEN_PORT"
CA="$STATE/tls/collector.pem"

# ---- the agent ------------------------------------------------------------------------------
# A fresh agent state each time: the sample is read again from its start, and the collector
# deduplicates what an earlier demo already delivered.
AGENT_DIR="$DEMO_DIR/agent"
rm -rf "$AGENT_DIR/state"
mkdir -p "$AGENT_DIR/state"
cat > "$AGENT_DIR/agent.yaml" <<YAML
# tier0watch run --config $AGENT_DIR/agent.yaml (schemas/config.schema.json)
agent: {id: dc01-agent, state_dir: "$AGENT_DIR/state", log_level: info}
collector:
  url: "$URL"
  token_file: "$STATE/agent.token"
  ca_bundle: "$CA"
batch: {max_delay_ms: 200}
metrics: {log_interval_ms: 0}
sources:
  - xml: {path: "$SAMPLE"}
rules:
  pack_dir: "$PACK_DIR"
  packs: {tier0: true}
YAML
echo
echo "== tier0watch run: replaying the sample to the collector at $URL"
echo "   (config $AGENT_DIR/agent.yaml, log $AGENT_DIR/agent.log)"
agent_status=0
timeout "$TIMEOUT" "$TIER0WATCH" run --config "$AGENT_DIR/agent.yaml" --exit-when-drained \
  2> "$AGENT_DIR/agent.log" || agent_status=$?
if [ "$agent_status" != 0 ]; then
  if [ "$agent_status" = 124 ]; then
    echo "demo: the agent did not deliver everything within ${TIMEOUT}s; its log:" >&2
  else
    echo "demo: the agent failed (exit status $agent_status); its log:" >&2
  fi
  tail -n 20 "$AGENT_DIR/agent.log" >&2
  exit 1
fi

# ---- what the collector holds, through its API ------------------------------------------------
# Logs in as the admin and polls GET /api/v1/agents (bounded) until the agent's event and alert
# counts reach what the agent was given. Prints "EVENTS ALERTS" as the API reports them.
query_counts() {
  python3 - "$URL" "$CA" "$(cat "$STATE/admin.password")" "$EXPECTED_EVENTS" "$EXPECTED_ALERTS" \
    "$TIMEOUT" <<'PY'
import http.cookiejar, json, ssl, sys, time, urllib.request
url, ca, password, want_events, want_alerts, timeout = sys.argv[1:7]
ctx = ssl.create_default_context(cafile=ca)
opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx),
                                     urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
login = urllib.request.Request(url + "/api/v1/login", method="POST",
                               data=json.dumps({"user": "admin", "password": password}).encode(),
                               headers={"Content-Type": "application/json"})
opener.open(login, timeout=30).read()
end = time.monotonic() + float(timeout)
while True:
    with opener.open(url + "/api/v1/agents", timeout=30) as r:
        agents = json.load(r)["agents"]
    events = sum(a.get("events") or 0 for a in agents)
    alerts = sum(a.get("alerts") or 0 for a in agents)
    if (events >= int(want_events) and alerts >= int(want_alerts)) or time.monotonic() > end:
        print(events, alerts)
        break
    time.sleep(0.2)  # poll interval while the collector stores the last batch
PY
}
read -r GOT_EVENTS GOT_ALERTS < <(query_counts)
echo "demo: collector API: $GOT_EVENTS events, $GOT_ALERTS alerts" \
  "(expected $EXPECTED_EVENTS events, $EXPECTED_ALERTS alerts)"
if [ "$GOT_EVENTS" != "$EXPECTED_EVENTS" ] || [ "$GOT_ALERTS" != "$EXPECTED_ALERTS" ]; then
  echo "demo: the collector does not hold what the agent read; logs: $AGENT_DIR/agent.log," \
    "$STATE/collector.log" >&2
  exit 1
fi

echo
echo "Dashboard: $URL/  (self-signed certificate: $CA)"
echo "Login:     admin / $(cat "$STATE/admin.password")"
if [ "${DEMO_EXIT:-0}" = 1 ]; then
  exit 0
fi
echo "The collector runs until Ctrl+C."
wait "$COLLECTOR_PID" || true
