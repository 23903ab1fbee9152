"""The fault matrix against the REAL collector: `tier0watch run` ships to
`tier0watch-collector serve` over HTTPS on 127.0.0.1, and every scenario ends with the same check
through the collector's API: every source event stored exactly once (with the content it had
when first stored), or reported lost by a drop report; duplicates and conflicts as the
collector counted them.

usage: agent_collector_test.py TIER0WATCH COLLECTOR SCENARIO
SCENARIO: baseline | queue_deleted | queue_quarantined | snapshot_rollback | agent_sigkill |
          collector_sigkill | deep_body
Each scenario prints one line "FAULT-MATRIX {json}" (scenario, events in, stored once, reported
lost, duplicates, conflicts) for the table in the report.
"""
import gzip
import json
import os
import random
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import Agent, Workdir, status, wait_until, write_events
from collector_harness import RealCollector, write_agent_config

T0W, COLLECTOR, SCENARIO = sys.argv[1], sys.argv[2], sys.argv[3]


class Setup:
    """One collector, one enrolled agent, its state directory and its event files."""

    def __init__(self, work, extra=""):
        self.work = work
        self.collector = RealCollector(COLLECTOR, os.path.join(work, "collector"))
        self.token = self.collector.enroll("dc01")
        self.collector.start()
        self.state = os.path.join(work, "state")
        self.cfg = os.path.join(work, "agent.yaml")
        self.extra = extra
        self.files = []
        self.agent = Agent(T0W, self.cfg, os.path.join(work, "agent.log"))

    def events_file(self, name, count, first, domain="CORP"):
        path = os.path.join(self.work, name)
        write_events(path, count, first, domain)
        if path not in self.files:
            self.files.append(path)
        return path

    def configure(self):
        write_agent_config(self.cfg, self.state, self.collector, self.token,
                           [("xml", f) for f in self.files], self.extra)

    def drained(self):
        st = status(T0W, self.state)
        if not st or st["queue"]["events"] != 0:
            return None
        for f in self.files:
            if st["checkpoints"].get(f, {}).get("position") != "complete":
                return None
        return st

    def run_until_drained(self, timeout=600):
        self.configure()
        self.agent.start()
        wait_until(lambda: self.drained() or not self.agent.alive(), timeout,
                   "the agent shipped every event")
        assert self.agent.alive(), self.agent.log_text()[-3000:]
        assert self.agent.terminate() == 0, self.agent.log_text()[-3000:]

    def agent_detail(self):
        return self.collector.agent("dc01")

    def check(self, expected, lost_allowed=False):
        """Every expected event (key suffix -> domain) stored once with that content."""
        stored = self.collector.events()
        by_suffix = {}
        for key, e in stored.items():
            suffix = key.split("|", 1)[1]
            assert suffix not in by_suffix, "stored twice: " + suffix
            by_suffix[suffix] = e
        missing = sorted(set(expected) - set(by_suffix))
        extra = sorted(set(by_suffix) - set(expected))
        detail = self.agent_detail()
        lost = detail["drops"]
        if not lost_allowed:
            assert not missing, "%d events never stored, e.g. %s" % (len(missing), missing[:5])
            assert lost == 0, detail
        assert not extra, "unexpected events: %s" % extra[:5]
        wrong = [s for s, domain in expected.items() if s in by_suffix and
                 by_suffix[s]["event"]["EventData"]["TargetDomainName"] != domain]
        assert not wrong, "stored with other content than first sent: %s" % wrong[:5]
        assert detail["events"] == len(by_suffix), (detail["events"], len(by_suffix))
        return by_suffix, detail

    def row(self, scenario, events_in, stored, detail, note=""):
        m = self.collector.metrics()
        row = {"scenario": scenario, "events_in": events_in, "stored_once": len(stored),
               "reported_lost": detail["drops"],
               "duplicates": m.get("t0w_collector_dedup_hits_total", 0),
               "conflicts": detail["conflicts"], "note": note}
        print("FAULT-MATRIX " + json.dumps(row))
        return row

    def close(self):
        if self.agent.alive():
            self.agent.kill()
        self.collector.stop()


