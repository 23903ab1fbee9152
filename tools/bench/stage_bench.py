"""One table, one run: the cost of each stage of the agent and of the collector, measured on the
same generated sample (issue 14's harness, first part). Called by tools/bench/run.sh.

Rows (each a separate process, its own rusage from wait4):
  scan --events             XML -> Event -> JSON, no rules
  scan --pack tier0         + the built-in pack
  scan --rules <SigmaHQ>    + every SigmaHQ Windows rule (when ../shared/corpus is there)
  run -> collector (sqlite) the whole path into the real tier0watch-collector, pack only
  run -> collector (postgres) the same with the collector on PostgreSQL (T0W_PG_URL set)
  (these two: the median of three runs, each against a fresh collector; T0W_BENCH_RUNS)
Figures: events/s (wall), CPU seconds per million events, peak RSS; for the full path the
collector's CPU too (/proc/<pid>/stat). Then, in the same run, the ceilings: what one stage's
library alone costs per event (Google Benchmark programs: pugixml load_buffer vs our parser,
raw SQLite rows vs EventQueue, the batch compressor alone). Elsewhere in run.sh: the footprint
(footprint.py), latency percentiles at 2,000 entries/s (latency.py), the syslog-ng peer
(syslog_ng_peer.py).

usage: stage_bench.py BUILD_DIR [EVENTS=200000]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from collector_harness import RealCollector, write_agent_config  # noqa: E402
from bench_proc import cpu_seconds, fresh_database  # noqa: E402


def measured(args, **kw):
    """Runs a process to its end; (exit code, wall s, CPU s, peak RSS MiB) of that process only."""
    start = time.monotonic()
    p = subprocess.Popen(args, **kw)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    return p.returncode, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0


def row(name, n, rc, wall, cpu, rss, collector_cpu=None, startup_cpu=None):
    return {"stage": name, "events": n, "exit": rc, "events_per_s": n / wall if wall else 0,
            "agent_cpu_s_per_million": cpu / (n / 1e6), "agent_peak_rss_mib": rss,
            "startup_cpu_s": startup_cpu,
            "agent_net_cpu_s_per_million":
                None if startup_cpu is None else max(0.0, cpu - startup_cpu) / (n / 1e6),
            "collector_cpu_s_per_million":
                None if collector_cpu is None else collector_cpu / (n / 1e6)}


def full_path(build, work, xml, n, name, extra_collector="", extra_agent="", empty=None,
              restart=False):
    """The whole path for `xml`; with `empty` (an XML file without events) also the agent's
    start-up and exit alone (rule loading, TLS, queue), run first against the same collector.
    `restart` (with `empty`): the agent starts as a service restart does, with the rule cache
    that an earlier start left in its state directory; start-up is then the second start's."""
    # Only letters and digits in the folder: the agent's config is YAML flow style.
    d = os.path.join(work, "".join(ch if ch.isalnum() else "_" for ch in name))
    os.makedirs(d)
    c = RealCollector(os.path.join(build, "tools", "collector", "tier0watch-collector"),
                      os.path.join(d, "collector"), extra_collector)
    token = c.enroll("bench")
    c.start()
    try:
        startup = None
        if empty:
            cfg0 = os.path.join(d, "agent0.yaml")
            # Its own enrolment: a credential belongs to one agent.
            write_agent_config(cfg0, os.path.join(d, "state0"), c, c.enroll("bench-startup"),
                               [("xml", empty)],
                               extra="batch: {max_events: 5000, max_delay_ms: 50}\n" +
                               extra_agent)
            for _ in range(2 if restart else 1):
                _, _, startup, _ = measured(
                    [os.path.join(build, "agent", "tier0watch"), "run", "--config", cfg0,
                     "--exit-when-drained"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if restart:
                os.makedirs(os.path.join(d, "state"))
                shutil.copy(os.path.join(d, "state0", "rule-cache.bin"),
                            os.path.join(d, "state", "rule-cache.bin"))
        cfg = os.path.join(d, "agent.yaml")
        write_agent_config(cfg, os.path.join(d, "state"), c, token, [("xml", xml)],
                           extra="batch: {max_events: 5000, max_delay_ms: 50}\n" + extra_agent)
        c0 = cpu_seconds(c.proc.pid)
        rc, wall, cpu, rss = measured(
            [os.path.join(build, "agent", "tier0watch"), "run", "--config", cfg,
             "--exit-when-drained"], stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(d, "agent.err"), "w"))
        c1 = cpu_seconds(c.proc.pid)
        stored = c.metrics().get("t0w_collector_events_total")
        return row(name, n, rc, wall, cpu, rss, c1 - c0, startup), stored
    finally:
        c.stop()


def sample(build, xml, background):
    """Generates the sample (background plus the attack scenarios) into `xml`; returns how many
    events it holds, as scan reads them."""
    subprocess.run([os.path.join(build, "tools", "bench", "t0w-samplegen"), "--seed", "42",
                    "--background", str(background), "--output", xml], check=True,
                   stdout=subprocess.DEVNULL)
    out = subprocess.run([os.path.join(build, "agent", "tier0watch"), "scan", "--output",
                          "/dev/null", xml], capture_output=True, text=True, check=True).stderr
    return int(out.rsplit("scan: 1 files, ", 1)[1].split(" records")[0])


def median_full_path(times, build, work, xml, n, name, **kw):
    """full_path `times` times, each against a fresh collector: the row of the run with the
    median agent CPU, with the collector's median CPU and every run's figures in `runs`. One run
    on a shared 2-core VM reads anywhere from 5.3 to 9.5 for the same binary
    (docs/performance.md, tenth run); the issue's own baseline was a median of three."""
    results = []
    pg_storage = kw.pop("pg_storage", None)
    for i in range(times):
        run_name = "%s %d" % (name, i + 1)
        if pg_storage is None:
            r, stored = full_path(build, work, xml, n, run_name, **kw)
        else:
            with fresh_database("t0w_stage_bench_%d" % (i + 1)) as url:
                r, stored = full_path(build, work, xml, n, run_name,
                                      extra_collector=pg_storage % url, **kw)
        r["stored"] = stored
        results.append(r)
    by_agent = sorted(results, key=lambda r: r["agent_cpu_s_per_million"])
    row = dict(by_agent[len(by_agent) // 2])
    row["stage"] = name
    collectors = sorted(r["collector_cpu_s_per_million"] for r in results)
    row["collector_cpu_s_per_million"] = collectors[len(collectors) // 2]
    # A lossy or failed run makes the row count as lossy or failed, whatever its median.
    row["stored"] = min((r["stored"] or 0) for r in results)
    row["exit"] = max(results, key=lambda r: abs(r["exit"]))["exit"]
    row["runs"] = [(r["agent_cpu_s_per_million"], r["collector_cpu_s_per_million"])
                   for r in results]
    return row


def google_benchmark(build, program, filt):
    """{name: (CPU s per million items, items/s)} from a Google Benchmark program's JSON output."""
    out = os.path.join(tempfile.mkdtemp(prefix="t0w-gbench-"), "out.json")
    subprocess.run([os.path.join(build, "tools", "bench", program), "--benchmark_filter=" + filt,
                    "--benchmark_out=" + out, "--benchmark_out_format=json"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    with open(out) as f:
        data = json.load(f)
    shutil.rmtree(os.path.dirname(out), ignore_errors=True)
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    result = {}
    for b in data["benchmarks"]:
        unit = scale[b["time_unit"]]
        if "items_per_second" in b:
            # Items per iteration = rate x real time of one iteration.
            per_iter = b["items_per_second"] * b["real_time"] * unit
            result[b["name"]] = (b["cpu_time"] * unit / per_iter * 1e6, b["items_per_second"])
        else:  # one event per iteration
            result[b["name"]] = (b["cpu_time"] * unit * 1e6, 1 / (b["real_time"] * unit))
    return result


def ceilings(build):
    rows = []
    xml = google_benchmark(build, "xml_parser_bench", "4624_compact")
    for name, label in (("PugiLoadBuffer/4624_compact", "pugixml load_buffer alone (4624)"),
                        ("ParseEventXml/4624_compact", "our parser: XML -> Event (4624)"),
                        ("EventXmlParser/4624_compact",
                         "our parser, parser and Event reused as collectors do (4624)")):
        if name in xml:
            rows.append((label, xml[name]))
    q = google_benchmark(build, "queue_bench", "RawSqliteRowPerEvent|QueueOnly/chunk_level:1|"
                                               "EncodeGzipOnly/1|EncodeZstdOnly/1|QueueStoredV3")
    for name, label in (("BM_RawSqliteRowPerEvent/real_time",
                         "raw SQLite: one ~1 KiB row per event, 1,000 per transaction"),
                        ("BM_QueueOnly/chunk_level:1/real_time",
                         "EventQueue: enqueue, reserve (records decoded), ack (zstd 1 chunks)"),
                        ("BM_QueueStoredV3/real_time",
                         "EventQueue + v3 batch from stored frames (the agent's path, no network)"),
                        ("BM_EncodeGzipOnly/1/real_time", "wire batch JSON + gzip 1 alone"),
                        ("BM_EncodeZstdOnly/1/real_time", "wire batch JSON + zstd 1 alone")):
        if name in q:
            rows.append((label, q[name]))
    return rows


def main():
    build = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200000
    t0w = os.path.join(build, "agent", "tier0watch")
    work = tempfile.mkdtemp(prefix="t0w-stage-bench-")
    rows = []
    try:
        xml = os.path.join(work, "sample.xml")
        events = sample(build, xml, n)
        # Start-up and exit alone (loading ~2,400 SigmaHQ rules costs about 0.7 CPU s): the same
        # commands over a file without events, so that the per-event figure can be read net.
        empty = os.path.join(work, "empty.xml")
        with open(empty, "w") as f:
            f.write("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Events>\n</Events>\n")
        scans = [("scan --events: parse, event JSON, no rules", ["--events"]),
                 ("scan --pack tier0: parse, pack rules, no event JSON", ["--pack", "tier0"])]
        sigma = os.path.join(ROOT, "..", "shared", "corpus", "sigma", "rules", "windows")
        if os.path.isdir(sigma):
            scans.append(("scan --rules SigmaHQ windows: parse, all rules, no event JSON",
                          ["--rules", sigma]))
        for name, extra in scans:
            _, _, startup, _ = measured([t0w, "scan", "--output", "/dev/null"] + extra + [empty],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            rc, wall, cpu, rss = measured([t0w, "scan", "--output", "/dev/null"] + extra + [xml],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            rows.append(row(name, events, rc, wall, cpu, rss, startup_cpu=startup))
        # The rows with the headline targets: a median of three runs (T0W_BENCH_RUNS).
        runs = int(os.environ.get("T0W_BENCH_RUNS", "3"))
        rows.append(median_full_path(runs, build, work, xml, events,
                                     "run -> collector on SQLite, tier0 pack", empty=empty))
        if os.path.isdir(sigma):
            r, stored = full_path(build, work, xml, events,
                                  "run -> collector on SQLite, pack + all SigmaHQ Windows rules",
                                  extra_agent="rules: {paths: [\"%s\"]}\n" % sigma, empty=empty)
            r["stored"] = stored
            rows.append(r)
            r, stored = full_path(build, work, xml, events,
                                  "run -> collector on SQLite, pack + all SigmaHQ Windows rules, "
                                  "restart (rule cache from an earlier start)",
                                  extra_agent="rules: {paths: [\"%s\"]}\n" % sigma, empty=empty,
                                  restart=True)
            r["stored"] = stored
            rows.append(r)
        if os.environ.get("T0W_PG_URL"):
            rows.append(median_full_path(
                runs, build, work, xml, events, "run -> collector on PostgreSQL, tier0 pack",
                pg_storage="storage: {driver: postgres, postgres_url: \"%s\"}\n", empty=empty))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("| stage | events | stored | events/s | agent CPU-s per million | agent start-up CPU s "
          "| agent CPU-s per million, net of start-up | agent peak RSS MiB | "
          "collector CPU-s per million |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %d | %s | %.0f | %.2f | %s | %s | %.1f | %s |" % (
            r["stage"] + ("" if r["exit"] == 0 else " (exit %d)" % r["exit"]), r["events"],
            r.get("stored", "-"),
            r["events_per_s"], r["agent_cpu_s_per_million"],
            "-" if r["startup_cpu_s"] is None else "%.2f" % r["startup_cpu_s"],
            "-" if r["agent_net_cpu_s_per_million"] is None
            else "%.2f" % r["agent_net_cpu_s_per_million"],
            r["agent_peak_rss_mib"],
            "-" if r["collector_cpu_s_per_million"] is None
            else "%.2f" % r["collector_cpu_s_per_million"]))
    for r in rows:
        if "runs" in r:
            print("%s: %d runs, agent / collector CPU-s per million: %s" % (
                r["stage"], len(r["runs"]),
                ", ".join("%.2f / %.2f" % run for run in r["runs"])))
    print()
    print("| ceiling (one stage's work alone, same run) | CPU-s per million | per second |")
    print("|---|---|---|")
    for label, (cpu, rate) in ceilings(build):
        print("| %s | %.2f | %.0f |" % (label, cpu, rate))
    with open(os.environ.get("T0W_BENCH_JSON", os.devnull), "w") as f:
        json.dump(rows, f, indent=1)
    # The full path must store every event: a figure for a lossy run would mean nothing.
    lossless = all(r.get("stored", r["events"]) == r["events"] for r in rows)
    return 0 if lossless and all(r["exit"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
