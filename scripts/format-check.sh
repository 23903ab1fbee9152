#!/usr/bin/env bash
# Fails when a tracked C++ source under agent/ collectors/ common/ tools/ tests/ differs from what
# clang-format (.clang-format: Google base, 100 columns) makes of it; prints the differences.
# scripts/test.sh runs it after the build. Fix: clang-format -i <file>. The version matters
# (styles move between releases): Debian 12's clang-format 14, as scripts/install-deps.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
command -v "$CLANG_FORMAT" >/dev/null || { echo "format-check: $CLANG_FORMAT not found" >&2; exit 1; }
mapfile -d '' files < <(git ls-files -z -- 'agent/*.cpp' 'agent/*.h' 'collectors/*.cpp' \
  'collectors/*.h' 'common/*.cpp' 'common/*.h' 'tools/*.cpp' 'tools/*.h' 'tests/*.cpp' 'tests/*.h')
[ ${#files[@]} -gt 0 ] || { echo "format-check: no files" >&2; exit 1; }
if ! "$CLANG_FORMAT" --dry-run --Werror "${files[@]}"; then
  echo "format-check: files above are not clang-formatted ($("$CLANG_FORMAT" --version))" >&2
  exit 1
fi
echo "format-check: ${#files[@]} files formatted"
