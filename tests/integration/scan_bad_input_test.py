"""`tier0watch scan` on bad input: named errors on stderr, good records still printed, exit status
0 (all read) / 1 (some input had errors) / 2 (bad usage); never a crash or a hang."""
import json
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

from t0w_itest import corpus_or_skip, run

failures = []


def check(cond, what, result=None):
    if not cond:
        detail = ""
        if result is not None:
            detail = f" (exit {result.returncode}, stderr: {result.stderr.strip()[-400:]!r})"
        failures.append(what + detail)


def events(result):
    return [json.loads(line) for line in result.stdout.splitlines()]


def main(tier0watch, corpus_dir):
    # Usage errors: exit 2, nothing scanned.
    for args in ([], ["scan"], ["scan", "/nonexistent/x.evtx"], ["scan", "--format", "csv", "."],
                 ["scan", "--no-such-option", "."], ["frobnicate"]):
        r = run([tier0watch] + args)
        check(r.returncode == 2, f"usage {args}: exit 2", r)
        check(r.stdout == "", f"usage {args}: nothing on stdout", r)
    r = run([tier0watch, "--version"])
    check(r.returncode == 0 and r.stdout.startswith("tier0watch "), "--version", r)

    corpus = corpus_or_skip(corpus_dir)
    good = corpus / "evtx-attack-samples" / "CA_DCSync_4662.evtx"  # 3 records
    big = corpus / "evtx-attack-samples" / "ACL_ForcePwd_SPNAdd_User_Computer_Accounts.evtx"

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rnd = random.Random(20240611)
        (tmp / "random.evtx").write_bytes(bytes(rnd.randrange(256) for _ in range(70000)))
        (tmp / "empty.evtx").write_bytes(b"")
        data = big.read_bytes()
        # Header, the first 64 KiB chunk and part of the second.
        (tmp / "truncated.evtx").write_bytes(data[:4096 + 65536 + 20000])
        (tmp / "good.evtx").write_bytes(good.read_bytes())

        # Each bad file alone: exit 1, the file named in an error.
        for name in ("random.evtx", "empty.evtx", "truncated.evtx"):
            r = run([tier0watch, "scan", "--events", tmp / name])
            check(r.returncode == 1, f"{name}: exit 1", r)
            check(f"error: {tmp / name}: " in r.stderr, f"{name}: error names the file", r)
            check("records, " in r.stderr and "errors" in r.stderr, f"{name}: summary line", r)

        # The truncated copy still yields the records before the cut, in order.
        r = run([tier0watch, "scan", "--events", tmp / "truncated.evtx"])
        got = events(r)
        full = events(run([tier0watch, "scan", "--events", big]))
        check(0 < len(got) < len(full), f"truncated: {len(got)} of {len(full)} records", r)
        check([e["System"]["EventRecordID"] for e in got] ==
              [e["System"]["EventRecordID"] for e in full[:len(got)]],
              "truncated: the records read are the intact file's first records", r)

        # An unreadable path inside a directory: a dangling symlink (works as root too), and a
        # file without read permission when not root.
        mixed = tmp / "mixed"
        (mixed / "sub").mkdir(parents=True)
        shutil.copy(tmp / "good.evtx", mixed / "a_good.evtx")
        shutil.copy(tmp / "random.evtx", mixed / "b_random.evtx")
        shutil.copy(tmp / "good.evtx", mixed / "sub" / "c_good.EVTX")
        (mixed / "sub" / "notes.txt").write_text("ignored: not .evtx or .xml")
        (mixed / "d_bad.xml").write_text("<Event><System><EventID>oops")
        os.symlink(tmp / "does-not-exist.evtx", mixed / "e_dangling.evtx")
        unreadable = None
        if os.geteuid() != 0:
            unreadable = mixed / "f_unreadable.evtx"
            shutil.copy(tmp / "good.evtx", unreadable)
            unreadable.chmod(0)

        r = run([tier0watch, "scan", "--events", mixed])
        got = events(r)
        check(r.returncode == 1, "mixed dir: exit 1", r)
        sources = sorted({e["Origin"]["Source"] for e in got})
        check(sources == [str(mixed / "a_good.evtx"), str(mixed / "sub" / "c_good.EVTX")],
              f"mixed dir: events from both good files, got {sources}", r)
        check(len(got) == 6, f"mixed dir: 3 + 3 good records, got {len(got)}", r)
        for bad in ("b_random.evtx", "d_bad.xml", "e_dangling.evtx"):
            check(f"error: {mixed / bad}: " in r.stderr, f"mixed dir: error names {bad}", r)
        if unreadable is not None:
            check(f"error: {unreadable}: " in r.stderr, "mixed dir: error names unreadable", r)
        check("notes.txt" not in r.stdout + r.stderr, "mixed dir: other files are skipped", r)
        check(" 0 errors" not in r.stderr, "mixed dir: summary counts errors", r)

        # Good files only: exit 0; --output writes the same lines to a file; table format.
        out = tmp / "out.jsonl"
        r = run([tier0watch, "scan", "--events", "--output", out, tmp / "good.evtx"])
        check(r.returncode == 0 and r.stdout == "", "--output: exit 0, nothing on stdout", r)
        check(len(out.read_text().splitlines()) == 3, "--output: 3 lines in the file", r)
        r = run([tier0watch, "scan", "--events", "--format", "table", tmp / "good.evtx"])
        lines = r.stdout.splitlines()
        check(r.returncode == 0 and len(lines) == 4 and lines[0].startswith("TIME"),
              "table: header and 3 rows", r)
        check(all(" 4662 " in line for line in lines[1:]), "table: EventID column", r)
        # Not a terminal: no progress output, only the summary.
        r = run([tier0watch, "scan", tmp / "good.evtx"])
        check(r.returncode == 0 and r.stdout == "" and "\r" not in r.stderr and
              r.stderr.strip().startswith("scan: 1 files, 3 records, 0 errors"),
              "no --events: summary only, no progress bar", r)
        # Output that cannot be written: bad usage.
        r = run([tier0watch, "scan", "--events", "--output", tmp / "no" / "dir" / "x", good])
        check(r.returncode == 2, "--output into a missing directory: exit 2", r)

    for f in failures:
        print("FAIL", f)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
