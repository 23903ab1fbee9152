"""The fault matrix against the REAL collector: `tier0watch run` ships to
`tier0watch-collector serve` over HTTPS on 127.0.0.1, and every scenario ends with the same check
through the collector's API: every source event stored exactly once (with the content it had
when first stored), or reported lost by a drop report; duplicates and conflicts as the
collector counted them.

usage: agent_collector_test.py TIER0WATCH COLLECTOR SCENARIO
SCENARIO: baseline | queue_deleted | queue_quarantined | snapshot_rollback | agent_sigkill |
          collector_sigkill | deep_body | site_enrolment | proxy_404_405 | answer_lost |
          queue_deleted_mid_stream | queue_corrupted_mid_stream | agent_disk_full |
          collector_disk_full | clock_step
Each scenario prints one line "FAULT-MATRIX {json}" (scenario, events in, stored once, reported
lost, duplicates, conflicts) for the table in the report.
"""
import gzip
import json
import os
import random
import resource
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import (Agent, Workdir, metrics, source_events, status, wait_until,
                           write_events)
from collector_harness import RealCollector, write_agent_config
from reverse_proxy import ReverseProxy

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
        self.url = None  # a proxy in front of the collector
        self.agent = Agent(T0W, self.cfg, os.path.join(work, "agent.log"))

    def events_file(self, name, count, first, domain="CORP"):
        path = os.path.join(self.work, name)
        write_events(path, count, first, domain)
        if path not in self.files:
            self.files.append(path)
        return path

    def configure(self):
        write_agent_config(self.cfg, self.state, self.collector, self.token,
                           [("xml", f) for f in self.files], self.extra, url=self.url)

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
        twice = []  # the same source event listed more than once by the API
        for key, e in stored.items():
            suffix = key.split("|", 1)[1]
            if suffix in by_suffix:
                twice.append(suffix)
            by_suffix[suffix] = by_suffix.get(suffix, e)
        self.shown_twice = len(twice)
        assert not twice, "stored twice: %s" % twice[:5]
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

    def row(self, scenario, events_in, stored, detail, note="", duplicates=0):
        """duplicates: those counted by collector processes before the last one."""
        m = self.collector.metrics()
        row = {"scenario": scenario, "events_in": events_in, "stored_once": len(stored),
               "reported_lost": detail["drops"],
               "shown_twice": self.shown_twice,
               "duplicates": duplicates + m.get("t0w_collector_dedup_hits_total", 0),
               "conflicts": detail["conflicts"], "note": note}
        print("FAULT-MATRIX " + json.dumps(row))
        return row

    def close(self):
        if self.agent.alive():
            self.agent.kill()
        self.collector.stop()


def queued(state):
    """Events the sources queued in the agent's queue (heartbeats aside); -1 before a status."""
    st = status(T0W, state)
    return source_events(st) if st else -1


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


