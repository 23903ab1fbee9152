"""Store-and-forward integration tests: the real `tier0watch run` against the real
`t0w-fake-collector` over HTTPS on 127.0.0.1, with exact counts.

usage: agent_store_forward_test.py TIER0WATCH FAKE_COLLECTOR SCENARIO
SCENARIO: collector_down | sigkill | queue_cap | http_413 | http_429 | http_500 | hang |
          wrong_cert | corrupt_db
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import (Agent, FakeCollector, Workdir, accepted_records, event_keys, metrics,
                           source_events,
                           status, wait_until, write_config, write_events)

T0W, FAKE, SCENARIO = sys.argv[1], sys.argv[2], sys.argv[3]


def setup(work, n, collector_args=(), extra="", up=True, timeout_ms=5000, first_record_id=1):
    fc = FakeCollector(FAKE, os.path.join(work, "fc"), collector_args)
    xml = os.path.join(work, "events.xml")
    keys = write_events(xml, n, first_record_id)
    state = os.path.join(work, "state")
    cfg = os.path.join(work, "agent.yaml")
    write_config(cfg, state, fc.port, fc.ca, [("xml", xml)], extra)
    if timeout_ms != 5000:
        with open(cfg) as f:
            text = f.read().replace("request_timeout_ms: 5000", "request_timeout_ms: %d" % timeout_ms)
        with open(cfg, "w") as f:
            f.write(text)
    if not up:
        fc.stop()
    agent = Agent(T0W, cfg, os.path.join(work, "agent.log"))
    return fc, xml, keys, state, agent


def stored_all(state, xml, n=None):
    st = status(T0W, state)
    if not st or st["checkpoints"].get(xml, {}).get("position") != "complete":
        return None
    if n is not None and source_events(st) < n:
        return None
    return st


def drained(state, xml):
    st = stored_all(state, xml)
    return st if st and st["queue"]["events"] == 0 else None


def check_all_delivered(fc, keys):
    got = event_keys(accepted_records(fc.requests()))
    missing = keys - got
    extra = got - keys
    assert not missing, "%d events never delivered, e.g. %s" % (len(missing), sorted(missing)[:5])
    assert not extra, "unexpected keys: %s" % sorted(extra)[:5]
    return got


def collector_down(work):
    n = 100000
    fc, xml, keys, state, agent = setup(work, n, up=False,
                                        extra="batch: {max_events: 5000, max_delay_ms: 200}\n")
    agent.start()
    st = wait_until(lambda: stored_all(state, xml, n), 600, "all %d events stored" % n)
    assert source_events(st) == n, st["queue"]
    assert agent.alive(), agent.log_text()[-2000:]
    assert not fc.requests()
    up = FakeCollector(FAKE, fc.dir, port=fc.port, keep_pki=True)
    wait_until(lambda: drained(state, xml), 600, "queue drained to the collector")
    assert agent.terminate() == 0
    got = check_all_delivered(up, keys)
    total = sum(1 for k, _, _ in accepted_records(up.requests()) if k == "event")
    print("delivered %d distinct events (%d records received, %d requests)" %
          (len(got), total, len(up.requests())))
    assert len(got) == 100000
    up.stop()


REQUEST_DELAY_MS = 20


def sigkill(work):
    seed = int(os.environ.get("T0W_SEED", random.SystemRandom().randrange(1 << 30)))
    print("seed %d (rerun with T0W_SEED=%d)" % (seed, seed))
    rng = random.Random(seed)
    # 20 kills during the upload whatever the agent's speed: the collector answers each request
    # REQUEST_DELAY_MS after it arrives, so the upload's pace is the collector's (at most one
    # request of at most 100 events per delay; the agent sends one request at a time). A run
    # uploads its target (at most 16 requests) plus what goes out while this script polls and
    # kills (a poll interval of at most 0.2 s and a `tier0watch status`: about 10 requests at
    # 20 ms), so 20 runs take at most ~520 of the 1,000 requests of 100 events.
    n = 100000
    fc, xml, keys, state, agent = setup(
        work, n, collector_args=("--delay-ms", str(REQUEST_DELAY_MS)),
        extra="batch: {max_events: 100, max_delay_ms: 50}\nqueue: {chunk_records: 100}\n")
    kills = 0
    for i in range(20):
        before = len(fc.requests())
        agent.start()
        # A random moment during the upload: after this run's first request reached the
        # collector, plus a random extra number of requests.
        target = before + 1 + rng.randrange(0, 15)
        # Drained before the target: nothing left to upload, so the check below ends the loop
        # (and the kill count fails the test) instead of waiting for requests that never come.
        wait_until(lambda: len(fc.requests()) >= target or not agent.alive() or
                   drained(state, xml), 120, "upload in progress")
        agent.kill()
        kills += 1
        if drained(state, xml):
            break
    during = len(fc.requests())
    print("SIGKILLed the agent %d times during upload (%d requests by then)" % (kills, during))
    assert kills == 20, "the upload finished before 20 kills (%d requests): raise the delay" % during
    agent.start()
    # An agent that died on restart fails the test now, not after the whole bound.
    wait_until(lambda: drained(state, xml) or not agent.alive(), 600,
               "queue drained after the last restart")
    assert agent.alive() or drained(state, xml), "the agent died after its last restart"
    assert agent.terminate() == 0
    got = check_all_delivered(fc, keys)
    received = sum(1 for k, _, _ in accepted_records(fc.requests()) if k == "event")
    largest = max(len(accepted_records([r])) for r in fc.requests())
    print("distinct %d of %d; %d received (duplicates after crashes: %d); %d requests, the "
          "largest of %d records" % (len(got), n, received, received - len(got),
                                     len(fc.requests()), largest))
    assert len(got) == n


def queue_cap(work):
    n = 20000
    fc, xml, keys, state, agent = setup(
        work, n, up=False,
        extra="queue: {max_bytes: 262144, chunk_records: 100, overflow: drop_oldest}\n")
    agent.start()
    st = wait_until(lambda: stored_all(state, xml), 600, "all events read")
    dropped_status = sum(d["events"] for d in st["drops"].values())
    assert dropped_status > 0, st
    up = FakeCollector(FAKE, fc.dir, port=fc.port, keep_pki=True)
    wait_until(lambda: drained(state, xml), 600, "queue drained")
    assert agent.terminate() == 0
    records = accepted_records(up.requests())
    got = event_keys(records)
    assert got <= keys
    reports = {}
    for kind, key, body in records:
        if kind == "status" and body.get("type") == "queue_drop":
            reports[key] = body["dropped_events"]
    reported = sum(reports.values())
    print("delivered %d, dropped %d (status says %d) in %d reports, total %d" %
          (len(got), reported, dropped_status, len(reports), n))
    assert reported == dropped_status
    assert len(got) + reported == n, "missing events are not all reported"
    assert len(keys - got) == reported


def http_413(work):
    n = 5000
    fc, xml, keys, state, agent = setup(work, n, ["--max-body", "40000"],
                                        extra="batch: {max_events: 5000}\n")
    agent.start()
    wait_until(lambda: drained(state, xml), 300, "queue drained")
    st = status(T0W, state)
    assert agent.terminate() == 0
    check_all_delivered(fc, keys)
    statuses = [r["status"] for r in fc.requests()]
    # The first lease is one chunk (the collector's version is not known yet); full ones follow.
    assert 413 in statuses[:3], statuses[:10]
    assert st["dead_letter"]["chunks"] == 0
    print("requests: %d (413: %d)" % (len(statuses), statuses.count(413)))


def http_429(work):
    n = 1000
    fc, xml, keys, state, agent = setup(work, n, ["--reply-429", "1", "--reply-429-count", "3"])
    agent.start()
    wait_until(lambda: drained(state, xml), 300, "queue drained")
    m = metrics(state)
    assert agent.terminate() == 0
    check_all_delivered(fc, keys)
    statuses = [r["status"] for r in fc.requests()]
    assert statuses[:3] == [429, 429, 429] and 200 in statuses, statuses
    assert m["t0w_upload_retries_total"] == 3, m
    assert "next attempt in 1" in agent.log_text()  # Retry-After: 1 s is the backoff floor


def http_500(work):
    n = 2000
    fc, xml, keys, state, agent = setup(work, n, ["--fail-first", "25"])
    agent.start()
    wait_until(lambda: drained(state, xml), 300, "queue drained")
    m = metrics(state)
    assert agent.terminate() == 0
    check_all_delivered(fc, keys)
    statuses = [r["status"] for r in fc.requests()]
    assert statuses[:25] == [500] * 25 and statuses[25:] and set(statuses[25:]) == {200}
    assert m["t0w_upload_retries_total"] == 25, m


def hang(work):
    n = 1000
    fc, xml, keys, state, agent = setup(work, n, ["--hang"], timeout_ms=1000)
    agent.start()
    wait_until(lambda: stored_all(state, xml), 300, "events stored")
    wait_until(lambda: metrics(state).get("t0w_upload_transport_errors_total", 0) >= 2, 120,
               "two upload timeouts")
    assert agent.terminate() == 0
    st = status(T0W, state)
    assert source_events(st) == n, st["queue"]  # nothing acked, nothing lost
    fc.stop()
    up = FakeCollector(FAKE, fc.dir, port=fc.port, keep_pki=True)
    agent.start()
    wait_until(lambda: drained(state, xml), 300, "queue drained to a healthy collector")
    assert agent.terminate() == 0
    check_all_delivered(up, keys)


def wrong_cert(work):
    n = 100
    fc, xml, keys, state, agent = setup(work, n, ["--wrong-cert"])
    agent.start()
    wait_until(lambda: "tls-verification" in agent.log_text(), 120, "a TLS verification failure")
    assert agent.terminate() == 0
    assert fc.requests() == [], "the agent sent a request to a server it must not trust"
    st = status(T0W, state)
    assert source_events(st) == n, st["queue"]


def corrupt_db(work):
    n = 1000
    state = os.path.join(work, "state")
    os.makedirs(state)
    with open(os.path.join(state, "queue.db"), "wb") as f:
        f.write(b"this is not an SQLite database\n" * 4096)
    fc, xml, keys, state, agent = setup(work, n)
    agent.start()
    wait_until(lambda: drained(state, xml), 300, "queue drained")
    assert agent.terminate() == 0
    records = accepted_records(fc.requests())
    check_all_delivered(fc, keys)
    incidents = [b for k, _, b in records if k == "status" and b.get("type") == "queue_quarantined"]
    assert len(incidents) == 1, incidents
    moved = [f for f in os.listdir(state) if f.startswith("queue.db") and f not in
             ("queue.db", "queue.db-wal", "queue.db-shm")]
    assert moved, os.listdir(state)


def metrics_endpoint(work):
    import http.client
    import socket
    import subprocess
    n = 500
    fc, xml, keys, state, agent = setup(work, n)
    agent.start()
    wait_until(lambda: drained(state, xml), 300, "queue drained")
    m = metrics(state)
    assert m['t0w_source_events_total{source="%s"}' % xml] == n, m
    assert m['t0w_source_enqueued_total{source="%s"}' % xml] == n, m
    # Every record shipped: the events and the agent's heartbeats (agent_status).
    shipped = accepted_records(fc.requests())
    assert len(event_keys(shipped)) == n, m
    assert m["t0w_shipped_records_total"] == len(shipped) and m["t0w_queue_records"] == 0, m
    assert m['t0w_dropped_events_total{reason="queue_full"}'] == 0, m
    with open(os.path.join(state, "metrics.port")) as f:
        port = int(f.read())
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/metrics", body="x")
    assert conn.getresponse().status == 405
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/other")
    assert conn.getresponse().status == 404
    # An oversized request is refused: the connection closes without an answer.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 20000 + b"\r\n\r\n")
        try:
            data = s.recv(100)
        except ConnectionResetError:
            data = b""
        assert data == b"", data
    assert agent.terminate() == 0
    check_all_delivered(fc, keys)
    # Non-loopback listen addresses are refused at start, naming the file and line.
    cfg = os.path.join(work, "bad.yaml")
    with open(os.path.join(work, "agent.yaml")) as f:
        text = f.read().replace('listen: "127.0.0.1:0"', 'listen: "0.0.0.0:9464"')
    with open(cfg, "w") as f:
        f.write(text)
    r = subprocess.run([T0W, "run", "--config", cfg], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "bad.yaml:4" in r.stderr and "loopback" in r.stderr, r.stderr


SCENARIOS = {f.__name__: f for f in (collector_down, sigkill, queue_cap, http_413, http_429,
                                      http_500, hang, wrong_cert, corrupt_db, metrics_endpoint)}

if __name__ == "__main__":
    with Workdir(SCENARIO) as work:
        SCENARIOS[SCENARIO](work)
    print("%s: ok" % SCENARIO)
