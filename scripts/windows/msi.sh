#!/usr/bin/env bash
# Builds the agent's Windows Installer package with wixl (msitools) from the cross-built
# tier0watch.exe (scripts/windows/test.sh builds it): <build dir>/tier0watch.msi.
# See installer/wix/tier0watch.wxs and docs/deployment.md.
#
#   T0W_WIN64_BUILD_DIR  build tree holding agent/tier0watch.exe (default build-win64)
#   T0W_MSI_VERSION      ProductVersion, major.minor.build (default: the project version)
#   T0W_MSI_OUT          output file (default <build dir>/tier0watch.msi)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD_DIR=${T0W_WIN64_BUILD_DIR:-build-win64}
OUT=${T0W_MSI_OUT:-$BUILD_DIR/tier0watch.msi}
fail() { echo "msi.sh: $*" >&2; exit 1; }
log() { printf '[msi %(%H:%M:%S)T] %s\n' -1 "$*"; }

for tool in wixl msiinfo msibuild x86_64-w64-mingw32-strip file; do
  command -v "$tool" >/dev/null || fail "$tool not found (scripts/windows/install-deps.sh installs it)"
done

exe=$BUILD_DIR/agent/tier0watch.exe
[ -f "$exe" ] || fail "$exe not built (run scripts/windows/test.sh first)"
file -b "$exe" | grep -q '^PE32+ executable' || fail "$exe is not PE32+: $(file -b "$exe")"
ca=$BUILD_DIR/installer/ca/tier0watch-ca.dll
[ -f "$ca" ] || fail "$ca not built (run scripts/windows/test.sh first)"
file -b "$ca" | grep -q '^PE32+ executable (DLL)' || fail "$ca is not a PE32+ DLL: $(file -b "$ca")"
# msiexec loads the custom action DLL from a temporary folder: it must export the entry point and
# need nothing but system DLLs (no MinGW runtime beside it).
dump=$(x86_64-w64-mingw32-objdump -p "$ca")
grep -qE '\]\s+T0WPrepareDataDir$' <<<"$dump" || fail "$ca does not export T0WPrepareDataDir"
deps=$(awk '/DLL Name:/ {print tolower($3)}' <<<"$dump" | sort -u | tr '\n' ' ')
for dll in $deps; do
  case $dll in
  kernel32.dll | msi.dll | advapi32.dll | user32.dll | msvcrt.dll | api-ms-win-crt-*.dll) ;;
  *) fail "$ca imports $dll, which is not on every Windows system (imports: $deps)" ;;
  esac
done