def site_enrolment(work):
    """Issue 10, failure 3: one enrolment secret per site. Three agents enrol with it, each gets a
    credential of its own and delivers; a fourth is refused (use limit) and keeps its events
    queued; a revoked agent gets 401 and is shown as revoked; after `agents rotate` its new
    credential, written to its state directory, delivers what its queue held. No secret or
    credential appears in any log."""
    collector = RealCollector(COLLECTOR, os.path.join(work, "collector"))
    secret = collector.admin("sites", "add", "dc-site", "--max-uses", "3",
                             "--expires-in-hours", "2")
    assert secret.startswith("t0wsite_"), secret
    secret_file = os.path.join(work, "site.secret")
    with open(secret_file, "w") as f:
        f.write(secret + "\n")
    collector.start()
    extra = "batch: {max_events: 200, max_delay_ms: 50}\n"
    agents = []
    for i in range(4):
        state = os.path.join(work, "agent%d" % i)
        xml = os.path.join(work, "events%d.xml" % i)
        write_events(xml, 500, 1, domain="SITE%d" % i)
        cfg = os.path.join(work, "agent%d.yaml" % i)
        write_agent_config(cfg, state, collector, secret_file, [("xml", xml)], extra,
                           agent_id="site-agent-%d" % i, auth_pause_ms=300)
        agents.append((Agent(T0W, cfg, os.path.join(work, "agent%d.log" % i)), state, xml, cfg))

    def drained(state, xml):
        st = status(T0W, state)
        return (st and st["queue"]["events"] == 0 and
                st["checkpoints"].get(xml, {}).get("position") == "complete")

    for agent, _, _, _ in agents[:3]:
        agent.start()
    for agent, state, xml, _ in agents[:3]:
        wait_until(lambda: drained(state, xml) or not agent.alive(), 300, "agent delivered")
        assert agent.terminate() == 0, agent.log_text()[-2000:]
    fleet = {a["agent_id"]: a for a in collector.api("/api/v1/agents")["agents"]}
    assert sorted(fleet) == ["site-agent-0", "site-agent-1", "site-agent-2"], sorted(fleet)
    for a in fleet.values():
        assert a["events"] == 500 and a["enrolled_via"] == "dc-site", a
        assert a["health"] == "ok", a
    assert len({a["name"] for a in fleet.values()}) == 3

    # The fourth: the secret is used up. Refused, paused, nothing lost.
    fourth, state4, xml4, _ = agents[3]
    fourth.start()
    wait_until(lambda: "secret_exhausted" in fourth.log_text(), 120, "the refusal")
    st = wait_until(lambda: queued(state4) == 500 and
                    status(T0W, state4), 120, "events queued")
    assert fourth.alive()
    assert fourth.terminate() == 0
    assert "site-agent-3" not in {a["agent_id"] for a in collector.api("/api/v1/agents")["agents"]}

    # Revoke agent 0: its next batch gets 401; shown as revoked; its events wait in its queue.
    agent0, state0, xml0, cfg0 = agents[0]
    name0 = fleet["site-agent-0"]["name"]
    with open(os.path.join(state0, "agent.credential")) as f:
        old_credential = f.read().strip()
    collector.admin("agents", "revoke", name0)
    code, answer = collector.request("POST", "/api/v1/batches", b"{}",
                                     {"Authorization": "Bearer " + old_credential,
                                      "Content-Type": "application/json"})
    assert code == 401 and answer["error"] == "revoked", (code, answer)
    detail = collector.agent(name0)
    assert detail["revoked"] and detail["health"] == "revoked", detail
    epoch = status(T0W, state0)["queue"]["epoch"]
    xml0b = os.path.join(work, "events0b.xml")  # 300 more events (a file read to its end
    write_events(xml0b, 300, 501, domain="SITE0")  # is not read again)
    write_agent_config(cfg0, state0, collector, secret_file, [("xml", xml0), ("xml", xml0b)],
                       extra, agent_id="site-agent-0", auth_pause_ms=300)
    agent0.start()
    wait_until(lambda: "revoked" in agent0.log_text(), 120, "the 401")
    wait_until(lambda: queued(state0) == 300, 120,
               "the new events queued")
    # Rotate: a new credential, written where the agent reads it; the queue is kept.
    new_credential = collector.admin("agents", "rotate", name0)
    with open(os.path.join(state0, "agent.credential"), "w") as f:
        f.write(new_credential + "\n")
    wait_until(lambda: drained(state0, xml0b), 300, "the queue drained with the new credential")
    assert agent0.terminate() == 0
    assert status(T0W, state0)["queue"]["epoch"] == epoch, "the same queue file"
    detail = collector.agent(name0)
    assert detail["events"] == 800 and not detail["revoked"], detail
    assert detail["credential_rotated_at"], detail
    code, _ = collector.request("POST", "/api/v1/batches", b"{}",
                                {"Authorization": "Bearer " + old_credential,
                                 "Content-Type": "application/json"})
    assert code == 401, code

    # No secret in any log.
    credentials = [new_credential, old_credential]
    for _, state, _, _ in agents[1:3]:
        with open(os.path.join(state, "agent.credential")) as f:
            credentials.append(f.read().strip())
    logs = collector.log_text() + "".join(a.log_text() for a, _, _, _ in agents)
    for s in [secret] + credentials:
        assert s not in logs, "a secret is in a log"
    stored = collector.events()
    print("FAULT-MATRIX " + json.dumps({
        "scenario": "site_enrolment (3 agents, 1 refused, revoke+rotate)", "events_in": 4 * 500 + 300,
        "stored_once": len(stored), "reported_lost": 0, "shown_twice": 0,
        "duplicates": collector.metrics().get("t0w_collector_dedup_hits_total", 0),
        "conflicts": 0, "note": "4th agent refused (secret_exhausted): its 500 events stay in its "
                                "queue, not lost; agent 0's 300 waited through revoke+rotate"}))
    assert len(stored) == 1800, len(stored)
    collector.stop()


