"""The trace-file tail end to end: `tier0watch run` follows a glob of Entra Connect-style
trace-*.log files and ships to the REAL `tier0watch-collector serve`.

usage: tracefile_test.py TIER0WATCH COLLECTOR SCENARIO
SCENARIO:
  sigkill  A writer appends entries (single and multi-line, lines split across writes, new files
           as the wizard starts again, UTF-8 and UTF-16LE) while the agent is SIGKILLed at random
           moments and restarted. Then: every entry stored at the collector exactly once, with
           the content it had, no conflicts, nothing reported lost.
  perf     One run over a generated 1,000,000-line trace file: lines/s until the checkpoint
           reached the end of the file, and the agent's CPU seconds (/proc/<pid>/stat) per
           million lines. The collector URL is unreachable, so the CPU is the tail's (read,
           parse, rules, encode, queue), not the shipper's. Prints "TRACE-PERF {json}".
"""
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import Agent, Workdir, status, wait_until
from collector_harness import RealCollector

T0W, COLLECTOR, SCENARIO = sys.argv[1], sys.argv[2], sys.argv[3]


def entry(n, lines=1):
    """Entry n: '[hh:mm:ss.fff] [  1] [INFO ] entry n' plus continuation lines."""
    t = n % 86400000
    head = "[%02d:%02d:%02d.%03d] [%3d] [INFO ] entry %d" % (
        (t // 3600000) % 24, (t // 60000) % 60, (t // 1000) % 60, t % 1000, 1 + n % 7, n)
    rest = "".join("\n   at Frame%d.Method()" % k for k in range(1, lines))
    return head + rest + "\n"


class Writer:
    """Appends entries to the current trace file; starts a new file now and then (a new wizard
    run); some files are UTF-16LE with a BOM. Writes cut entries anywhere (partial lines)."""

    def __init__(self, folder, rng):
        self.folder = folder
        self.rng = rng
        self.n = 0
        self.expected = {}  # entry number -> message text as stored
        self.files = 0
        self.path = None
        self.utf16 = False
        self.held = ""  # bytes of the current entry not yet written (a split write)

    def new_file(self):
        self.flush_held()
        self.files += 1
        self.utf16 = self.files % 3 == 0
        self.path = os.path.join(self.folder, "trace-20240101-%06d.log" % self.files)
        with open(self.path, "wb") as f:
            f.write(b"\xff\xfe" if self.utf16 else b"")

    def _write(self, text):
        with open(self.path, "ab") as f:
            f.write(text.encode("utf-16-le" if self.utf16 else "utf-8"))

    def flush_held(self):
        if self.held:
            self._write(self.held)
            self.held = ""

    def burst(self, count):
        if self.path is None or self.rng.random() < 0.05:
            self.new_file()
        text = self.held
        for _ in range(count):
            self.n += 1
            lines = 1 if self.rng.random() < 0.8 else self.rng.randrange(2, 5)
            e = entry(self.n, lines)
            msg = e.split("] ", 3)[3].rstrip("\n")
            self.expected[self.n] = msg
            text += e
        # Leave a random part of the last entry for the next burst: a partial line on disk.
        cut = len(text) - self.rng.randrange(0, 40) if self.rng.random() < 0.5 else len(text)
        self._write(text[:cut])
        self.held = text[cut:]


def setup(work, url=None):
    folder = os.path.join(work, "AADConnect")
    os.makedirs(folder)
    state = os.path.join(work, "state")
    cfg = os.path.join(work, "agent.yaml")
    return folder, state, cfg


def write_config(cfg, state, folder, collector=None, token=None, extra=""):
    with open(cfg, "w", encoding="utf-8") as f:
        f.write("agent: {state_dir: %s, log_level: info, shutdown_deadline_ms: 10000}\n" % state)
        if collector:
            f.write("collector: {url: \"%s\", ca_bundle: %s, token_file: %s, "
                    "request_timeout_ms: 5000}\n" % (collector.url, collector.ca, token))
        else:
            # Nothing listens there: the shipper backs off, the pipeline runs alone.
            f.write("collector: {url: \"https://127.0.0.1:9\", token: unused}\n")
        f.write("retry: {backoff_base_ms: 20, backoff_cap_ms: 500}\n")
        f.write("sources:\n  - tracefile: {path: %s}\n" % os.path.join(folder, "trace-*.log"))
        f.write(extra)


def stored_messages(collector):
    out = {}
    for key, e in collector.events().items():
        msg = e["event"]["EventData"]["Message"]
        n = int(msg.split("\n", 1)[0].split(" ")[1])
        assert n not in out, "entry %d stored twice (%s, %s)" % (n, key, out[n][0])
        out[n] = (key, msg)
    return out


def sigkill(work):
    seed = int(os.environ.get("T0W_SEED", random.SystemRandom().randrange(1 << 30)))
    print("seed %d (rerun with T0W_SEED=%d)" % (seed, seed))
    rng = random.Random(seed)
    folder, state, cfg = setup(work)
    collector = RealCollector(COLLECTOR, os.path.join(work, "collector"))
    token = collector.enroll("connect01")
    collector.start()
    write_config(cfg, state, folder, collector, token,
                 "batch: {max_events: 200, max_delay_ms: 50}\nqueue: {chunk_records: 100}\n")
    agent = Agent(T0W, cfg, os.path.join(work, "agent.log"))
    writer = Writer(folder, rng)
    kills = 0
    for _ in range(12):
        agent.start()
        # The agent runs for a random while, the writer appending in bursts meanwhile.
        deadline = time.monotonic() + rng.uniform(0.3, 2.5)
        while time.monotonic() < deadline:
            writer.burst(rng.randrange(1, 400))
            time.sleep(rng.uniform(0, 0.1))  # the writer's pace (random), not a wait for a result
        assert agent.alive(), agent.log_text()[-3000:]
        agent.kill()
        kills += 1
        writer.burst(rng.randrange(0, 200))  # written while the agent is down
    writer.flush_held()
    total = writer.n
    print("%d entries in %d files, agent SIGKILLed %d times" % (total, writer.files, kills))
    agent.start()
    wait_until(lambda: collector.agent("connect01")["events"] >= total or not agent.alive(), 600,
               "every entry at the collector")
    assert agent.alive(), agent.log_text()[-3000:]
    assert agent.terminate() == 0, agent.log_text()[-3000:]
    stored = stored_messages(collector)
    missing = sorted(set(writer.expected) - set(stored))
    assert not missing, "%d entries never stored, e.g. %s" % (len(missing), missing[:5])
    extra = sorted(set(stored) - set(writer.expected))
    assert not extra, "unexpected entries %s" % extra[:5]
    wrong = [n for n, msg in writer.expected.items() if stored[n][1] != msg]
    assert not wrong, "stored with other text: %s" % [(n, stored[n][1]) for n in wrong[:3]]
    detail = collector.agent("connect01")
    assert detail["events"] == total, (detail["events"], total)
    assert detail["conflicts"] == 0, detail["recent_conflicts"][:3]
    assert detail["drops"] == 0, detail
    dups = collector.metrics().get("t0w_collector_dedup_hits_total", 0)
    print("TRACE-SIGKILL " + json.dumps({"entries": total, "files": writer.files,
                                         "kills": kills, "stored_once": len(stored),
                                         "duplicates_deduplicated": dups, "conflicts": 0}))
    collector.stop()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick  # utime + stime


def perf(work):
    lines = int(os.environ.get("T0W_TRACE_LINES", "1000000"))
    folder, state, cfg = setup(work)
    path = os.path.join(folder, "trace-20240101-000000.log")
    with open(path, "w", encoding="utf-8") as f:
        f.write("[00:00:00.000] [  1] [INFO ] Start Time (Local): Mon, 01 Jan 2024 00:00:00 GMT\n")
        f.write("[00:00:00.000] [  1] [INFO ] Start Time (UTC): Mon, 01 Jan 2024 00:00:00 GMT\n")
        chunk = []
        for n in range(2, lines):
            chunk.append(entry(n * 3, 1))
            if len(chunk) == 10000:
                f.write("".join(chunk))
                chunk = []
        f.write("".join(chunk))
    size = os.path.getsize(path)
    write_config(cfg, state, folder,
                 extra="queue: {max_bytes: 8589934592}\nmetrics: {log_interval_ms: 0}\n")
    agent = Agent(T0W, cfg, os.path.join(work, "agent.log"))
    source = "tracefile:" + os.path.join(folder, "trace-*.log")
    start = time.monotonic()
    agent.start()

    def at_end():
        st = status(T0W, state)
        cp = st and st["checkpoints"].get(source, {}).get("position")
        return cp and json.loads(cp)["files"][0]["offset"] == size

    wait_until(at_end, 3600, "the checkpoint at the end of the file")
    elapsed = time.monotonic() - start
    cpu = cpu_seconds(agent.proc.pid)
    assert agent.terminate() == 0
    row = {"lines": lines, "bytes": size, "seconds_to_checkpoint": round(elapsed, 2),
           "lines_per_second": round(lines / elapsed), "agent_cpu_seconds": round(cpu, 2),
           "cpu_seconds_per_million_lines": round(cpu * 1e6 / lines, 2)}
    print("TRACE-PERF " + json.dumps(row))


SCENARIOS = {"sigkill": sigkill, "perf": perf}

if __name__ == "__main__":
    with Workdir("tracefile-" + SCENARIO) as work:
        SCENARIOS[SCENARIO](work)
    print("%s: ok" % SCENARIO)
