#!/usr/bin/env bash
# The fault matrix from one run of the real-collector tests (tests/integration/
# agent_collector_test.py): runs every scenario against `tier0watch run` and
# `tier0watch-collector serve` of a build and prints the table of docs/operations.md.
#   scripts/fault-matrix.sh [BUILD_DIR] [SCENARIO...]     (default build/, every scenario)
# Exits non-zero if a scenario fails; a skipped one (exit 77: libfaketime missing) is listed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
shift || true
T0W=$BUILD/agent/tier0watch
COLLECTOR=$BUILD/tools/collector/tier0watch-collector
[ -x "$T0W" ] || T0W=$(find "$BUILD" -type f -name tier0watch -perm -u+x | head -n 1)
[ -x "$COLLECTOR" ] || COLLECTOR=$(find "$BUILD" -type f -name tier0watch-collector -perm -u+x | head -n 1)
if [ -z "$T0W" ] || [ -z "$COLLECTOR" ]; then
  echo "fault-matrix.sh: build tier0watch and tier0watch-collector in $BUILD first" >&2
  exit 2
fi
SCENARIOS=("$@")
if [ ${#SCENARIOS[@]} -eq 0 ]; then
  SCENARIOS=(baseline queue_deleted queue_quarantined queue_deleted_mid_stream
             queue_corrupted_mid_stream snapshot_rollback agent_sigkill collector_sigkill
             answer_lost proxy_404_405 agent_disk_full collector_disk_full clock_step deep_body
             site_enrolment)
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
failed=()
for s in "${SCENARIOS[@]}"; do
  echo "=== $s" >&2
  rc=0
  (cd "$ROOT" && python3 tests/integration/agent_collector_test.py "$T0W" "$COLLECTOR" "$s") \
    >"$OUT/$s.log" 2>&1 || rc=$?
  if [ $rc -eq 77 ]; then
    echo "SKIPPED $s: $(grep SKIP "$OUT/$s.log" | head -n 1)" >>"$OUT/notes"
  elif [ $rc -ne 0 ]; then
    failed+=("$s")
    tail -n 30 "$OUT/$s.log" >&2
  fi
  grep '^FAULT-MATRIX ' "$OUT/$s.log" | sed 's/^FAULT-MATRIX //' >>"$OUT/rows.jsonl" || true
done
python3 - "$OUT/rows.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])] if __import__("os").path.exists(sys.argv[1]) else []
print("| scenario | events in | stored once | reported lost | duplicates shown to the user | "
      "re-sent copies dropped by the collector | conflicts shown | note |")
print("|---|---:|---:|---:|---:|---:|---:|---|")
for r in rows:
    print("| %s | %d | %d | %d | %s | %d | %d | %s |" % (
        r["scenario"], r["events_in"], r["stored_once"], r["reported_lost"],
        r.get("shown_twice", "-"), r["duplicates"], r["conflicts"], r.get("note", "")))
PY
[ -f "$OUT/notes" ] && cat "$OUT/notes"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fault-matrix.sh: failed: ${failed[*]}" >&2
  exit 1
fi