def expect(first, count, domain="CORP"):
    return {"Security|%d" % i: domain for i in range(first, first + count)}


def remove_queue(state):
    for suffix in ("", "-wal", "-shm"):
        path = os.path.join(state, "queue.db" + suffix)
        if os.path.exists(path):
            os.remove(path)


def baseline(work):
    s = Setup(work, "batch: {max_events: 500, max_delay_ms: 50}\n")
    s.events_file("a.xml", 3000, 1)
    s.run_until_drained()
    stored, detail = s.check(expect(1, 3000))
    assert detail["conflicts"] == 0
    s.row("baseline", 3000, stored, detail)
    s.close()


def queue_deleted(work, corrupt=False):
    """The queue file goes away (administrator clean-up) or is quarantined (corrupt) after a
    delivery; the new file's lease sequence starts at 1 again. The old file is read again (its
    checkpoint went with the queue) and a new one added: every event is stored once."""
    s = Setup(work, "batch: {max_events: 100, max_delay_ms: 50}\nqueue: {chunk_records: 100}\n")
    s.events_file("a.xml", 3000, 1)
    s.run_until_drained()
    if corrupt:
        with open(os.path.join(s.state, "queue.db"), "r+b") as f:
            f.write(b"this is not an SQLite database\n" * 512)
    else:
        remove_queue(s.state)
    s.events_file("b.xml", 1000, 3001)
    s.run_until_drained()
    stored, detail = s.check(expect(1, 4000))
    assert detail["conflicts"] == 0, detail["recent_conflicts"][:3]
    types = [r["type"] for r in detail["recent_status_reports"]]
    if corrupt:
        assert "queue_quarantined" in types, types
        note = "quarantine report stored: " + str(types.count("queue_quarantined"))
    else:
        note = "old file re-read: its events are duplicates"
    s.row("queue_quarantined" if corrupt else "queue_deleted", 4000, stored, detail, note)
    s.close()


def queue_quarantined(work):
    queue_deleted(work, corrupt=True)


def snapshot_rollback(work):
    """A VM snapshot is restored: the queue file (same epoch) goes back to a state before the
    last batches, and the event log after the snapshot holds OTHER events under the record ids
    that were delivered. The collector keeps the first content, stores the other as conflicts,
    counts them on the agent, raises an alert, and stores the events that are new."""
    s = Setup(work, "batch: {max_events: 100, max_delay_ms: 50}\nqueue: {chunk_records: 100}\n")
    s.events_file("a.xml", 1000, 1)
    s.run_until_drained()
    snapshot = os.path.join(work, "snapshot")
    shutil.copytree(s.state, snapshot)
    s.events_file("b.xml", 1000, 1001)
    s.run_until_drained()
    shutil.rmtree(s.state)
    shutil.copytree(snapshot, s.state)
    s.events_file("b.xml", 1100, 1001, domain="ROLLED")
    s.run_until_drained()
    expected = expect(1, 2000)
    expected.update(expect(2001, 100, "ROLLED"))
    stored, detail = s.check(expected)
    record_conflicts = [c for c in detail["recent_conflicts"] if c["kind"] == "event"]
    assert detail["conflicts"] >= 1000, detail["conflicts"]
    assert record_conflicts and record_conflicts[0]["content"]["EventData"][
        "TargetDomainName"] == "ROLLED", detail["recent_conflicts"][:2]
    alerts = s.collector.alerts("tier0watch.collector.conflict")
    assert alerts, "no conflict alert"
    assert detail["health"] == "degraded", detail["health"]
    s.row("snapshot_rollback", 3100, stored, detail,
          "1000 record ids re-used with other content; %d conflict alerts" % len(alerts))
    s.close()