version=${T0W_MSI_VERSION:-$(sed -n 's/^project(tier0watch VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)}
# ProductVersion: major.minor.build, at most 255.255.65535; FindRelatedProducts ignores a fourth
# field, so an upgrade must change one of these three.
[[ $version =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || fail "version '$version' is not major.minor.build"
((BASH_REMATCH[1] <= 255 && BASH_REMATCH[2] <= 255 && BASH_REMATCH[3] <= 65535)) ||
  fail "version $version exceeds 255.255.65535"

# wixl resolves File/@Source against the working directory: stage every payload in one folder.
# Absolute: wixl runs inside the stage folder.
stage=$(realpath -m "$BUILD_DIR/msi-stage")
rm -rf "$stage"
mkdir -p "$stage"
# The debug information (about 50 MB) stays in the build tree; the package ships the code only.
x86_64-w64-mingw32-strip --strip-debug -o "$stage/tier0watch.exe" "$exe"
x86_64-w64-mingw32-strip --strip-debug -o "$stage/tier0watch-ca.dll" "$ca"
cp installer/config/tier0watch.yaml "$stage/tier0watch.default.yaml"
defines=(-D "Version=$version")
if [ -f installer/admx/Tier0Watch.admx ] && [ -f installer/admx/en-US/Tier0Watch.adml ]; then
  mkdir -p "$stage/admx/en-US"
  cp installer/admx/Tier0Watch.admx "$stage/admx/"
  cp installer/admx/en-US/Tier0Watch.adml "$stage/admx/en-US/"
  defines+=(-D HaveAdmx=1)
fi

# Rule packs (packs/<name>/...): data installed beside the executable, where `rules.packs` and
# `--pack` look first (<exe dir>/packs). wixl-heat writes one component per file (its GUID derived
# from the path, so an upgrade keeps the component) into a fragment.
sources=("$ROOT/installer/wix/tier0watch.wxs")
if [ -d packs ] && [ -n "$(find packs -type f -print -quit)" ]; then
  command -v wixl-heat >/dev/null || fail "wixl-heat not found (msitools)"
  cp -r packs "$stage/packs"
  (cd "$stage" && find packs -type f | LC_ALL=C sort |
    wixl-heat --directory-ref INSTALLDIR --component-group RulePacks --var var.PackSource \
      -p "" --win64) >"$stage/packs.wxs"
  defines+=(-D HavePacks=1 -D PackSource=. -D Win64=yes)
  sources+=("$stage/packs.wxs")
fi

log "wixl $version -> $OUT"
tmp=$stage/tier0watch.msi
if ! (cd "$stage" && wixl -a x64 "${defines[@]}" -o "$tmp" "${sources[@]}") \
  2>"$stage/wixl.log"; then
  cat "$stage/wixl.log" >&2
  fail "wixl failed"
fi
# (wixl 0.101 can exit 0 without writing its output, e.g. to a folder that does not exist.)
[ -s "$tmp" ] || { cat "$stage/wixl.log" >&2; fail "wixl wrote no $tmp"; }
# wixl warns about the WiX attributes it ignores; those are written below. Anything else is news.
grep -v -E "has no property named '(Platform|Schedule|Secure|Hidden|HideTarget)'|^\s*$" \
  "$stage/wixl.log" >&2 || true

# What wixl ignores, written into the database with SQL (msibuild):
# - Property/@Secure: restricted public properties reach the elevated (server) side only when
#   listed in SecureCustomProperties (managed installs: GPO, ConfigMgr, Intune).
# - Property/@Hidden: MsiHiddenProperties keeps the token out of verbose logs (with the action
#   name: a deferred action's CustomActionData is the property of that name).
# - CustomAction/@HideTarget: type bit 8192 (msidbCustomActionTypeHideTarget) on the prepare
#   action and on the type-51 action that sets its CustomActionData, which carries the token.
# - Sequence: wixl's placement of After/Before with MajorUpgrade is wrong (it put
#   RemoveExistingProducts after InstallFiles); the numbers below are what WiX v3 computes for
#   MajorUpgrade/@Schedule="afterInstallValidate", After="InstallFiles", Before="StartServices".
secure=$(msiinfo export "$tmp" Property | tr -d '\r' | awk -F'\t' '$1 == "SecureCustomProperties" {print $2}')
sql() { msibuild "$tmp" -q "$1" || fail "msibuild: $1"; }
if [ -n "$secure" ]; then
  sql "UPDATE \`Property\` SET \`Value\` = '$secure;COLLECTOR_URL;ENROLL_TOKEN;SOURCE_SECURITY;SOURCE_PTA_AGENT;SOURCE_PRIVATE_NETWORK_CONNECTOR;SOURCE_PASSWORD_PROTECTION_ADMIN;SOURCE_PASSWORD_PROTECTION_OPERATIONAL;SOURCE_ENTRA_CONNECT_APPLICATION;SOURCE_POWERSHELL;SOURCE_SYSTEM;SOURCE_ENTRA_CONNECT_TRACE' WHERE \`Property\` = 'SecureCustomProperties'"
else
  sql "INSERT INTO \`Property\` (\`Property\`, \`Value\`) VALUES ('SecureCustomProperties', 'COLLECTOR_URL;ENROLL_TOKEN;SOURCE_SECURITY;SOURCE_PTA_AGENT;SOURCE_PRIVATE_NETWORK_CONNECTOR;SOURCE_PASSWORD_PROTECTION_ADMIN;SOURCE_PASSWORD_PROTECTION_OPERATIONAL;SOURCE_ENTRA_CONNECT_APPLICATION;SOURCE_POWERSHELL;SOURCE_SYSTEM;SOURCE_ENTRA_CONNECT_TRACE')"
fi
sql "INSERT INTO \`Property\` (\`Property\`, \`Value\`) VALUES ('MsiHiddenProperties', 'ENROLL_TOKEN;T0WPrepareDataDir')"
sql "UPDATE \`CustomAction\` SET \`Type\` = 11265 WHERE \`Action\` = 'T0WPrepareDataDir'"
sql "UPDATE \`CustomAction\` SET \`Type\` = 8243 WHERE \`Action\` = 'T0WPrepareDataDirData'"
sql "UPDATE \`InstallExecuteSequence\` SET \`Sequence\` = 1401 WHERE \`Action\` = 'RemoveExistingProducts'"
sql "UPDATE \`InstallExecuteSequence\` SET \`Sequence\` = 4001 WHERE \`Action\` = 'T0WPrepareDataDirData'"
sql "UPDATE \`InstallExecuteSequence\` SET \`Sequence\` = 4002 WHERE \`Action\` = 'T0WPrepareDataDir'"
sql "UPDATE \`InstallExecuteSequence\` SET \`Sequence\` = 5850 WHERE \`Action\` = 'T0WConfigureService'"
sql "UPDATE \`InstallExecuteSequence\` SET \`Sequence\` = 1950 WHERE \`Action\` = 'T0WStopServiceProcess'"

# Checks of the built database: what the installation depends on.
tables=$(msiinfo tables "$tmp")
for t in ServiceInstall ServiceControl CustomAction Upgrade Registry Binary; do
  grep -qx "$t" <<<"$tables" || fail "table $t missing from $tmp"
done
# (msiinfo writes IDT files: CRLF line ends.)
rows() { msiinfo export "$tmp" "$1" | tr -d '\r' | tail -n +4; }
svc=$(rows ServiceInstall)
grep -q $'^Tier0WatchService\tTier0Watch\t' <<<"$svc" || fail "no Tier0Watch row in ServiceInstall: $svc"
# 16 = own process, 2 = auto start, 1 = normal error control.
grep -q $'\t16\t2\t1\t' <<<"$svc" || fail "ServiceInstall is not an auto-start own-process service: $svc"
# 161 = start on install, stop on install and uninstall, delete on uninstall (+2 wait flag: 163).
rows ServiceControl | grep -qE $'^Tier0WatchServiceControl\tTier0Watch\t16[13]\t' ||
  fail "ServiceControl: $(rows ServiceControl)"
actions=$(rows CustomAction)
grep -q $'^T0WPrepareDataDir\t11265\tT0WCustomActions\tT0WPrepareDataDir' <<<"$actions" ||
  fail "T0WPrepareDataDir is not a deferred/no-impersonate/hidden DLL action (11265): $actions"
grep -q $'^T0WPrepareDataDirData\t8243\tT0WPrepareDataDir\t\\[#tier0watch.exe\\]|.*|\\[ENROLL_TOKEN\\]\t' <<<"$actions" ||
  fail "T0WPrepareDataDirData does not set the prepare action's hidden data (8243): $actions"
# No secret on a command line: an EXE action (base type 2, e.g. 18, 34, 50 + flags) passes its
# target to the process.
awk -F'\t' '$2 % 8 == 2 && $4 ~ /ENROLL_TOKEN/' <<<"$actions" | grep -q . &&
  fail "an EXE custom action passes ENROLL_TOKEN on a command line: $actions"
# (Exporting the Binary table writes its streams to Binary/ in the working directory: the stage.)
(cd "$stage" && msiinfo export "$tmp" Binary) | tr -d '\r' | grep -q $'^T0WCustomActions\t' ||
  fail "Binary table has no T0WCustomActions"
grep -q $'^T0WConfigureService\t3090\ttier0watch.exe\tservice configure' <<<"$actions" ||
  fail "T0WConfigureService is not deferred/no-impersonate (3090): $actions"
grep -q $'^T0WStopServiceProcess\t3154\ttier0watch.exe\tservice stop ' <<<"$actions" ||
  fail "T0WStopServiceProcess is not deferred/no-impersonate/return-ignored (3154): $actions"
props=$(rows Property)
grep -q $'^SecureCustomProperties\t.*COLLECTOR_URL;ENROLL_TOKEN' <<<"$props" || fail "SecureCustomProperties"
# The event source switches: each SOURCE_* property is secure and reaches install prepare.
for p in SOURCE_SECURITY SOURCE_PTA_AGENT SOURCE_PRIVATE_NETWORK_CONNECTOR SOURCE_PASSWORD_PROTECTION_ADMIN SOURCE_PASSWORD_PROTECTION_OPERATIONAL SOURCE_ENTRA_CONNECT_APPLICATION SOURCE_POWERSHELL SOURCE_SYSTEM SOURCE_ENTRA_CONNECT_TRACE; do
  grep -q $'^SecureCustomProperties\t.*'"$p" <<<"$props" || fail "SecureCustomProperties lacks $p"
  grep -q -E "^T0WPrepareDataDirData"$'\t'".*[|;][a-z_]+=\\[$p\\][;|]" <<<"$actions" ||
    fail "T0WPrepareDataDirData does not pass $p"
done
grep -q $'^UpgradeCode\t{5E7B2C41-93A8-4F0D-B6C2-7D1E8A4F3B90}$' <<<"$props" || fail "UpgradeCode changed"
grep -q $'^ProductVersion\t'"$version"'$' <<<"$props" || fail "ProductVersion is not $version"
msiinfo suminfo "$tmp" | grep -qx 'Template: x64;1033' || fail "package platform is not x64"
# The execute sequence, in the order the installation and the removal depend on.
seq=$(rows InstallExecuteSequence)
inOrder() {
  local a n prev=0
  for a in "$@"; do
    n=$(awk -F'\t' -v a="$a" '$1 == a {print $3}' <<<"$seq")
    if [ -z "$n" ] || [ "$n" -le "$prev" ]; then
      fail "InstallExecuteSequence: $a ($n) not after $prev: $seq"
    fi
    prev=$n
  done
}
inOrder InstallValidate RemoveExistingProducts InstallInitialize InstallFiles T0WPrepareDataDirData \
  T0WPrepareDataDir \
  InstallServices T0WConfigureService StartServices InstallFinalize
inOrder InstallValidate StopServices T0WStopServiceProcess DeleteServices RemoveFiles
grep -q $'^T0WStopServiceProcess\tREMOVE~="ALL"\t' <<<"$seq" || fail "T0WStopServiceProcess does not run on uninstall only: $seq"

if [ -f "$stage/packs.wxs" ]; then
  want=$(find "$stage/packs" -type f | wc -l)
  have=$(rows File | awk -F'\t' '$3 ~ /\.ya?ml$/ && $3 !~ /tier0watch\.default\.yaml$/' | wc -l)
  [ "$have" -eq "$want" ] || fail "File table holds $have pack files, packs/ has $want"
fi
mv "$tmp" "$OUT"
log "$OUT: $(stat -c %s "$OUT") bytes, ProductVersion $version, tables ok (ServiceInstall, ServiceControl, CustomAction, Upgrade)"