def proxy_404_405(work):
    """Issue 10: a proxy in front of the collector answers 404 and 405 (a wrong route, a
    maintenance page) for a while, then forwards. Such answers lack the collector's protocol
    header: the agent keeps the batches queued, backs off, logs the URL and status and counts
    them; nothing is dead-lettered, every event is stored once."""
    s = Setup(work, "batch: {max_events: 100, max_delay_ms: 50}\nqueue: {chunk_records: 100}\n")
    refusals = [404, 405] * 4
    proxy = ReverseProxy(s.collector, refuse=refusals)
    s.url = proxy.url
    s.events_file("a.xml", 2000, 1)
    s.configure()
    s.agent.start()
    wait_until(lambda: s.drained() or not s.agent.alive(), 300, "the agent shipped every event")
    m = metrics(s.state)
    st = status(T0W, s.state)
    assert s.agent.terminate() == 0
    proxy.stop()
    assert proxy.answered("proxy") == refusals, proxy.log[:12]
    assert st["dead_letter"]["chunks"] == 0, st["dead_letter"]
    assert m["t0w_upload_non_collector_answers_total"] == len(refusals), m
    log = s.agent.log_text()
    for code in (404, 405):
        line = "%s/api/v1/batches answered HTTP %d without the collector's" % (proxy.url, code)
        assert line in log, log[-3000:]
    stored, detail = s.check(expect(1, 2000))
    s.row("proxy answers 404/405 x%d, then forwards" % len(refusals), 2000, stored, detail,
          "no dead letter; %d answers counted as not from the collector" % len(refusals))
    s.close()


def answer_lost(work):
    """The collector is SIGKILLed after it stored a batch (it answers only after the commit) and
    before the agent hears the answer; the proxy, seeing the answer, kills it and drops the
    agent's connection. The agent re-sends the batch to the restarted collector: a duplicate
    (same id, same content), stored once."""
    s = Setup(work, "batch: {max_events: 100, max_delay_ms: 50}\nqueue: {chunk_records: 100}\n")
    kills = []
    counted = []  # dedup hits of each collector process before it was killed

    def on_stored(n):
        if n in (3, 8, 15):
            counted.append(s.collector.metrics().get("t0w_collector_dedup_hits_total", 0))
            s.collector.kill()
            kills.append(n)
            return True
        return False

    proxy = ReverseProxy(s.collector, on_stored=on_stored)
    s.url = proxy.url
    n = 5000
    s.events_file("a.xml", n, 1)
    s.configure()
    s.agent.start()
    restarts = 0
    while restarts < 3:
        wait_until(lambda: len(kills) > restarts or s.drained(), 300, "a kill after a commit")
        if len(kills) == restarts:
            break
        s.collector.start()
        restarts += 1
    assert restarts == 3, "drained before 3 kills"
    wait_until(lambda: s.drained() or not s.agent.alive(), 300, "queue drained")
    assert s.agent.terminate() == 0
    proxy.stop()
    assert proxy.answered("collector").count("lost") == 3, proxy.log
    stored, detail = s.check(expect(1, n))
    assert detail["conflicts"] == 0, detail["recent_conflicts"][:3]
    row = s.row("collector SIGKILL between commit and answer x3", n, stored, detail,
                "each lost answer's batch re-sent and recognised as a duplicate",
                duplicates=sum(counted))
    # The three re-sent batches: 100 events each, except that one of them may be the agent's
    # first heartbeat (sent at start, alone, one record).
    assert row["duplicates"] >= 201, row
    s.close()


def queue_deleted_mid_stream(work):
    """The queue file is deleted while the agent runs with undelivered events (collector down):
    the events in it never left the machine. At the next start the agent has a new queue (new
    epoch) without checkpoints and reads its sources again: every event is stored once."""
    s = Setup(work, "batch: {max_events: 100, max_delay_ms: 50}\nqueue: {chunk_records: 100}\n")
    s.events_file("a.xml", 1000, 1)
    s.run_until_drained()
    s.collector.stop()
    s.events_file("b.xml", 2000, 1001)
    s.configure()
    s.agent.start()
    wait_until(lambda: queued(s.state) == 2000, 300,
               "2000 undelivered events queued")
    remove_queue(s.state)
    assert s.agent.terminate() == 0
    s.collector.start()
    s.run_until_drained()
    stored, detail = s.check(expect(1, 3000))
    assert detail["conflicts"] == 0, detail["recent_conflicts"][:3]
    s.row("queue deleted with 2000 undelivered", 3000, stored, detail,
          "sources read again from the start; a.xml's 1000 are duplicates")
    s.close()


