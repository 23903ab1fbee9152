#!/usr/bin/env bash
# scripts/windows/build-deps.sh against an archive that lists a source version it does not serve
# (what a mirror without the security pool's newest upload looks like; seen for zlib).
#
# A test double of apt's two front ends sits first on PATH: `apt-cache showsrc` adds a version
# 9:9.9-9 above the real ones of $PKG, and the double's `apt-get source` for that version fetches
# a .dsc that really is missing from deb.debian.org (a real 404 from the real archive). Every
# other call goes to the real apt. With T0W_STUB_ALL_MISSING=1 every version of $PKG is missing.
# Checks:
#   1. an empty prefix builds $PKG from the newest version that can be downloaded, says why, and
#      stamps the version actually built
#   2. a second run keeps the cached build and says that the newer version is still missing
#   3. --check-sources passes and names the version a build would use
#   4. --check-sources fails, naming $PKG, when none of its versions can be downloaded
# Needs the Windows build's packages (scripts/windows/install-deps.sh) and the network.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
PKG=${T0W_BUILD_DEPS_TEST_PKG:-cli11}
FAKE=9:9.9-9
work=$(mktemp -d /tmp/t0w-build-deps-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() {
  local what=$1
  shift
  if "$@"; then echo "ok - $what"; passed=$((passed + 1)); else echo "FAIL - $what"; failed=$((failed + 1)); fi
}

REAL_APT_GET=$(command -v apt-get)
REAL_APT_CACHE=$(command -v apt-cache)
mkdir -p "$work/bin"
cat >"$work/bin/apt-cache" <<EOF
#!/usr/bin/env bash
"$REAL_APT_CACHE" "\$@"
if [ "\$1" = showsrc ] && [ "\$2" = "$PKG" ]; then printf '\nPackage: $PKG\nVersion: $FAKE\n\n'; fi
EOF
# The double's URL for a missing version: a file deb.debian.org does not have.
cat >"$work/bin/apt-get" <<EOF
#!/usr/bin/env bash
missing() {
  case "\$1" in
    "$PKG=$FAKE") return 0 ;;
    "$PKG="*) [ "\${T0W_STUB_ALL_MISSING:-0}" = 1 ] ;;
    *) return 1 ;;
  esac
}
url() { local p=\${1%%=*} v=\${1#*=}; echo "http://deb.debian.org/debian/pool/main/t/t0w-missing/\${p}_\${v#*:}.dsc"; }
args=() print=0 gone=() wanted=0
for a in "\$@"; do
  [ "\$a" = --print-uris ] && print=1
  if missing "\$a"; then
    gone+=("\$a")
  else
    args+=("\$a")
    case "\$a" in *=*) wanted=\$((wanted + 1)) ;; esac
  fi
done
if [ \${#gone[@]} -gt 0 ]; then
  if [ \$print = 1 ]; then
    for g in "\${gone[@]}"; do
      v=\${g#*=}
      echo "'\$(url "\$g")' \${g%%=*}_\${v#*:}.dsc 1000 SHA256:0000000000000000000000000000000000000000000000000000000000000000"
    done
    [ \$wanted -gt 0 ] || exit 0
  else
    # What apt says for a listed version the archive does not serve.
    /usr/lib/apt/apt-helper download-file "\$(url "\${gone[0]}")" "\$PWD/missing.dsc" 2>&1 | grep -v '^W:' >&2
    exit 100
  fi
fi
exec "$REAL_APT_GET" "\${args[@]}"
EOF
chmod +x "$work/bin/apt-cache" "$work/bin/apt-get"
export PATH=$work/bin:$PATH
export T0W_WIN64_PREFIX=$work/prefix T0W_WIN64_WORK=$work/src T0W_WIN64_DEPS=$PKG
real=$("$REAL_APT_CACHE" showsrc "$PKG" | awk -v p="$PKG" '/^Package: /{c=$2} /^Version: / && c==p {print $2}' | sort -u | tail -n1)
[ -n "$real" ] || { echo "FAIL - apt-cache showsrc $PKG lists nothing (deb-src entry?)"; exit 1; }

# 1. Empty prefix: falls back to the real version, says why, stamps it.
rc=0
"$ROOT/scripts/windows/build-deps.sh" >"$work/build1.log" 2>&1 || rc=$?
sed 's/^/  | /' "$work/build1.log"
check "build-deps exits 0 when the newest listed version 404s" test "$rc" -eq 0
check "says why the newest is skipped (apt's 404)" \
  grep -q "$PKG $FAKE: cannot be downloaded: .*404" "$work/build1.log"
check "says which version it used instead" \
  grep -q "$PKG $real: using this older version, the newest downloadable ($FAKE is listed but not served)" "$work/build1.log"
check "stamp records the version built ($real)" \
  bash -c "cut -d'|' -f1 '$T0W_WIN64_PREFIX/.stamps/$PKG' | grep -qxF '$real'"

# 2. Cached: the missing newer version is probed and the build kept.
rc=0
"$ROOT/scripts/windows/build-deps.sh" >"$work/build2.log" 2>&1 || rc=$?
sed 's/^/  | /' "$work/build2.log"
check "second run exits 0" test "$rc" -eq 0
check "second run keeps the cached build" grep -q "$PKG $real: cached" "$work/build2.log"
check "second run says the newer version is still missing" \
  grep -q "newer source $FAKE cannot be downloaded" "$work/build2.log"

# 3. and 4. The source check.
rc=0
"$ROOT/scripts/windows/build-deps.sh" --check-sources >"$work/check1.log" 2>&1 || rc=$?
sed 's/^/  | /' "$work/check1.log"
check "--check-sources passes with one downloadable version" test "$rc" -eq 0
check "--check-sources names the version a build uses" \
  grep -q "$PKG $real: downloadable (a build uses it: the newer $FAKE is not)" "$work/check1.log"
rc=0
T0W_STUB_ALL_MISSING=1 "$ROOT/scripts/windows/build-deps.sh" --check-sources >"$work/check2.log" 2>&1 || rc=$?
sed 's/^/  | /' "$work/check2.log"
check "--check-sources fails when no version can be downloaded" test "$rc" -ne 0
check "--check-sources names the package" \
  grep -q "^  $PKG: none of its source versions can be downloaded ($FAKE $real)" "$work/check2.log"

echo "build_deps_test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
