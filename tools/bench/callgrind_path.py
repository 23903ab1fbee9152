"""Instructions per event of the agent's whole path, counted by callgrind: a figure that does not
move with the machine's load, for comparing two builds where CPU seconds are too noisy (on a
shared 2-core VM one binary read 5.3 to 9.5 CPU-s per million within half an hour;
docs/performance.md, tenth run).

The agent runs `run --exit-when-drained` under valgrind --tool=callgrind against the real
collector (stage_bench.full_path), once over a file without events and once over EVENTS events;
the difference divided by EVENTS is the agent's instructions per event, net of start-up and exit.
Counts user-space instructions only: the kernel's work (reads, writes, sends) is not in it, so
pair it with the write volumes or CPU seconds when a change moves I/O.

usage: callgrind_path.py BUILD_DIR [EVENTS=50000] [--keep DIR]   (about a minute at 50,000)
"""
import argparse
import glob
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import stage_bench  # noqa: E402


def instructions(build, work, xml, n, name, out_dir):
    """Ir of every agent process `full_path` starts (callgrind totals, all threads)."""
    orig = stage_bench.measured

    def measured(cmd, **kw):
        return orig(["valgrind", "--tool=callgrind", "--callgrind-out-file=" +
                     os.path.join(out_dir, name + ".%p")] + cmd, **kw)

    stage_bench.measured = measured
    try:
        # (n or 1: the row's per-million figures divide by it; they are not used here)
        _, stored = stage_bench.full_path(build, work, xml, n or 1, name)
    finally:
        stage_bench.measured = orig
    if (stored or 0) != n:
        raise SystemExit("callgrind_path: the collector stored %s of %d events" % (stored, n))
    total = 0
    for path in glob.glob(os.path.join(out_dir, name + ".*")):
        with open(path) as f:
            for line in f:
                if line.startswith(("summary:", "totals:")):
                    total += int(line.split()[1])
                    break
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("events", nargs="?", type=int, default=50000)
    ap.add_argument("--keep", help="copy the callgrind files here (callgrind_annotate them)")
    a = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("callgrind_path: valgrind is not installed (apt-get install valgrind)")
    work = tempfile.mkdtemp(prefix="t0w-callgrind-")
    try:
        xml = os.path.join(work, "sample.xml")
        n = stage_bench.sample(a.build, xml, a.events)
        empty = os.path.join(work, "empty.xml")
        with open(empty, "w") as f:
            f.write("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Events>\n</Events>\n")
        out_dir = os.path.join(work, "callgrind")
        os.makedirs(out_dir)
        base = instructions(a.build, work, empty, 0, "empty", out_dir)
        full = instructions(a.build, work, xml, n, "events", out_dir)
        print("agent instructions: start-up and exit %.1fM; with %d events %.1fM; "
              "%.0f per event, net of start-up" % (base / 1e6, n, full / 1e6, (full - base) / n))
        if a.keep:
            os.makedirs(a.keep, exist_ok=True)
            for path in glob.glob(os.path.join(out_dir, "*")):
                shutil.copy(path, a.keep)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
