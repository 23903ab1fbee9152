#!/usr/bin/env bash
# ctest's emulator for the Windows tests: runs one .exe under Wine and fails it when any of its
# threads crashed. Wine's default debugger (AeDebug Auto=1, winedbg --auto) prints the crash and
# ends the process with exit code 0, so a test whose thread crashed at exit still "passed" (seen
# with a thread_local destructor in the zstd codec). The crash report on stderr is the evidence.
#
#   wine-test.sh <wine> <test.exe> [args...]
set -uo pipefail
WINE=${1:?wine}
shift
err=$(mktemp /tmp/t0w-wine-test.XXXXXX)
trap 'rm -f "$err"' EXIT
"$WINE" "$@" 2> >(tee "$err" >&2)
rc=$?
wait  # for tee to finish writing $err
if grep -qE '^wine: Unhandled|^Unhandled exception' "$err"; then
  echo "wine-test.sh: $1 crashed under Wine (exit code $rc); see the report above" >&2
  exit 1
fi
exit "$rc"
