"""Event-to-stored latency at 2,000 entries/s on the whole path (issue 14): `tier0watch run` tails
a trace file (the one live source on Linux) that this script appends numbered entries to at
2,000 entries/s for SECONDS, with the tier0 pack on and the agent's DEFAULT batch settings (what a
user gets: up to 5,000 events or 1 s per batch; the trace source reads every 1 s), shipping over
HTTPS to the real tier0watch-collector on SQLite.

Per entry: "written" is the time the script's write() + flush() of the slice (5 ms of entries)
holding it returned; "stored" is when a read-only SQLite connection to the collector's database
(WAL: a reader does not block the collector) first saw its row. The database is polled every
5 ms for rows past the last id seen; an entry is mapped back by its number, in the stored body's
message ("latency entry N"). A row seen by a poll was committed before that poll's
query ended and after the previous poll's query started: the printed figures are the upper bound
(poll end); the lower bound is printed too, and the poll interval (the resolution) below the table.
Also printed: written -> the collector's own `received` stamp (its clock when it decoded the
batch, before its transaction: no polling error, but not yet stored).
Caveats: Windows event sources are not measured (no Event Log on Linux). A trace entry is
complete only when the next one starts (or after 2 s without growth), so the last entry of each
of the source's 1 s reading rounds waits for the next round, and the very last entry written waits
the 2 s idle time: that is the max. The poller and the writer share the machine with the agent and
the collector.

usage: latency.py BUILD_DIR [SECONDS=30]
"""
import math
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
from collector_harness import RealCollector  # noqa: E402
from bench_proc import start_tracefile_agent  # noqa: E402

RATE = 2000
SLICE = 0.005  # seconds between two writes of the writer
POLL = 0.005   # seconds between two polls of the database
NUMBER = re.compile(r"latency entry (\d+)")


class Writer:
    """Appends numbered entries at RATE in slices; remembers each entry's write time."""

    def __init__(self, path):
        self.path = path
        with open(path, "w") as f:
            f.write("[00:00:00.000] [  1] [INFO ] Start Time (UTC): Mon, 01 Jan 2024 00:00:00 GMT\n")
        self.mono = []  # entry number -> write time, monotonic
        self.wall = []  # the same, wall clock

    def run(self, seconds):
        start = time.monotonic()
        n = 0
        with open(self.path, "a") as f:
            while True:
                elapsed = time.monotonic() - start
                if elapsed >= seconds:
                    break
                due = int(RATE * elapsed) - n
                if due > 0:
                    lines = ["[00:00:01.000] [  7] [INFO ] latency entry %d\n" % (n + i)
                             for i in range(due)]
                    f.write("".join(lines))
                    f.flush()
                    mono, wall = time.monotonic(), time.time()
                    self.mono.extend([mono] * due)
                    self.wall.extend([wall] * due)
                    n += due
                time.sleep(SLICE)


class Poller:
    """Polls the collector's database read-only for new event rows."""

    def __init__(self, db):
        self.db = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        self.last_id = 0
        self.seen = {}  # entry number -> (lower bound, upper bound, received µs)
        self.others = 0
        self.polls = 0
        self.gaps = []  # upper - lower bound of each poll: its resolution
        self.prev_start = time.monotonic()

    def poll(self):
        start = time.monotonic()
        rows = self.db.execute("SELECT id, body, received FROM events WHERE id > ? ORDER BY id",
                               (self.last_id,)).fetchall()
        end = time.monotonic()
        self.polls += 1
        self.gaps.append(end - self.prev_start)
        for rid, body, received in rows:
            self.last_id = rid
            m = NUMBER.search(body)
            if m is None or int(m.group(1)) in self.seen:  # the header entry, a duplicate
                self.others += 1
            else:
                self.seen[int(m.group(1))] = (self.prev_start, end, received)
        self.prev_start = start


def percentile(values, p):
    """Nearest rank."""
    return values[max(0, math.ceil(p / 100.0 * len(values)) - 1)]


def main():
    build = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
    load = open("/proc/loadavg").read().split()[:3]
    work = tempfile.mkdtemp(prefix="t0w-latency-")
    c = RealCollector(os.path.join(build, "tools", "collector", "tier0watch-collector"),
                      os.path.join(work, "collector"))
    token = c.enroll("latency")
    c.start()
    agent = None
    try:
        folder = os.path.join(work, "AADConnect")
        os.makedirs(folder)
        writer = Writer(os.path.join(folder, "trace-1.log"))
        agent = start_tracefile_agent(build, work, c, token, folder)
        time.sleep(5)  # start-up (rules loaded, the header entry shipped) is not measured
        poller = Poller(os.path.join(c.state, "collector.db"))
        t = threading.Thread(target=writer.run, args=(seconds,))
        t.start()
        deadline = None
        while True:
            poller.poll()
            if not t.is_alive():
                if len(poller.seen) >= len(writer.mono):
                    break
                deadline = deadline or time.monotonic() + 60
                if time.monotonic() > deadline:
                    break
            time.sleep(POLL)
        t.join()
    finally:
        if agent:
            agent.terminate()
            agent.wait(30)
        c.stop()
        shutil.rmtree(work, ignore_errors=True)
    upper, lower, recv = [], [], []
    for i, (lo, hi, received) in poller.seen.items():
        if i >= len(writer.mono):
            continue
        upper.append((hi - writer.mono[i]) * 1000)
        lower.append(max(0.0, lo - writer.mono[i]) * 1000)
        recv.append(received / 1000.0 - writer.wall[i] * 1000)
    n = len(writer.mono)
    print("| %d entries/s for %.0f s, agent defaults, tier0 pack, collector on SQLite | "
          "entries | p50 ms | p99 ms | max ms |" % (RATE, seconds))
    print("|---|---|---|---|---|")
    for name, values in (("written -> stored (upper bound: poll end)", upper),
                         ("written -> stored (lower bound: previous poll start)", lower),
                         ("written -> collector's received stamp (before storing)", recv)):
        values.sort()
        if values:
            print("| %s | %d | %.0f | %.0f | %.0f |" % (
                name, len(values), percentile(values, 50), percentile(values, 99), values[-1]))
    gaps = sorted(poller.gaps)
    print("resolution: %d polls of the database, %.1f ms apart on average (p99 %.1f ms, max "
          "%.1f ms): each entry's true time lies between its two bounds" % (
              len(gaps), 1000 * sum(gaps) / max(1, len(gaps)), 1000 * percentile(gaps, 99),
              1000 * gaps[-1]) if gaps else "resolution: no polls")
    last = n - 1 in poller.seen and (poller.seen[n - 1][1] - writer.mono[n - 1]) * 1000
    print("entries written %d, seen stored %d (other event rows %d); the last entry written: "
          "%s (it waits for the file to be idle 2 s); load average at the start %s" % (
              n, len(upper), poller.others, "%.0f ms" % last if last else "not seen",
              " ".join(load)))
    return 0 if len(upper) == n else 1


if __name__ == "__main__":
    sys.exit(main())
