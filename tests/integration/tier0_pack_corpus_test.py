"""The built-in tier0 pack over public data: `tier0watch scan --pack tier0` raises exactly the
expected alerts (by rule title, counted) on the named EVTX-ATTACK-SAMPLES recordings, and none on
50,000 events of t0w-samplegen's ordinary DC traffic (--background-only). The corpus is read in
place from ../shared/corpus (skipped when absent, required when T0W_REQUIRE_CORPUS=1).

usage: tier0_pack_corpus_test.py TIER0WATCH T0W_SAMPLEGEN CORPUS_DIR
"""
import collections
import json
import os
import subprocess
import sys
import tempfile

from t0w_itest import corpus_or_skip, run

# What each recording holds and what the pack must say about it.
EXPECTED = {
    # 7 unknown names (4768 0x6) then 2 wrong passwords (4771 0x18) from 172.16.66.1, log cleared.
    "kerberos_pwd_spray_4771.evtx": {
        "Kerberos account enumeration from one source": 1,
        "Kerberos enumeration followed by password guessing from the same source": 1,
        "Event log cleared": 1,
    },
    # 3 x 4662 replication rights exercised by Administrator.
    "CA_DCSync_4662.evtx": {
        "Directory replication (DCSync) by an account that is neither a DC nor the sync account": 3,
    },
    "4794_DSRM_password_change_t1098.evtx": {
        "Directory Services Restore Mode password set": 1,
    },
    # The DC's own computer account changed by ANONYMOUS LOGON after the Netlogon exploit.
    "Zerologon_VoidSec_CVE-2020-1472_4626_LT3_Anonym_follwedby_4742_DC_Anony_DC.evtx": {
        "Computer account changed by an anonymous logon (Zerologon)": 1,
        "Event log cleared": 1,
    },
    # SPN and delegation writes show as 4738/4742 with every listed attribute unchanged (5 users,
    # 1 computer); the DC's own replication (DC1$) and GPO audit-policy refreshes (4719 adding
    # auditing) and SvcRestartTask updates by DC1$ stay silent.
    "ACL_ForcePwd_SPNAdd_User_Computer_Accounts.evtx": {
        "Account changed in attributes the event does not list": 6,
        "Event log cleared": 1,
    },
    # A workstation's interactive logon failure and success: nothing for a Tier 0 pack.
    "CA_4624_4625_LogonType2_LogonProc_chrome.evtx": {},
}


def alerts_of(tier0watch, path):
    result = run([tier0watch, "scan", "--pack", "tier0", path])
    if result.returncode != 0 or "0 rejected" not in result.stderr:
        raise AssertionError(f"{path}: exit {result.returncode}: {result.stderr[-1500:]}")
    counts = collections.Counter()
    for line in result.stdout.splitlines():
        counts[json.loads(line)["rule_title"]] += 1
    return dict(counts)


def main(tier0watch, samplegen, corpus_dir):
    corpus = corpus_or_skip(corpus_dir)
    failures = []
    for name, expected in EXPECTED.items():
        path = corpus / "evtx-attack-samples" / name
        if not path.exists():
            failures.append(f"{name}: missing from the corpus")
            continue
        got = alerts_of(tier0watch, path)
        print(f"{name}: {sum(got.values())} alerts {got}")
        if got != expected:
            failures.append(f"{name}: expected {expected}, got {got}")
    with tempfile.TemporaryDirectory(prefix="t0w-pack-") as work:
        sample = os.path.join(work, "background.xml")
        subprocess.run([samplegen, "--seed", "7", "--background-only", "--background", "50000",
                        "--output", sample], check=True)
        got = alerts_of(tier0watch, sample)
        print(f"t0w-samplegen --background-only --background 50000: {sum(got.values())} alerts {got}")
        if got:
            failures.append(f"background traffic raised alerts: {got}")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3]))