def queue_corrupted_mid_stream(work):
    """The queue file is damaged while the agent runs with undelivered events, and the agent
    dies (SIGKILL). At the next start it is quarantined, reported, and the sources are read
    again: every event is stored once and the quarantine report arrives."""
    s = Setup(work, "batch: {max_events: 100, max_delay_ms: 50}\nqueue: {chunk_records: 100}\n")
    s.events_file("a.xml", 1000, 1)
    s.run_until_drained()
    s.collector.stop()
    s.events_file("b.xml", 2000, 1001)
    s.configure()
    s.agent.start()
    wait_until(lambda: queued(s.state) == 2000, 300,
               "2000 undelivered events queued")
    s.agent.kill()
    db = os.path.join(s.state, "queue.db")
    for suffix in ("-wal", "-shm"):  # what a crash of the disk's write cache leaves
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    size = os.path.getsize(db)
    with open(db, "r+b") as f:
        for offset in range(4096, size, 8192):  # every other page after the first
            f.seek(offset)
            f.write(b"\xde\xad" * 2048)
    s.collector.start()
    s.run_until_drained()
    stored, detail = s.check(expect(1, 3000))
    types = [r["type"] for r in detail["recent_status_reports"]]
    assert "queue_quarantined" in types, types
    s.row("queue corrupted with 2000 undelivered (agent killed)", 3000, stored, detail,
          "quarantined, reported, sources read again")
    s.close()


def file_size_limit(nbytes):
    """A full disk for one process: writes past nbytes fail with EFBIG (SIGXFSZ ignored). Only
    the soft limit, so that free_disk() can lift it again without privileges."""
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, hard))
    return apply


def free_disk(pid):
    """The administrator frees space: the process's file size limit goes back to its hard one."""
    hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)[1]
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard, hard))


def agent_disk_full(work):
    """The agent's disk fills while the collector is down: the queue cannot grow, the agent
    stops reading (its checkpoint stays before what it could not store) and keeps running. With
    the queue file and its WAL both at the limit even the shipper's bookkeeping cannot commit,
    so shipping waits too (SQLite needs room for the lease and the acknowledgement's delete);
    once space is freed it goes on. Nothing is dropped or lost."""
    s = Setup(work, "batch: {max_events: 200, max_delay_ms: 50}\nqueue: {chunk_records: 100}\n")
    s.collector.stop()
    n = 30000  # about 1.4 MB of queue chunks: more than the 1 MiB file size limit
    s.events_file("a.xml", n, 1)
    s.configure()
    s.agent.start(preexec_fn=file_size_limit(1 << 20))
    wait_until(lambda: "cannot store events" in s.agent.log_text() or not s.agent.alive(), 300,
               "the queue hitting the file size limit")
    assert s.agent.alive(), s.agent.log_text()[-3000:]
    st = status(T0W, s.state)
    n_queued = source_events(st)
    assert 0 < n_queued < n, st["queue"]
    s.collector.start()
    time.sleep(3)
    assert s.agent.alive(), s.agent.log_text()[-3000:]
    free_disk(s.agent.proc.pid)
    wait_until(lambda: s.drained() or not s.agent.alive(), 600, "the agent shipped every event")
    assert s.agent.terminate() == 0, s.agent.log_text()[-3000:]
    stored, detail = s.check(expect(1, n))
    s.row("agent disk full (1 MiB file limit), collector down", n, stored, detail,
          "%d events fit; reading paused until space was freed" % n_queued)
    s.close()


def collector_disk_full(work):
    """The collector's disk fills: storing fails, it answers 503 and lives; the agent keeps
    the batches queued. After space is freed (restart without the limit) everything is
    stored once."""
    s = Setup(work, "batch: {max_events: 200, max_delay_ms: 50}\nqueue: {chunk_records: 100}\n")
    s.collector.stop()
    s.collector.start(preexec_fn=file_size_limit(2 << 20))
    n = 6000
    s.events_file("a.xml", n, 1)
    s.configure()
    s.agent.start()
    wait_until(lambda: s.collector.metrics().get("t0w_collector_storage_errors_total", 0) >= 3 or
               not s.collector.alive(), 300, "storage errors on the full disk")
    assert s.collector.alive(), s.collector.log_text()[-3000:]
    before = s.collector.metrics()
    assert (status(T0W, s.state) or {}).get("queue", {}).get("events", 0) > 0
    s.collector.stop()
    s.collector.start()
    wait_until(lambda: s.drained() or not s.agent.alive(), 600, "the agent shipped every event")
    assert s.agent.terminate() == 0
    stored, detail = s.check(expect(1, n))
    s.row("collector disk full (2 MiB file limit), then freed", n, stored, detail,
          "%d storage errors answered 503; batches kept by the agent" %
          before.get("t0w_collector_storage_errors_total", 0),
          duplicates=before.get("t0w_collector_dedup_hits_total", 0))
    s.close()


