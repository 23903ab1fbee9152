"""SigmaHQ regression cases: for every sigma/regression/**/info.yml, `tier0watch scan --rules
<rule file> <evtx>` must print at least `match_count` alerts (1 when not given) for the rule the
case names. Passes when at least 98 % of the in-scope cases pass; lists every failing case.

Cases whose data is not an .evtx file (e.g. rules/cisco, raw syslog) are out of scope: counted and
reported, not run."""
import json
import re
import sys
from pathlib import Path

from t0w_itest import corpus_or_skip, run

PASS_RATE = 0.98
RULE_TREES = ("rules", "rules-emerging-threats", "rules-threat-hunting")
ID_LINE = re.compile(r"^id:\s*['\"]?([0-9A-Za-z-]+)", re.M)


def rule_files_by_id(sigma):
    index = {}
    for tree in RULE_TREES:
        for f in sorted((sigma / tree).rglob("*.yml")):
            m = ID_LINE.search(f.read_text(encoding="utf-8", errors="replace"))
            if m:
                index.setdefault(m.group(1), f)
    return index


def parse_info(path):
    """The few keys needed from info.yml (rule id, test paths, match counts), read without a YAML
    dependency: the files are machine-written with a fixed layout."""
    text = path.read_text(encoding="utf-8", errors="replace")
    meta = re.search(r"rule_metadata:\s*\n\s*-\s*id:\s*['\"]?([0-9A-Za-z-]+)", text)
    tests = []
    block = text.split("regression_tests_info:", 1)[1] if "regression_tests_info:" in text else ""
    for item in re.split(r"\n\s*-\s+(?=name:)", "\n" + block)[1:]:
        t = {}
        for key in ("type", "path", "match_count"):
            m = re.search(rf"^\s*{key}:\s*(.+?)\s*$", item, re.M)
            if m:
                t[key] = m.group(1).strip("'\"")
        tests.append(t)
    return (meta.group(1) if meta else None), tests


def evtx_for(regression, case_dir, rel):
    """info.yml paths read `regression_data/<tree>/...`; the corpus stores them under
    `regression/<tree>/...`. Fall back to the .evtx beside info.yml."""
    parts = Path(rel).parts
    if parts and parts[0] == "regression_data":
        candidate = regression.joinpath(*parts[1:])
        if candidate.is_file():
            return candidate
    beside = sorted(case_dir.glob("*.evtx"))
    return beside[0] if beside else None


def main(tier0watch, corpus_dir):
    corpus = corpus_or_skip(corpus_dir)
    sigma = corpus / "sigma"
    regression = sigma / "regression"
    index = rule_files_by_id(sigma)
    cases = sorted(regression.rglob("info.yml"))
    if not cases:
        print(f"no regression cases under {regression}")
        return 1
    passed, failures, out_of_scope, missing_rule = 0, [], [], []
    for info in cases:
        rule_id, tests = parse_info(info)
        evtx_tests = [t for t in tests if t.get("type", "evtx") == "evtx"]
        if not evtx_tests:
            out_of_scope.append(f"{info.parent.relative_to(regression)}: no evtx test")
            continue
        rule_file = index.get(rule_id)
        for t in evtx_tests:
            name = f"{info.parent.relative_to(regression)} (rule {rule_id})"
            evtx = evtx_for(regression, info.parent, t.get("path", ""))
            if rule_file is None:
                # The corpus is a subset of SigmaHQ: some cases name rules it does not carry.
                missing_rule.append(f"{name}: rule not in the corpus rule trees")
                continue
            if evtx is None:
                failures.append(f"{name}: .evtx not found")
                continue
            expected = int(t.get("match_count", 1) or 1)
            result = run([tier0watch, "scan", "--rules", rule_file, evtx])
            alerts = 0
            for line in result.stdout.splitlines():
                try:
                    if json.loads(line).get("rule_id") == rule_id:
                        alerts += 1
                except ValueError:
                    pass
            if result.returncode != 0 or alerts < expected:
                reason = result.stderr.strip().splitlines()[-1:] if result.returncode else []
                failures.append(f"{name}: {alerts} alerts, expected >= {expected}; exit "
                                f"{result.returncode} {' '.join(reason)}")
            else:
                passed += 1
    total = passed + len(failures)
    rate = passed / total if total else 0.0
    print(f"{total} cases run, {passed} passed ({rate:.1%}), {len(failures)} failed, "
          f"{len(out_of_scope)} out of scope, {len(missing_rule)} without their rule in the corpus")
    for line in out_of_scope:
        print("OUT OF SCOPE", line)
    for line in missing_rule:
        print("NO RULE", line)
    for line in failures:
        print("FAIL", line)
    return 0 if rate >= PASS_RATE else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