def agent_sigkill(work):
    seed = int(os.environ.get("T0W_SEED", random.SystemRandom().randrange(1 << 30)))
    print("seed %d (rerun with T0W_SEED=%d)" % (seed, seed))
    rng = random.Random(seed)
    s = Setup(work, "batch: {max_events: 100, max_delay_ms: 50}\nqueue: {chunk_records: 100}\n")
    n = 20000
    s.events_file("a.xml", n, 1)
    s.configure()
    kills = 0
    for _ in range(5):
        before = s.collector.metrics().get("t0w_collector_batches_total", 0)
        s.agent.start()
        target = before + 1 + rng.randrange(0, 10)
        wait_until(lambda: s.collector.metrics().get("t0w_collector_batches_total", 0) >= target
                   or not s.agent.alive() or s.drained(), 120, "upload in progress")
        s.agent.kill()
        kills += 1
        if s.drained():
            break
    assert kills == 5, "the upload finished before 5 kills; make it longer"
    s.run_until_drained()
    stored, detail = s.check(expect(1, n))
    assert detail["conflicts"] == 0, detail["recent_conflicts"][:3]
    s.row("agent_sigkill x5", n, stored, detail)
    s.close()


def collector_sigkill(work):
    s = Setup(work, "batch: {max_events: 100, max_delay_ms: 50}\nqueue: {chunk_records: 100}\n")
    n = 20000
    s.events_file("a.xml", n, 1)
    s.configure()
    s.agent.start()
    kills = 0
    for _ in range(3):
        target = s.collector.metrics().get("t0w_collector_batches_total", 0) + 5
        wait_until(lambda: s.collector.metrics().get("t0w_collector_batches_total", 0) >= target
                   or s.drained(), 120, "upload in progress")
        if s.drained():
            break
        s.collector.kill()
        kills += 1
        s.collector.start()
    assert kills == 3, "the upload finished before 3 collector kills"
    wait_until(lambda: s.drained() or not s.agent.alive(), 600, "queue drained")
    assert s.agent.terminate() == 0
    stored, detail = s.check(expect(1, n))
    assert detail["conflicts"] == 0, detail["recent_conflicts"][:3]
    s.row("collector_sigkill x3", n, stored, detail)
    s.close()


def deep_body(work):
    """Issue 10: one enrolled agent sent a record nested 100,000 deep (about 1 KB gzipped) and
    `serve` died. Now it is refused with a 4xx, the process lives, and an honest agent ships."""
    s = Setup(work, "batch: {max_events: 500, max_delay_ms: 50}\n")
    with open(s.collector.enroll("lowtier")) as f:
        hostile_token = f.read().strip()
    depth = 100000
    body = '{"x":' + '{"a":' * depth + "1" + "}" * depth + "}"
    # Version 1 of the format, which every collector accepts (and decodes to the end).
    doc = ('{"schema":"tier0watch.batch/1","agent":{"id":"lowtier-agent","hostname":"srv9",'
           '"version":"0.1.0"},"batch_id":"lowtier-agent:1","sequence":1,"records":'
           '[{"kind":"event","key":"lowtier-agent|Security|1","body":' + body + '}]}')
    payload = gzip.compress(doc.encode(), 9)
    print("hostile upload: %d bytes gzip-compressed, %d bytes of JSON" % (len(payload), len(doc)))
    status_code, answer = s.collector.request(
        "POST", "/api/v1/batches", payload,
        {"Authorization": "Bearer " + hostile_token, "Content-Type": "application/json",
         "Content-Encoding": "gzip"})
    assert 400 <= status_code < 500, (status_code, answer)
    assert s.collector.alive(), s.collector.log_text()[-2000:]
    s.events_file("a.xml", 1000, 1)
    s.run_until_drained()
    stored, detail = s.check(expect(1, 1000))
    s.row("deep_body (then honest agent)", 1000, stored, detail,
          "hostile body refused with %d %s" % (status_code, answer.get("error")))
    s.close()


SCENARIOS = {f.__name__: f for f in (baseline, queue_deleted, queue_quarantined,
                                      snapshot_rollback, agent_sigkill, collector_sigkill,
                                      deep_body)}

if __name__ == "__main__":
    with Workdir("collector-" + SCENARIO) as work:
        SCENARIOS[SCENARIO](work)
    print("%s: ok" % SCENARIO)
