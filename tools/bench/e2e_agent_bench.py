"""Whole-process benchmark: `tier0watch run --exit-when-drained` reads N rendered-XML events
(generated), stores, ships them over HTTPS to t0w-fake-collector --no-record on 127.0.0.1, and
exits. Prints events/s and CPU seconds per million events for the agent (rusage of the child)
and, apart, for the collector (/proc/<pid>/stat).

With T0W_ANNOUNCE=3 the fake collector says it reads tier0watch.batch/3, so the agent sends its
stored chunks as they are (zstd); by default it announces this build's version.

usage: e2e_agent_bench.py TIER0WATCH FAKE_COLLECTOR [EVENTS=200000]
"""
import json
import os
import resource
import select
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "integration"))
from agent_harness import write_events  # noqa: E402  (the same generator the tests use)
from bench_proc import cpu_seconds  # noqa: E402


def main():
    t0w, fake = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 200000
    work = tempfile.mkdtemp(prefix="t0w-e2e-bench-")
    try:
        xml = os.path.join(work, "events.xml")
        write_events(xml, n)
        fc_dir = os.path.join(work, "fc")
        os.makedirs(fc_dir)
        announce = ["--announce", os.environ["T0W_ANNOUNCE"]] if os.environ.get("T0W_ANNOUNCE") \
            else []
        fc = subprocess.Popen([fake, "--dir", fc_dir, "--no-record", "--time-limit", "3600"] +
                              announce,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if not select.select([fc.stdout], [], [], 30)[0]:
            raise SystemExit("fake collector did not start")
        ready = json.loads(fc.stdout.readline())
        cfg = os.path.join(work, "agent.yaml")
        with open(cfg, "w") as f:
            f.write("agent: {state_dir: %s/state, log_level: warn}\n" % work)
            f.write("collector: {url: \"https://127.0.0.1:%d\", ca_bundle: %s}\n" %
                    (ready["port"], ready["ca_cert"]))
            f.write("batch: {max_events: 5000, max_delay_ms: 50}\n")
            f.write("metrics: {log_interval_ms: 0}\n")
            f.write("sources:\n  - xml: {path: %s}\n" % xml)
        c0 = cpu_seconds(fc.pid)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        rc = subprocess.run([t0w, "run", "--config", cfg, "--exit-when-drained"]).returncode
        wall = time.monotonic() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        c1 = cpu_seconds(fc.pid)
        fc.kill()
        fc.wait()
        agent_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        m = n / 1e6
        print("events %d (XML %.1f MB): exit %d, %.2f s wall, %.0f events/s" %
              (n, os.path.getsize(xml) / 1e6, rc, wall, n / wall))
        print("agent process (parse+encode+enqueue+reserve+compress+TLS+ack): %.2f CPU s = %.2f per "
              "million" % (agent_cpu, agent_cpu / m))
        print("fake collector: %.2f CPU s = %.2f per million" % (c1 - c0, (c1 - c0) / m))
        return rc
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
