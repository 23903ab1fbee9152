"""Validates every JSON line `tier0watch scan --events` writes for the corpus (and for the
generated DC sample) against schemas/event.schema.json."""
import copy
import json
import sys
import tempfile
from pathlib import Path

import jsonschema

from t0w_itest import corpus_evtx_files, corpus_or_skip, run


def check_lines(validator, lines, label):
    bad = 0
    for n, line in enumerate(lines):
        for error in validator.iter_errors(json.loads(line)):
            bad += 1
            if bad <= 5:
                print(f"{label}: line {n + 1}: {error.json_path}: {error.message[:200]}")
    return bad


def main(tier0watch, samplegen, schema_path, corpus_dir):
    schema = json.loads(Path(schema_path).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)

    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp) / "sample.xml"
        gen = run([samplegen, "--seed", "7", "--output", sample])
        if gen.returncode != 0:
            print("sample generator failed:", gen.stderr)
            return 1
        result = run([tier0watch, "scan", "--events", sample])
        if result.returncode != 0 or not result.stdout:
            print("scan of the sample failed:", result.stderr)
            return 1
        sample_lines = result.stdout.splitlines()
    bad = check_lines(validator, sample_lines, "sample")

    # The schema must reject what eventToJson never writes, or this test proves nothing.
    good = json.loads(sample_lines[0])
    mutants = []
    for path, value in [(("System", "Keywords"), "8020"), (("System", "TimeCreated"), "2019-01-01"),
                        (("System", "EventID"), -1), (("Origin", "Position"), "0"),
                        (("System", "Unknown"), 1)]:
        m = copy.deepcopy(good)
        m[path[0]][path[1]] = value
        mutants.append(m)
    m = copy.deepcopy(good)
    del m["Origin"]
    mutants.append(m)
    m = copy.deepcopy(good)
    m["EventData"] = {"A": ["only one"]}
    mutants.append(m)
    for i, m in enumerate(mutants):
        if validator.is_valid(m):
            print(f"schema accepts invalid document #{i}")
            bad += 1

    corpus = corpus_or_skip(corpus_dir)
    files = corpus_evtx_files(corpus)
    result = run([tier0watch, "scan", "--events"] + files)
    lines = result.stdout.splitlines()
    if result.returncode != 0 or not lines:
        print("scan of the corpus failed:", result.stderr[-500:])
        return 1
    bad += check_lines(validator, lines, "corpus")
    print(f"validated {len(sample_lines)} sample and {len(lines)} corpus events: {bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
