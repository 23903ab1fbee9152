#!/usr/bin/env bash
# Trusts (or untrusts) a CA certificate in a Wine prefix's LocalMachine\Root store with the
# t0w-trust-ca.exe helper built by the Windows build (tests/integration/winhttp_trust_ca.cpp).
#   scripts/windows/trust-ca.sh add|remove|check <ca.pem> [--user] [--store Root]
# Env: WINEPREFIX (default /var/cache/tier0watch/wine64), T0W_WIN64_BUILD_DIR (default build-win64).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 2 ] || { echo "usage: $0 add|remove|check <ca.pem> [--user] [--store NAME]" >&2; exit 2; }
export WINEPREFIX=${WINEPREFIX:-/var/cache/tier0watch/wine64} WINEDEBUG=${WINEDEBUG:--all}
exe=$(find "${T0W_WIN64_BUILD_DIR:-build-win64}" -name t0w-trust-ca.exe -print -quit)
[ -n "$exe" ] || { echo "t0w-trust-ca.exe not built in ${T0W_WIN64_BUILD_DIR:-build-win64}" >&2; exit 1; }
action=$1 cert=$2
shift 2
# Wine maps the Unix root to drive Z:.
wine "$exe" "$action" "Z:$(realpath "$cert")" "$@"
