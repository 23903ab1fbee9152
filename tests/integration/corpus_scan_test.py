"""For every corpus .evtx: `tier0watch scan --events` prints as many events as evtxexport exports,
reports no errors and exits 0."""
import json
import sys

from t0w_itest import corpus_evtx_files, corpus_or_skip, evtxexport_count, run


def main(tier0watch, corpus_dir):
    corpus = corpus_or_skip(corpus_dir)
    files = corpus_evtx_files(corpus)
    if not files:
        print(f"no .evtx files under {corpus}")
        return 1
    failures = []
    total = 0
    for f in files:
        result = run([tier0watch, "scan", "--events", f])
        lines = result.stdout.splitlines()
        expected = evtxexport_count(f)
        total += len(lines)
        problems = []
        if result.returncode != 0:
            problems.append(f"exit {result.returncode}")
        if "error:" in result.stderr:
            problems.append("errors: " + result.stderr.strip().splitlines()[0])
        if len(lines) != expected:
            problems.append(f"{len(lines)} events, evtxexport exports {expected}")
        positions = [json.loads(line)["Origin"]["Position"] for line in lines]
        if positions != list(range(len(lines))):
            problems.append("Origin.Position is not the record index")
        if f"{len(lines)} records, 0 errors" not in result.stderr:
            problems.append("summary line missing or wrong: " + result.stderr.strip()[-200:])
        if problems:
            failures.append(f"{f}: " + "; ".join(problems))
    print(f"{len(files)} files, {total} records compared with evtxexport")
    for line in failures:
        print("FAIL", line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
