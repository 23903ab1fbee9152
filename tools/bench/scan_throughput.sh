#!/usr/bin/env bash
# Read throughput of whole `tier0watch scan --events --output /dev/null` processes, each next to
# a baseline run in the same invocation on the same bytes:
#
# XML:  a generated domain controller sample (t0w-samplegen, XML_EVENTS background events,
#       default 50000, about 61 MB) versus `cat` (reading the file) and `xmllint --stream`
#       (libxml2's streaming parser, no output). Figures in events/s.
# EVTX: the corpus .evtx files versus libevtx's own `evtxexport -f xml`. evtxexport reads one
#       file per process, so it runs once per file; tier0watch is measured both ways (one process
#       for all files, and once per file like evtxexport).
#
# Each measurement is repeated REPEAT times (default 5) and the median wall time is reported.
# The in-process view of the same (no process start-up; JSON writer alone) is scan_bench.
#
# BEFORE_TIER0WATCH=path/to/an/older/tier0watch adds it to both measurements (before/after).
#
# Usage: tools/bench/scan_throughput.sh [BUILD_DIR] [CORPUS_DIR]
#        env: XML_EVENTS, REPEAT, BEFORE_TIER0WATCH
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${1:-${BUILD_DIR:-build}}
CORPUS=${2:-${T0W_CORPUS_DIR:-../shared/corpus}}
REPEAT=${REPEAT:-5}
TIER0WATCH="$BUILD_DIR/agent/tier0watch"
[ -x "$TIER0WATCH" ] || { echo "no $TIER0WATCH: build first (scripts/build.sh)" >&2; exit 2; }
command -v evtxexport >/dev/null || { echo "evtxexport missing (libevtx-utils)" >&2; exit 2; }
command -v xmllint >/dev/null || { echo "xmllint missing (libxml2-utils)" >&2; exit 2; }
SAMPLEGEN="$BUILD_DIR/tools/bench/t0w-samplegen"
[ -x "$SAMPLEGEN" ] || { echo "no $SAMPLEGEN: build first (scripts/build.sh)" >&2; exit 2; }

mapfile -t FILES < <(find "$CORPUS/evtx-attack-samples" "$CORPUS/sigma/regression" \
  -name '*.evtx' | sort)
