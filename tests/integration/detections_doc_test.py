"""docs/detections.md is exactly what `tier0watch rules coverage` prints for the tier0 pack and
its fixtures, so the document cannot drift from the rules. Run from the project root.

To regenerate after changing the pack:
    build/agent/tier0watch rules coverage --pack packs/tier0 --tests tests/data/packs/tier0 \\
        > docs/detections.md

usage: detections_doc_test.py TIER0WATCH
"""
import difflib
import subprocess
import sys

COMMAND = ["rules", "coverage", "--pack", "packs/tier0", "--tests", "tests/data/packs/tier0"]


def main(tier0watch):
    result = subprocess.run([tier0watch] + COMMAND, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        print(result.stderr[-3000:])
        print(f"rules coverage exited {result.returncode}")
        return 1
    with open("docs/detections.md", encoding="utf-8") as f:
        committed = f.read()
    if committed == result.stdout:
        print("docs/detections.md matches `tier0watch " + " ".join(COMMAND) + "`")
        return 0
    diff = difflib.unified_diff(committed.splitlines(), result.stdout.splitlines(),
                                "docs/detections.md", "rules coverage", lineterm="", n=1)
    print("\n".join(list(diff)[:80]))
    print("docs/detections.md differs from the coverage output; regenerate it (see this script)")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
