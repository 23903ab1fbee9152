#!/usr/bin/env bash
# Installs, upgrades and removes tier0watch.msi under Wine, the way an administrator would
# (docs/deployment.md; what Wine cannot show: docs/windows-verification.md, "MSI"):
#   1. silent install with COLLECTOR_URL and ENROLL_TOKEN; files, data directory and its DACL,
#      registry values, the token kept out of the installer log; service RUNNING
#   2. Group Policy values (HKLM\SOFTWARE\Policies\Tier0Watch) in the effective configuration
#   3. the service ships a sample to the native t0w-fake-collector over WinHTTP + TLS (CA trusted in
#      the prefix's LocalMachine\Root with t0w-trust-ca.exe; the collector demands the token)
#   4. major upgrade to a higher version while events wait in the queue (collector down): queue,
#      configuration, token and agent id survive, and the queued events arrive afterwards
#   5. uninstall: service and program files gone, data directory kept
# Prints one "ok - ..." / "FAIL - ..." line per check and "msi-test: N passed, M failed" last.
#
#   T0W_WIN64_BUILD_DIR          tier0watch.msi (scripts/windows/msi.sh), t0w-trust-ca.exe
#                                (default build-win64)
#   T0W_MSI_WINEPREFIX           dedicated Wine prefix, recreated on every run so that nothing
#                                from a previous install remains (default
#                                /var/cache/tier0watch/wine64-msi; the unit tests' prefix is
#                                never touched)
#   T0W_NATIVE_FAKES_BUILD_DIR   native build with tests/fakes/t0w-fake-collector
#                                (default build-wine-fakes, built by scripts/windows/test.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${T0W_WIN64_BUILD_DIR:-build-win64}
MSI=$BUILD_DIR/tier0watch.msi
UPGRADE_MSI=$BUILD_DIR/tier0watch-upgrade.msi
FAKE=${T0W_NATIVE_FAKES_BUILD_DIR:-build-wine-fakes}/tests/fakes/t0w-fake-collector
TOKEN=t0w-msi-test-$RANDOM$RANDOM
log() { printf '[msi-test %(%H:%M:%S)T] %s\n' -1 "$*"; }
passed=0 failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
bad() { echo "FAIL - $*"; failed=$((failed + 1)); }
check() {
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
finish() { echo "msi-test: $passed passed, $failed failed"; }
abort() {
  bad "$*"
  finish
  exit 1
}

[ -f "$MSI" ] || abort "$MSI missing (scripts/windows/msi.sh builds it)"
[ -x "$FAKE" ] || abort "$FAKE missing (scripts/windows/test.sh builds it)"
work=$(mktemp -d /tmp/t0w-msi-test.XXXXXX)

# The upgrade package: the same sources with the build field one higher (FindRelatedProducts
# compares major.minor.build only).
version=$(msiinfo export "$MSI" Property | tr -d '\r' | awk -F'\t' '$1 == "ProductVersion" {print $2}')
IFS=. read -r vmaj vmin vbuild <<<"$version"
up_version=$vmaj.$vmin.$((vbuild + 1))
T0W_MSI_VERSION=$up_version T0W_MSI_OUT=$UPGRADE_MSI scripts/windows/msi.sh >/dev/null ||
  abort "building the upgrade package $up_version"

# Wine: a fresh prefix of our own, one kept-alive wineserver (as in test.sh).
export WINEPREFIX=${T0W_MSI_WINEPREFIX:-/var/cache/tier0watch/wine64-msi}
export WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
mkdir -p "$(dirname "$WINEPREFIX")"
exec 8>"$WINEPREFIX.lock"
flock 8
fake_pid=""
LOG_DIR=$BUILD_DIR/msi-test-logs
cleanup() {
  [ -z "$fake_pid" ] || kill "$fake_pid" 2>/dev/null || true
  wineserver -k 2>/dev/null || true
  # The installer logs (msiexec /l*v), the collector's records and the agent's install.log stay
  # for a look after a failure.
  rm -rf "$LOG_DIR"
  mkdir -p "$LOG_DIR"
  cp -r "$work"/. "$LOG_DIR"/ 2>/dev/null || true
  cp "$WINEPREFIX/drive_c/ProgramData/Tier0Watch/logs/"* "$LOG_DIR"/ 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
log "fresh Wine prefix $WINEPREFIX"
rm -rf "$WINEPREFIX"
wineboot -i </dev/null >/dev/null 2>&1 8>&-
wineserver -w
wineserver -p </dev/null >/dev/null 2>&1 8>&-
# services.exe and friends outlive the first process: start them detached from our pipes.
wine cmd.exe /c exit </dev/null >/dev/null 2>&1 8>&-

# `w CMD...`: a Wine command, output without CR; its exit status is kept.
w() {
  local out rc=0
  out=$(wine "$@" </dev/null 2>&1 8>&-) || rc=$?
  printf '%s\n' "${out//$'\r'/}"
  return $rc
}
dos() { local p; p=$(realpath "$1"); printf 'Z:%s' "${p//\//\\}"; }
C=$WINEPREFIX/drive_c
PF="$C/Program Files/Tier0Watch"
DATA=$C/ProgramData/Tier0Watch
INSTALLED_EXE='C:\Program Files\Tier0Watch\tier0watch.exe'
CONFIG='C:\ProgramData\Tier0Watch\tier0watch.yaml'

service_state() { w sc query Tier0Watch | awk '/STATE/ {print $4; exit}'; }
# Bounded wait (the SCM reports asynchronously): up to $2 seconds for state $1.
wait_state() {
  local want=$1 i
  for ((i = 0; i < $2 * 2; i++)); do
    [ "$(service_state)" = "$want" ] && return 0
    sleep 0.5
  done
  return 1
}

start_collector() {
  : >"$work/fake.out"
  "$FAKE" --dir "$work/collector" --require-token "$TOKEN" "$@" >"$work/fake.out" 2>"$work/fake.err" &
  fake_pid=$!
  local i
  for ((i = 0; i < 60; i++)); do
    [ -s "$work/fake.out" ] && return 0
    sleep 0.5
  done
  return 1
}
stop_collector() {
  kill "$fake_pid" 2>/dev/null || true
  wait "$fake_pid" 2>/dev/null || true
  fake_pid=""
}
fake_field() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())[sys.argv[2]])' "$work/fake.out" "$1"; }
# Records accepted (HTTP 200) whose event has EventID $1, over every stored request body.
shipped_events() {
  python3 - "$work/collector/requests.jsonl" "$1" <<'PY'
import json, sys
n = 0
try:
    lines = open(sys.argv[1]).read().splitlines()
except FileNotFoundError:
    lines = []
for line in lines:
    r = json.loads(line)
    if r.get("status") != 200 or "body_file" not in r:
        continue
    for rec in json.load(open(r["body_file"])).get("records", []):
        text = json.dumps(rec, separators=(",", ":"))
        if '"EventID":%s' % sys.argv[2] in text or '"EventID":"%s"' % sys.argv[2] in text:
            n += 1
print(n)
PY
}
wait_shipped() {
  local id=$1 want=$2 i
  for ((i = 0; i < $3 * 2; i++)); do
    [ "$(shipped_events "$id")" -ge "$want" ] && return 0
    sleep 0.5
  done
  return 1
}

