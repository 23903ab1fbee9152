"""Search latency (`GET /api/v1/events?q=TERM&limit=100`, wall time through the real collector's
API, median of 5 after one warm-up) on a store filled by stage_bench's full path, without and with
the index, on the same stored events:
  SQLite: the collector with storage.search_index off (a scan of the bodies), then on
          (the FTS5 table is built from the stored events at start: that time is printed too).
  PostgreSQL (T0W_PG_URL set): the store filled by BASE_COLLECTOR (no trigram index), searched,
          then the new collector started on it with storage.search_index on (it builds the
          pg_trgm index at start: the start-up time is printed) and searched again.

usage: search_latency.py BUILD_DIR [BASE_COLLECTOR] [EVENTS=200000]
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import stage_bench  # noqa: E402
from bench_proc import fresh_database  # noqa: E402
from collector_ab import fake_build  # noqa: E402
from collector_harness import RealCollector  # noqa: E402

TERMS = ["no-such-text", "mimikatz", "S-1-5-21-3623811015-3361044348-30300820-1387", "4624",
         "Security", "zz"]


class StoredCollector(RealCollector):
    """A collector on the store that an earlier RealCollector in `directory` left (its users
    and agents are there already)."""

    def __init__(self, binary, directory, extra_config=""):  # noqa: super() would re-add users
        self.binary = binary
        self.dir = directory
        self.state = os.path.join(directory, "state")
        self.config = os.path.join(directory, "collector.yaml")
        self.extra_config = extra_config
        self.port = 0
        self.proc = None
        self._opener = None
        self._write_config()


def latencies(binary, directory, storage):
    c = StoredCollector(binary, directory, storage)
    start = time.monotonic()
    c.start()
    started = time.monotonic() - start
    out = {}
    try:
        for term in TERMS:
            path = "/api/v1/events?limit=100&q=" + urllib.parse.quote(term)
            found = len(c.api(path)["events"])
            runs = []
            for _ in range(5):
                t = time.monotonic()
                c.api(path)
                runs.append((time.monotonic() - t) * 1000)
            out[term] = (found, statistics.median(runs))
    finally:
        c.stop()
    return started, out


def show(label, started, rows):
    print("%s (collector start %.1f s)" % (label, started))
    for term, (found, ms) in rows.items():
        print("  q=%-48s %3d events  %8.1f ms" % (term, found, ms))
    sys.stdout.flush()


def main():
    build = sys.argv[1]
    base = sys.argv[2] if len(sys.argv) > 2 else None
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 200000
    collector = os.path.join(build, "tools", "collector", "tier0watch-collector")
    work = tempfile.mkdtemp(prefix="t0w-search-latency-")
    try:
        xml = os.path.join(work, "sample.xml")
        subprocess.run([os.path.join(build, "tools", "bench", "t0w-samplegen"), "--seed", "42",
                        "--background", str(n), "--output", xml], check=True,
                       stdout=subprocess.DEVNULL)
        _, stored = stage_bench.full_path(build, work, xml, n, "sqlite")
        print("SQLite store: %s events" % stored)
        d = os.path.join(work, "sqlite", "collector")
        show("SQLite, no index (scan)", *latencies(collector, d, ""))
        show("SQLite, FTS5 trigram index", *latencies(
            collector, d, "storage: {search_index: true}\n"))
        if base and os.environ.get("T0W_PG_URL"):
            with fresh_database("t0w_search_latency") as url:
                pg = "storage: {driver: postgres, postgres_url: \"%s\"}\n" % url
                _, stored = stage_bench.full_path(fake_build(work, build, "base", base), work,
                                                  xml, n, "postgres", pg)
                print("PostgreSQL store (base collector): %s events" % stored)
                d = os.path.join(work, "postgres", "collector")
                show("PostgreSQL, base collector (ILIKE scan)", *latencies(base, d, pg))
                show("PostgreSQL, this collector (storage.search_index: pg_trgm GIN)",
                     *latencies(collector, d,
                                pg.replace("{driver", "{search_index: true, driver")))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