FAKETIME_LIBS = ("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                 "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1")


def clock_step(work):
    """The wall clocks step while events flow: the agent's forward 2 days, then back 3 days (the
    collector's certificate is then not yet valid: after the collector restarts, uploads fail
    and wait), the collector's back 2 days, then both return. Monotonic clocks are untouched, as on a real clock step. Every
    event is stored once."""
    lib = next((p for p in FAKETIME_LIBS if os.path.exists(p)), None)
    if lib is None:
        print("SKIP: libfaketime is not installed (apt-get install faketime)")
        sys.exit(77)
    agent_clock = os.path.join(work, "agent.faketime")
    collector_clock = os.path.join(work, "collector.faketime")

    def set_clock(path, offset):
        with open(path + ".tmp", "w") as f:
            f.write(offset + "\n")
        os.replace(path + ".tmp", path)

    def env(path):
        return dict(os.environ, LD_PRELOAD=lib, FAKETIME_TIMESTAMP_FILE=path,
                    FAKETIME_DONT_FAKE_MONOTONIC="1", FAKETIME_CACHE_DURATION="1")

    set_clock(agent_clock, "+0")
    set_clock(collector_clock, "+0")
    # Small batches: the backlog after each step must outlast the polls of a loaded machine.
    s = Setup(work, "batch: {max_events: 25, max_delay_ms: 50}\nqueue: {chunk_records: 25}\n")
    s.collector.stop()
    s.collector.start(env=env(collector_clock))
    n = 60000
    s.events_file("a.xml", n, 1)
    s.configure()
    s.agent.start(env=env(agent_clock))

    def batches():
        return s.collector.metrics().get("t0w_collector_batches_total", 0)

    steps_with_traffic = []

    def after(k):
        """Waits for k more batches. How much of the backlog is left at each step depends on the
        machine (after the -3d step the agent may ship for a while on a connection it already
        had): a step reached with the queue drained is recorded, not a failure; the check at
        the end (every event stored once, no conflict) holds either way."""
        target = batches() + k
        wait_until(lambda: batches() >= target or s.drained(), 300, "%d more batches" % k)
        steps_with_traffic.append(not s.drained())

    after(5)
    set_clock(agent_clock, "+2d")
    after(10)
    set_clock(agent_clock, "-3d")
    # The agent keeps its connection; a collector restart makes it verify the certificate anew.
    s.collector.stop()
    s.collector.start(env=env(collector_clock))
    wait_until(lambda: "tls-verification" in s.agent.log_text(), 120,
               "uploads refused: the certificate is not valid yet on the agent's clock")
    set_clock(agent_clock, "+0")
    after(10)
    set_clock(collector_clock, "-2d")
    after(10)
    set_clock(collector_clock, "+0")
    s.collector._opener = None  # a session made on the stepped clock
    wait_until(lambda: s.drained() or not s.agent.alive(), 600, "queue drained")
    assert s.agent.terminate() == 0
    stored, detail = s.check(expect(1, n))
    assert detail["conflicts"] == 0, detail["recent_conflicts"][:3]
    assert steps_with_traffic[0], "drained before the first clock step"
    s.row("clock steps: agent +2d, -3d, back; collector -2d, back", n, stored, detail,
          "at -3d TLS verification failed (certificate not yet valid): uploads waited; "
          "%d of %d steps with events still queued" % (sum(steps_with_traffic),
                                                        len(steps_with_traffic)))
    s.close()


SCENARIOS = {f.__name__: f for f in (baseline, queue_deleted, queue_quarantined,
                                      snapshot_rollback, agent_sigkill, collector_sigkill,
                                      deep_body, site_enrolment, proxy_404_405, answer_lost,
                                      queue_deleted_mid_stream, queue_corrupted_mid_stream,
                                      agent_disk_full, collector_disk_full, clock_step)}

if __name__ == "__main__":
    with Workdir("collector-" + SCENARIO) as work:
        SCENARIOS[SCENARIO](work)
    print("%s: ok" % SCENARIO)