log "collector and trust"
mkdir -p "$work/collector"
start_collector || abort "t0w-fake-collector did not start: $(cat "$work/fake.err")"
port=$(fake_field port)
ca=$(fake_field ca_cert)
WINEPREFIX=$WINEPREFIX T0W_WIN64_BUILD_DIR=$BUILD_DIR scripts/windows/trust-ca.sh add "$ca" >/dev/null 8>&- ||
  abort "t0w-trust-ca add $ca"
# Wine's EvtCreateBookmark is a stub that raises: the Security subscription is switched off by
# policy here (Windows runs it; docs/windows-verification.md).
w reg add 'HKLM\SOFTWARE\Policies\Tier0Watch\Channels' /v Security /t REG_DWORD /d 0 /f >/dev/null ||
  abort "reg add Channels\\Security"

# 1. Silent install.
log "msiexec /i $MSI (version $version)"
# localhost, not 127.0.0.1: Wine's TLS name check ignores IP subjectAltNames (windows-verification.md).
url="https://localhost:$port/"
rc=0
# The new default channels are switched off with the SOURCE_* properties (same reason as
# Security above), which also checks that the properties reach tier0watch.yaml.
off=(SOURCE_PTA_AGENT=0 SOURCE_PRIVATE_NETWORK_CONNECTOR=0 SOURCE_PASSWORD_PROTECTION_ADMIN=0
  SOURCE_PASSWORD_PROTECTION_OPERATIONAL=0 SOURCE_ENTRA_CONNECT_APPLICATION=0 SOURCE_POWERSHELL=0
  SOURCE_SYSTEM=0)
