"""Validates every alert line `tier0watch scan --rules` prints for the SigmaHQ regression .evtx
files (all Windows rules loaded) against schemas/alert.schema.json (which refers to
event.schema.json for the embedded event)."""
import json
import sys
from pathlib import Path

import jsonschema
from referencing import Registry, Resource

from t0w_itest import corpus_or_skip, run


def main(tier0watch, schema_dir, corpus_dir):
    corpus = corpus_or_skip(corpus_dir)
    schema_dir = Path(schema_dir)
    alert = json.loads((schema_dir / "alert.schema.json").read_text())
    event = json.loads((schema_dir / "event.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(alert)
    registry = Registry().with_resources([
        (alert["$id"], Resource.from_contents(alert)),
        (event["$id"], Resource.from_contents(event)),
    ])
    validator = jsonschema.Draft202012Validator(alert, registry=registry)

    sigma = corpus / "sigma"
    rules = [sigma / d for d in ("rules/windows", "rules-emerging-threats", "rules-threat-hunting")]
    args = [tier0watch, "scan"]
    for r in rules:
        args += ["--rules", r]
    result = run(args + [sigma / "regression"])
    if result.returncode != 0:
        print("scan failed:", result.stderr[-2000:])
        return 1
    lines = result.stdout.splitlines()
    bad = 0
    for n, line in enumerate(lines):
        for error in validator.iter_errors(json.loads(line)):
            bad += 1
            if bad <= 5:
                print(f"line {n + 1}: {error.json_path}: {error.message[:200]}")
    print(f"{len(lines)} alerts checked, {bad} schema errors")
    return 0 if lines and bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3]))
