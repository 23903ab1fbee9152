"""The collector's CPU per million events, two binaries compared in one sitting: stage_bench's full
path (generated sample -> `tier0watch run` -> real collector) run for each variant in turn, round
after round, so that the load of a shared machine falls on both alike. On PostgreSQL (T0W_PG_URL
set) also the server's CPU: its postmaster and children, found through the postmaster.pid of
T0W_PG_DATA (the cluster's data directory), when given, over the agent's run.

usage: collector_ab.py BUILD_DIR NAME=COLLECTOR[:STORAGE_YAML] ... [--events N] [--rounds N]
  NAME=COLLECTOR               a collector binary on SQLite
  NAME=COLLECTOR:pg            the same binary on PostgreSQL (T0W_PG_URL)
  NAME=COLLECTOR:sqlite-search on SQLite with storage.search_index on
  NAME=COLLECTOR:pg-search     on PostgreSQL with storage.search_index on
The agent and the sample generator are BUILD_DIR's. Prints one line per run, then the medians.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import stage_bench  # noqa: E402
from bench_proc import cpu_seconds, fresh_database  # noqa: E402

# full_path reads the collector's CPU just before and just after the agent's run: the server's is
# read at the same moments (not its migrations at the collector's start).
SERVER_MARKS = []


def collector_and_server_cpu(pid):
    SERVER_MARKS.append(server_cpu())
    return cpu_seconds(pid)


stage_bench.cpu_seconds = collector_and_server_cpu


def server_cpu():
    """CPU seconds of the PostgreSQL cluster in T0W_PG_DATA so far, or None."""
    data = os.environ.get("T0W_PG_DATA")
    if not data:
        return None
    with open(os.path.join(data, "postmaster.pid")) as f:
        postmaster = int(f.readline())
    total = cpu_seconds(postmaster)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid == postmaster:
                total += cpu_seconds(int(pid))
        except (OSError, ValueError):
            pass
    return total


def fake_build(work, build, name, collector):
    """A build directory with BUILD_DIR's agent and this variant's collector."""
    d = os.path.join(work, "build_" + name)
    os.makedirs(os.path.join(d, "agent"))
    os.makedirs(os.path.join(d, "tools", "collector"))
    os.symlink(os.path.abspath(os.path.join(build, "agent", "tier0watch")),
               os.path.join(d, "agent", "tier0watch"))
    os.symlink(os.path.abspath(collector),
               os.path.join(d, "tools", "collector", "tier0watch-collector"))
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("variants", nargs="+")
    ap.add_argument("--events", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="t0w-collector-ab-")
    try:
        xml = os.path.join(work, "sample.xml")
        subprocess.run([os.path.join(a.build, "tools", "bench", "t0w-samplegen"), "--seed", "42",
                        "--background", str(a.events), "--output", xml], check=True,
                       stdout=subprocess.DEVNULL)
        variants = []
        for v in a.variants:
            name, spec = v.split("=", 1)
            binary, _, mode = spec.partition(":")
            storage = {"": "", "pg": "storage: {driver: postgres, postgres_url: \"%s\"}\n",
                       "pg-search": "storage: {driver: postgres, search_index: true, "
                                    "postgres_url: \"%s\"}\n",
                       "sqlite-search": "storage: {search_index: true}\n"}[mode]
            variants.append((name, fake_build(work, a.build, name, binary), storage,
                             mode.startswith("pg")))
        results = {name: [] for name, _, _, _ in variants}
        for rnd in range(a.rounds):
            for name, build, storage, pg in variants:
                run_name = "r%d %s" % (rnd, name)
                if pg:  # a database of its own per run
                    db = "t0w_ab_%d_%s" % (rnd, "".join(ch for ch in name if ch.isalnum()))
                    with fresh_database(db) as url:
                        r, stored = stage_bench.full_path(build, work, xml, a.events, run_name,
                                                          storage % url)
                    s0, s1 = SERVER_MARKS[-2:]
                else:
                    r, stored = stage_bench.full_path(build, work, xml, a.events, run_name,
                                                      storage)
                    s0, s1 = None, None
                # Per event stored (the sample holds its attack scenarios beside the background).
                n = stored or a.events
                collector = r["collector_cpu_s_per_million"] * a.events / n
                server = None if s0 is None else (s1 - s0) / (n / 1e6)
                results[name].append((collector, server))
                print("round %d %-16s stored %s, %.0f events/s, collector %.2f CPU-s/M%s" % (
                    rnd, name, stored, r["events_per_s"], collector,
                    "" if server is None else ", server %.2f CPU-s/M" % server), flush=True)
        for name, runs in results.items():
            print("median %-16s collector %.2f CPU-s/M over %d runs (%s)" % (
                name, statistics.median(c for c, _ in runs), len(runs),
                ", ".join("%.2f" % c for c, _ in runs)) + (
                "" if runs[0][1] is None else
                "; server %.2f" % statistics.median(s for _, s in runs)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
