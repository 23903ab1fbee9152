#!/usr/bin/env bash
# EVTX read throughput: `tier0watch scan --events --output /dev/null` versus libevtx's own
# `evtxexport -f xml` over the same corpus .evtx files, in the same run.
#
# evtxexport reads one file per process, so it runs once per file; tier0watch is measured both
# ways (one process for all files, and once per file like evtxexport). Each measurement is
# repeated REPEAT times (default 5) and the median is reported.
#
# Usage: tools/bench/scan_throughput.sh [BUILD_DIR] [CORPUS_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${1:-${BUILD_DIR:-build}}
CORPUS=${2:-${T0W_CORPUS_DIR:-../shared/corpus}}
REPEAT=${REPEAT:-5}
TIER0WATCH="$BUILD_DIR/agent/tier0watch"
[ -x "$TIER0WATCH" ] || { echo "no $TIER0WATCH: build first (scripts/build.sh)" >&2; exit 2; }
command -v evtxexport >/dev/null || { echo "evtxexport missing (libevtx-utils)" >&2; exit 2; }

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

tier0watch_all() { "$TIER0WATCH" scan --events --output /dev/null "${FILES[@]}"; }
tier0watch_each() { for f in "${FILES[@]}"; do "$TIER0WATCH" scan --events --output /dev/null "$f"; done; }
evtxexport_each() { for f in "${FILES[@]}"; do evtxexport -f xml "$f"; done; }

"$TIER0WATCH" scan --events --output /dev/null "${FILES[0]}" >/dev/null 2>&1  # warm the cache
T_ALL=$(median_seconds tier0watch_all)
T_EACH=$(median_seconds tier0watch_each)
T_EXPORT=$(median_seconds evtxexport_each)

rate() { awk -v r="$1" -v t="$2" 'BEGIN { printf "%.0f", r / t }'; }
echo "corpus: ${#FILES[@]} files, $BYTES bytes, $RECORDS records (evtxexport: $EXPORTED)"
echo "repeats: $REPEAT, median wall time"
printf '%-44s %8.3f s  %10s records/s\n' "tier0watch scan --events (one process)" "$T_ALL" \
  "$(rate "$RECORDS" "$T_ALL")"
printf '%-44s %8.3f s  %10s records/s\n' "tier0watch scan --events (process per file)" \
  "$T_EACH" "$(rate "$RECORDS" "$T_EACH")"
printf '%-44s %8.3f s  %10s records/s\n' "evtxexport -f xml (process per file)" "$T_EXPORT" \
  "$(rate "$EXPORTED" "$T_EXPORT")"
awk -v a="$T_EACH" -v b="$T_EXPORT" -v c="$T_ALL" 'BEGIN {
  printf "ratio tier0watch/evtxexport records/s: %.2f (process per file), %.2f (one process)\n",
         b / a, b / c }'