w msiexec /i "$(dos "$MSI")" /qn /l*v "$(dos "$work")\\msiexec-install.log" "COLLECTOR_URL=$url" \
  "ENROLL_TOKEN=$TOKEN" "${off[@]}" >"$work/msiexec.out" || rc=$?
[ "$rc" -eq 0 ] || abort "msiexec /i exited $rc: $(cat "$work/msiexec.out"); log: $(grep -a -i -E 'error|fail|return value 3' "$work/msiexec-install.log" | head -20)"
ok "msiexec /i /qn COLLECTOR_URL=... ENROLL_TOKEN=... exited 0"
check "program files: tier0watch.exe, tier0watch.default.yaml" \
  test -f "$PF/tier0watch.exe" -a -f "$PF/tier0watch.default.yaml"
if [ -f installer/admx/Tier0Watch.admx ]; then
  check "program files: admx/Tier0Watch.admx, admx/en-US/Tier0Watch.adml" \
    test -f "$PF/admx/Tier0Watch.admx" -a -f "$PF/admx/en-US/Tier0Watch.adml"
fi
if [ -d packs ]; then
  check "program files: every rule pack file under packs/ ($(find packs -type f | wc -l))" \
    test "$(cd "$PF" && find packs -type f 2>/dev/null | wc -l)" -eq "$(find packs -type f | wc -l)"
fi
check "data dir: state/, logs/install.log" test -d "$DATA/state" -a -f "$DATA/logs/install.log"
check "config created with collector.url $url" grep -qx "  url: \"$url\"" "$DATA/tier0watch.yaml"
for key in pta_agent_admin private_network_connector_admin password_protection_admin \
  password_protection_operational entra_connect_application powershell_script_block \
  system_service_and_clear; do
  check "config: windows.$key false from its SOURCE_* property" \
    grep -q -E "^  $key: false" "$DATA/tier0watch.yaml"
done
check "token file holds ENROLL_TOKEN" test "$(tr -d '\r\n' <"$DATA/collector.token")" = "$TOKEN"
# Wine ignores MsiHiddenProperties in the property dump at the end of the log ("Property(S):
# ENROLL_TOKEN = ..." and the prepare action's data; Windows writes "**********"): those lines
# are the ones allowed here.
check "the token is in no installer log line but Wine's property dump" \
  bash -c "! grep -a '$TOKEN' '$work/msiexec-install.log' | grep -a -v -q -E '^Property\\(S\\): (ENROLL_TOKEN|T0WPrepareDataDir) = '"
# The prepare step is a DLL action that hands the token to tier0watch.exe on stdin (never on a
# command line, which 4688 would record): its output reaches the log through the MSI handle.
check "T0WPrepareDataDir (DLL) ran install prepare and wrote the token file" \
  grep -a -q '^T0WPrepareDataDir: .*collector.token: enrolment token written' "$work/msiexec-install.log"
check "no command line in the installer log carries the token (prepare reads it from stdin)" \
  bash -c "! grep -a -E 'CommandLine|--token ' '$work/msiexec-install.log' | grep -a -q '$TOKEN'"
