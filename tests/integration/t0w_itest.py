"""Shared helpers for the Python integration tests (run by CTest, see CMakeLists.txt)."""
import os
import subprocess
import sys
from pathlib import Path

SKIP = 77  # CTest SKIP_RETURN_CODE for these tests


def corpus_or_skip(corpus_dir):
    """The corpus path, or exits: skip (77) normally, fail when T0W_REQUIRE_CORPUS=1."""
    path = Path(corpus_dir)
    if path.is_dir():
        return path
    if os.environ.get("T0W_REQUIRE_CORPUS") == "1":
        print(f"corpus missing at {path}", file=sys.stderr)
        sys.exit(1)
    print(f"public corpus not found at {path} (see README: Tests); skipping")
    sys.exit(SKIP)


def corpus_evtx_files(corpus):
    """Every .evtx the corpus checks cover: evtx-attack-samples and sigma/regression."""
    files = sorted((corpus / "evtx-attack-samples").rglob("*.evtx"))
    files += sorted((corpus / "sigma" / "regression").rglob("*.evtx"))
    return files


def run(args, **kwargs):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          errors="replace", timeout=300, **kwargs)


def evtxexport_count(path):
    """Records evtxexport (libevtx-utils) exports from the file, in its default mode."""
    out = subprocess.run(["evtxexport", "-f", "xml", str(path)], capture_output=True,
                         timeout=300).stdout.decode("utf-8", "replace")
    return sum(1 for line in out.splitlines() if line.startswith("<Event xmlns="))
