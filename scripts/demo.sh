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
exit "$status"