check "registry HKLM\\SOFTWARE\\Tier0Watch Version $version" \
  bash -c "wine reg query 'HKLM\\SOFTWARE\\Tier0Watch' /v Version </dev/null 2>/dev/null 8>&- | grep -q '$version'"
# Wine 8 keeps no file DACL (no security xattr; SetNamedSecurityInfoW succeeds, the DACL read
# back is the one derived from the Unix mode): `install verify` must see through that and refuse
# it. Windows: docs/windows-verification.md, "MSI", step 4.
verify=$(w "$INSTALLED_EXE" install verify --data-dir 'C:\ProgramData\Tier0Watch') && vrc=0 || vrc=$?
echo "  $verify"
refused() { [ "$vrc" -ne 0 ] && grep -q 'inherits from the parent folder' <<<"$verify"; }
check "install verify reads the DACL back and refuses Wine's unprotected one" refused
image=$(w reg query 'HKLM\SYSTEM\CurrentControlSet\Services\Tier0Watch' /v ImagePath | awk -F'REG_(EXPAND_)?SZ +' 'NF > 1 {print $2}')
echo "  ImagePath: $image"
check "service command line quoted: \"...tier0watch.exe\" service run --config" \
  grep -q '^"C:\\Program Files\\Tier0Watch\\tier0watch.exe" service run --config ' <<<"$image"
check "service RUNNING after install" wait_state RUNNING 60

# 2. Group Policy in the effective configuration.
if w "$INSTALLED_EXE" config --help >/dev/null; then
  w reg add 'HKLM\SOFTWARE\Policies\Tier0Watch' /v LogLevel /t REG_SZ /d debug /f >/dev/null
  shown=$(w "$INSTALLED_EXE" config show --config "$CONFIG") || true
  echo "$shown" | grep -i -E 'log_level|channels|security' | sed 's/^/  /'
  check "config show: agent.log_level debug from policy LogLevel" \
    grep -q -E 'agent\.log_level.*debug.*LogLevel' <<<"$shown"
  check "config show: windows.security false from policy Channels\\Security" \
    grep -q -E 'windows\.security.*false.*Security' <<<"$shown"
else
  bad "tier0watch.exe has no 'config show' command: Group Policy overlay not checked"
fi

# 3. A sample shipped over WinHTTP + TLS: the administrator adds a source, restarts the service.
# Wine's StopServices does not wait for STOPPED (Windows waits up to 30 s, ServiceControl.Wait):
# a stop that flushes for up to 10 s (collector down) would overlap the next install step. The
# test stops without flushing; the queue keeps what was not shipped either way.
sed -i 's/^  shutdown_deadline_ms: .*/  shutdown_deadline_ms: 0/' "$DATA/tier0watch.yaml"
cp tests/data/eventlog/dcagent_10016.xml "$DATA/sample-10016.xml"
# Retries capped at 2 s (default 5 min) so that the delivery after the upgrade is prompt.
printf '\nretry:\n  backoff_cap_ms: 2000\nsources:\n  - xml:\n      path: sample-10016.xml\n' \
  >>"$DATA/tier0watch.yaml"
w sc stop Tier0Watch >/dev/null || true
check "service STOPPED on sc stop" wait_state STOPPED 60
w sc start Tier0Watch >/dev/null || true
check "service RUNNING on sc start" wait_state RUNNING 60
check "collector received the sample (EventID 10016) with the enrolment token" wait_shipped 10016 1 60

# 4. Upgrade while events wait in the queue.
stop_collector
cp tests/data/eventlog/dcagent_10016.xml "$DATA/sample-queued.xml"
printf '  - xml:\n      path: sample-queued.xml\n' >>"$DATA/tier0watch.yaml"
echo "# msi-test: the administrator's edit" >>"$DATA/tier0watch.yaml"
w sc stop Tier0Watch >/dev/null || true
wait_state STOPPED 60 || true
w sc start Tier0Watch >/dev/null || true
wait_state RUNNING 60 || true
depth=0
for ((i = 0; i < 120; i++)); do
  st=$(w "$INSTALLED_EXE" status --config "$CONFIG" --json) || true
  depth=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["queue"]["events"])' <<<"$st" 2>/dev/null || echo 0)
  [ "$depth" -gt 0 ] && break
  sleep 0.5
