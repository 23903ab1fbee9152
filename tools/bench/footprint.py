"""The agent's footprint at rest and at a DC's pace (issue 14, item 5): `tier0watch run` tails a
trace file (the one live source on Linux) that this script appends to at 100, 2,000 and 20,000
entries/s for SECONDS each, with the tier0 pack on, shipping to the real tier0watch-collector.
Prints, per phase, the agent's CPU as a percentage of one core (/proc/<pid>/stat over the phase)
and its peak RSS (VmRSS sampled every 0.5 s), then checks that the collector stored every entry.
Caveat: Windows event sources are not measured here (no Event Log on Linux); a trace entry is
parsed by the trace-file reader instead of the event XML parser.

usage: footprint.py BUILD_DIR [SECONDS=60]
"""
import os
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
from collector_harness import RealCollector  # noqa: E402
from agent_harness import wait_until  # noqa: E402
from bench_proc import cpu_seconds, start_tracefile_agent, status_mib  # noqa: E402


class Writer:
    """Appends numbered trace entries at a steady rate, in slices of 10 ms."""

    def __init__(self, path):
        self.path = path
        self.written = 0
        with open(path, "w") as f:
            f.write("[00:00:00.000] [  1] [INFO ] Start Time (UTC): Mon, 01 Jan 2024 00:00:00 GMT\n")

    def run(self, rate, seconds):
        start = time.monotonic()
        phase_written = 0
        with open(self.path, "a") as f:
            while True:
                elapsed = time.monotonic() - start
                if elapsed >= seconds:
                    break
                due = int(rate * elapsed) - phase_written
                if due > 0:
                    f.write("".join("[00:00:01.000] [  7] [INFO ] footprint entry %d\n" %
                                    (self.written + i) for i in range(due)))
                    f.flush()
                    self.written += due
                    phase_written += due
                time.sleep(0.01)


def measure(pid, seconds, work=None):
    """(CPU % of one core, peak RSS MiB) over `seconds`, running `work` meanwhile."""
    peak = [status_mib(pid, "VmRSS")]
    done = threading.Event()

    def sample():
        while not done.wait(0.5):
            peak[0] = max(peak[0], status_mib(pid, "VmRSS"))

    t = threading.Thread(target=sample)
    t.start()
    c0, w0 = cpu_seconds(pid), time.monotonic()
    if work:
        work()
    else:
        time.sleep(seconds)
    c1, w1 = cpu_seconds(pid), time.monotonic()
    done.set()
    t.join()
    return 100.0 * (c1 - c0) / (w1 - w0), peak[0]


def main():
    build = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    work = tempfile.mkdtemp(prefix="t0w-footprint-")
    c = RealCollector(os.path.join(build, "tools", "collector", "tier0watch-collector"),
                      os.path.join(work, "collector"))
    token = c.enroll("footprint")
    c.start()
    agent = None
    try:
        folder = os.path.join(work, "AADConnect")
        os.makedirs(folder)
        writer = Writer(os.path.join(folder, "trace-1.log"))
        agent = start_tracefile_agent(build, work, c, token, folder)
        time.sleep(5)  # start-up (rules loaded, first round of the tail) is not "at rest"
        rows = [("at rest (nothing written)",) + measure(agent.pid, min(seconds, 30.0))]
        for rate in (100, 2000, 20000):
            cpu, rss = measure(agent.pid, seconds, lambda r=rate: writer.run(r, seconds))
            rows.append(("%d entries/s for %.0f s" % (rate, seconds), cpu, rss))
        total = writer.written
        wait_until(lambda: c.metrics().get("t0w_collector_events_total", 0) >= total, 120,
                   "the collector to store all %d entries" % total)
        stored = c.metrics().get("t0w_collector_events_total", 0)
    finally:
        if agent:
            agent.terminate()
            agent.wait(30)
        c.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("| agent phase | CPU % of one core | peak RSS MiB |")
    print("|---|---|---|")
    for name, cpu, rss in rows:
        print("| %s | %.2f | %.1f |" % (name, cpu, rss))
    print("entries written %d, stored by the collector %d" % (total, stored))
    return 0 if stored >= total else 1


if __name__ == "__main__":
    sys.exit(main())