[ ${#FILES[@]} -gt 0 ] || { echo "no .evtx files under $CORPUS" >&2; exit 2; }
BYTES=$(cat "${FILES[@]}" | wc -c)
RECORDS=$("$TIER0WATCH" scan "${FILES[@]}" 2>&1 | sed -n 's/^scan: .* files, \([0-9]*\) records.*/\1/p')
EXPORTED=0
for f in "${FILES[@]}"; do
  n=$(evtxexport -f xml "$f" 2>/dev/null | grep -c '^<Event xmlns=' || true)
  EXPORTED=$((EXPORTED + n))
done

now() { date +%s%N; }
# median_seconds CMD...: runs CMD REPEAT times, prints the median wall time in seconds.
median_seconds() {
  local times=()
  for _ in $(seq "$REPEAT"); do
    local t0 t1
    t0=$(now)
    "$@" >/dev/null 2>&1
    t1=$(now)
    times+=("$(((t1 - t0) / 1000))")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.4f", a[int((NR+1)/2)]/1e6}'
}

rate() { awk -v r="$1" -v t="$2" 'BEGIN { printf "%.0f", r / t }'; }

# ---- XML ------------------------------------------------------------------------------------
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
XML="$WORK/dc-sample.xml"
"$SAMPLEGEN" --seed 42 --background "${XML_EVENTS:-50000}" --output "$XML"
XML_BYTES=$(wc -c < "$XML")
XML_EVENTS_READ=$("$TIER0WATCH" scan "$XML" 2>&1 | sed -n 's/^scan: .* files, \([0-9]*\) records.*/\1/p')
xml_scan() { "$TIER0WATCH" scan --events --output /dev/null "$XML"; }
xml_cat() { cat "$XML"; }
xml_xmllint() { xmllint --stream --noout "$XML"; }
xml_cat >/dev/null  # warm the cache
T_XML=$(median_seconds xml_scan)
T_CAT=$(median_seconds xml_cat)
T_XMLLINT=$(median_seconds xml_xmllint)
echo "XML sample: $XML_EVENTS_READ events, $XML_BYTES bytes; repeats: $REPEAT, median wall time"
printf '%-44s %8.3f s  %10s events/s\n' "tier0watch scan --events" "$T_XML" \
  "$(rate "$XML_EVENTS_READ" "$T_XML")"
printf '%-44s %8.3f s  %10s events/s\n' "xmllint --stream --noout (parse only)" "$T_XMLLINT" \
  "$(rate "$XML_EVENTS_READ" "$T_XMLLINT")"
printf '%-44s %8.3f s  %10s events/s\n' "cat (read only)" "$T_CAT" \
  "$(rate "$XML_EVENTS_READ" "$T_CAT")"
awk -v a="$T_XML" -v b="$T_XMLLINT" 'BEGIN {
  printf "ratio tier0watch/xmllint events/s: %.2f\n", b / a }'
if [ -n "${BEFORE_TIER0WATCH:-}" ]; then
  xml_scan_before() { "$BEFORE_TIER0WATCH" scan --events --output /dev/null "$XML"; }
  T_XML_BEFORE=$(median_seconds xml_scan_before)
  printf '%-44s %8.3f s  %10s events/s\n' "BEFORE_TIER0WATCH scan --events" "$T_XML_BEFORE" \
    "$(rate "$XML_EVENTS_READ" "$T_XML_BEFORE")"
  awk -v a="$T_XML" -v b="$T_XML_BEFORE" 'BEGIN { printf "ratio after/before events/s: %.2f\n", b / a }'
fi
echo

# ---- EVTX -----------------------------------------------------------------------------------
tier0watch_all() { "$TIER0WATCH" scan --events --output /dev/null "${FILES[@]}"; }
tier0watch_each() { for f in "${FILES[@]}"; do "$TIER0WATCH" scan --events --output /dev/null "$f"; done; }
evtxexport_each() { for f in "${FILES[@]}"; do evtxexport -f xml "$f"; done; }

"$TIER0WATCH" scan --events --output /dev/null "${FILES[0]}" >/dev/null 2>&1  # warm the cache
T_ALL=$(median_seconds tier0watch_all)
T_EACH=$(median_seconds tier0watch_each)
T_EXPORT=$(median_seconds evtxexport_each)

echo "corpus: ${#FILES[@]} files, $BYTES bytes, $RECORDS records (evtxexport: $EXPORTED)"
echo "repeats: $REPEAT, median wall time"
printf '%-44s %8.3f s  %10s records/s\n' "tier0watch scan --events (one process)" "$T_ALL" \
  "$(rate "$RECORDS" "$T_ALL")"
printf '%-44s %8.3f s  %10s records/s\n' "tier0watch scan --events (process per file)" \
  "$T_EACH" "$(rate "$RECORDS" "$T_EACH")"
printf '%-44s %8.3f s  %10s records/s\n' "evtxexport -f xml (process per file)" "$T_EXPORT" \
  "$(rate "$EXPORTED" "$T_EXPORT")"
if [ -n "${BEFORE_TIER0WATCH:-}" ]; then
  before_all() { "$BEFORE_TIER0WATCH" scan --events --output /dev/null "${FILES[@]}"; }
  T_ALL_BEFORE=$(median_seconds before_all)
  printf '%-44s %8.3f s  %10s records/s\n' "BEFORE_TIER0WATCH scan --events (one process)" \
    "$T_ALL_BEFORE" "$(rate "$RECORDS" "$T_ALL_BEFORE")"
  awk -v a="$T_ALL" -v b="$T_ALL_BEFORE" 'BEGIN {
    printf "ratio after/before records/s (one process): %.2f\n", b / a }'
fi
awk -v a="$T_EACH" -v b="$T_EXPORT" -v c="$T_ALL" 'BEGIN {
  printf "ratio tier0watch/evtxexport records/s: %.2f (process per file), %.2f (one process)\n",
         b / a, b / c }'