done
check "events queued while the collector is down (depth $depth)" test "$depth" -gt 0
agent_id=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["agent_id"])' <<<"$st" 2>/dev/null || true)
config_before=$(md5sum <"$DATA/tier0watch.yaml")

log "msiexec /i $UPGRADE_MSI (version $up_version)"
rc=0
w msiexec /i "$(dos "$UPGRADE_MSI")" /qn /l*v "$(dos "$work")\\msiexec-upgrade.log" >"$work/msiexec.out" || rc=$?
check "upgrade msiexec /i (no properties) exited 0" test "$rc" -eq 0
check "registry Version $up_version after upgrade" \
  bash -c "wine reg query 'HKLM\\SOFTWARE\\Tier0Watch' /v Version </dev/null 2>/dev/null 8>&- | grep -q '$up_version'"
check "one product with our UpgradeCode remains (old one removed)" \
  bash -c "[ \"\$(wine reg query 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall' /s </dev/null 2>/dev/null 8>&- | grep -c 'DisplayName.*Tier0Watch')\" -eq 1 ]"
check "config kept byte for byte by the upgrade" test "$(md5sum <"$DATA/tier0watch.yaml")" = "$config_before"
check "token kept by the upgrade" test "$(tr -d '\r\n' <"$DATA/collector.token")" = "$TOKEN"
check "service RUNNING after upgrade" wait_state RUNNING 60
st=$(w "$INSTALLED_EXE" status --config "$CONFIG" --json) || true
after_id=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["agent_id"])' <<<"$st" 2>/dev/null || true)
after_depth=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["queue"]["events"])' <<<"$st" 2>/dev/null || echo 0)
check "queue kept by the upgrade (depth $depth before, $after_depth after), same agent id" \
  test "$after_depth" -ge "$depth" -a -n "$agent_id" -a "$agent_id" = "$after_id"
# The fake starts a new record file: keep the first one's.
mv "$work/collector/requests.jsonl" "$work/collector/requests-before-upgrade.jsonl"
start_collector --port "$port" --keep-pki || abort "t0w-fake-collector did not restart"
check "queued events delivered after the upgrade" wait_shipped 10016 1 120

# 5. Uninstall by product code, like ConfigMgr and Intune do.
code=$(msiinfo export "$UPGRADE_MSI" Property | tr -d '\r' | awk -F'\t' '$1 == "ProductCode" {print $2}')
log "msiexec /x $code"
rc=0
w msiexec /x "$code" /qn /l*v "$(dos "$work")\\msiexec-uninstall.log" >"$work/msiexec.out" || rc=$?
check "msiexec /x $code exited 0" test "$rc" -eq 0
# Wine's StopServices returns at once: without this action the service process still mapped
# tier0watch.exe when RemoveFiles ran, and the file stayed (installer/wix/tier0watch.wxs).
check "uninstall waited for the service process (T0WStopServiceProcess ran)" \
  grep -a -q -E 'Action start [0-9:]+: T0WStopServiceProcess\.' "$work/msiexec-uninstall.log"
# (Wine processes carry their Windows command line, visible to pgrep.)
check "no tier0watch.exe service process left" bash -c "! pgrep -f -i 'tier0watch.exe.? service run'"
check "service deleted (sc query fails)" bash -c "! wine sc query Tier0Watch </dev/null >/dev/null 2>&1 8>&-"
check "program files removed" test ! -e "$PF"
check "HKLM\\SOFTWARE\\Tier0Watch removed" \
  bash -c "! wine reg query 'HKLM\\SOFTWARE\\Tier0Watch' </dev/null >/dev/null 2>&1 8>&-"
check "data dir kept (config, token, queue)" \
  test -f "$DATA/tier0watch.yaml" -a -f "$DATA/collector.token" -a -f "$DATA/state/queue.db"

finish
[ "$failed" -eq 0 ]
