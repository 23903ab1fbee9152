#!/usr/bin/env bash
# The README's first command: installs the Debian packages, builds, generates a sample of a
# domain controller's events (password spray, DCSync, delegation change, RC4 tickets, DSRM
# password set, Password Protection rejections, PTA agent failures, log cleared) and scans it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
DEMO_DIR="$BUILD_DIR/demo"
mkdir -p "$DEMO_DIR"

SAMPLE="$DEMO_DIR/dc01-sample.xml"
echo "== Generating $SAMPLE (seed 42)"
"$BUILD_DIR/tools/bench/t0w-samplegen" --seed 42 --summary --output "$SAMPLE"

echo "== tier0watch scan --events --format table $SAMPLE"
status=0
"$BUILD_DIR/agent/tier0watch" scan --events --format table --output "$DEMO_DIR/events.txt" \
  "$SAMPLE" || status=$?
"$BUILD_DIR/agent/tier0watch" scan --events --output "$DEMO_DIR/events.jsonl" "$SAMPLE" \
  2>/dev/null || status=$?

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
# The central collector: self-signed certificate and enrolment token on first run, then the
# sample's events and the alerts of `scan --rules` posted to it over HTTPS. (Posted by
# t0w-collector-send, which uses the agent's shipper transport, until `tier0watch run` replays
# into it.)
COLLECTOR="$BUILD_DIR/tools/collector/tier0watch-collector"
STATE="$(cd "$DEMO_DIR" && pwd)/collector"
PORT=${T0W_DEMO_PORT:-8443}
mkdir -p "$STATE"
[ -f "$STATE/collector.pid" ] && kill "$(cat "$STATE/collector.pid")" 2>/dev/null && sleep 1
cat > "$STATE/collector.yaml" <<YAML
listen: {address: 127.0.0.1, port: $PORT}
state_dir: $STATE
YAML
(umask 077
 [ -s "$STATE/agent.token" ] || "$COLLECTOR" agents enroll dc01 --config "$STATE/collector.yaml" \
   > "$STATE/agent.token" 2>/dev/null
 [ -s "$STATE/admin.password" ] || "$COLLECTOR" users add admin --config "$STATE/collector.yaml" \
   > "$STATE/admin.password" 2>/dev/null)
"$BUILD_DIR/agent/tier0watch" scan --rules tools/collector/demo-rules --output "$DEMO_DIR/alerts.jsonl" \
  "$SAMPLE" 2>/dev/null || status=$?
nohup "$COLLECTOR" serve --config "$STATE/collector.yaml" > "$STATE/collector.out" \
  2> "$STATE/collector.log" &
echo $! > "$STATE/collector.pid"
for _ in $(seq 1 100); do grep -q listening "$STATE/collector.out" 2>/dev/null && break; sleep 0.1; done
echo
echo "== Sending the sample's events and $(wc -l < "$DEMO_DIR/alerts.jsonl") alerts to the collector"
"$BUILD_DIR/tools/collector/t0w-collector-send" --url "https://127.0.0.1:$PORT" \
  --token "$(cat "$STATE/agent.token")" --ca "$STATE/tls/collector.pem" --agent-id dc01-agent \
  --hostname DC01.corp.contoso.com --events "$DEMO_DIR/events.jsonl" \
  --alerts "$DEMO_DIR/alerts.jsonl" --status || status=$?
echo
echo "Dashboard: https://127.0.0.1:$PORT/  (self-signed certificate: $STATE/tls/collector.pem)"
echo "Login:     admin / $(cat "$STATE/admin.password")"
echo "Stop it:   kill \$(cat $STATE/collector.pid)"
exit "$status"
