#!/usr/bin/env bash
# Builds every libFuzzer target (names starting with fuzz_) with clang, ASan and UBSan, then runs
# each for SECONDS (default 60), seeded from its tests/data folders, FUZZ_JOBS (default: the
# number of cores) at a time; logs in <build>/fuzz-logs/<target>.log.
#   scripts/fuzz.sh [SECONDS]        build dir: $FUZZ_BUILD_DIR or <repo>/build-fuzz
# New inputs go to <build>/fuzz-corpus/<target>/ (the seed folders are only read), crash
# artifacts to <build>/fuzz-artifacts/<target>/. Exits non-zero if any target fails.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_TARGET=${1:-60}
BUILD_DIR=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}

# Seed folders per target; add a case line with your target's folders.
seed_dirs() {
  case "$1" in
    fuzz_event_xml) echo "$ROOT/tests/data/eventlog" ;;
    fuzz_sigma_*) echo "$ROOT/tests/data/sigma" ;;
    fuzz_collector_http) echo "$ROOT/tests/data/fuzz/fuzz_batch_decoder" ;;
  esac
  echo "$ROOT/tests/data/fuzz/$1"  # optional extra seeds, any target
}

CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DT0W_FUZZ=ON -DT0W_BUILD_TESTS=OFF -DT0W_BUILD_BENCH=OFF >/dev/null
mapfile -t TARGETS < <(ninja -C "$BUILD_DIR" -t targets all | grep -oE '^fuzz_[A-Za-z0-9_]+' | sort -u)
if [ ${#TARGETS[@]} -eq 0 ]; then
  echo "fuzz.sh: no fuzz_* targets found in $BUILD_DIR" >&2
  exit 1
fi
cmake --build "$BUILD_DIR" -j "$(nproc)" --target "${TARGETS[@]}"

# UBSan only reports by default; make it stop so that libFuzzer records the input.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# One fuzzer per core at a time (2 cores: 8 targets x SECONDS / 2 of wall time); each under
# ASan with a memory limit, so that an input that makes the code allocate without bound fails.
JOBS=${FUZZ_JOBS:-$(nproc)}
LOGS="$BUILD_DIR/fuzz-logs"
mkdir -p "$LOGS"
run_target() {
  local target=$1 exe corpus artifacts
  exe=$(find "$BUILD_DIR" -type f -name "$target" -perm -u+x | head -n 1)
  if [ -z "$exe" ]; then
    echo "fuzz.sh: $target built but its executable was not found" >&2
    return 1
  fi
  corpus="$BUILD_DIR/fuzz-corpus/$target"
  artifacts="$BUILD_DIR/fuzz-artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  local seeds=()
  while read -r dir; do
    [ -d "$dir" ] && seeds+=("$dir")
  done < <(seed_dirs "$target")
  echo "=== $target: ${SECONDS_PER_TARGET}s, seeds: ${seeds[*]:-none}"
  "$exe" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -malloc_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" \
    "${seeds[@]}"
}

failed=()
pids=()
names=()
for target in "${TARGETS[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
    wait -n || true
  done
  run_target "$target" >"$LOGS/$target.log" 2>&1 &
  pids+=($!)
  names+=("$target")
done
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    echo "fuzz.sh: ${names[$i]} FAILED; artifacts in $BUILD_DIR/fuzz-artifacts/${names[$i]}" >&2
    tail -n 60 "$LOGS/${names[$i]}.log" >&2
    failed+=("${names[$i]}")
  else
    grep -E '^=== |stat::number_of_executed_units|stat::peak_rss_mb' "$LOGS/${names[$i]}.log" || true
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: failures: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: all ${#TARGETS[@]} targets ran ${SECONDS_PER_TARGET}s without a crash"
