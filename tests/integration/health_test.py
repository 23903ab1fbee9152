"""Fleet health end to end: the REAL `tier0watch run` heartbeats to the REAL
`tier0watch-collector serve`, whose health tracker opens and closes issues.

Scenarios (argv[3]):
  agent_silent    SIGKILL the agent: agent_silent opens within silent_after_seconds + one
                  heartbeat (+ one evaluation period), and closes after a restart.
  source_absent   an xml source pointed at a missing file (Linux has no event log channel; the
                  replay path is the source that can be absent here): source_absent opens, names
                  the source; `tier0watch status` and the collector show the same source figures.
  events_dropped  the queue cap reached while the collector is down (drop_oldest): once it is up,
                  events_dropped opens (from the drop counter's delta), then closes at the next
                  heartbeat without new drops.
  same_figures    `tier0watch status` prints, and the collector shows, the same per-source state,
                  last position, rate, lag and time to wrap for the agent.
  api             GET /api/v1/health filters, suppression through the authenticated API (CSRF),
                  and a webhook receiving signed notifications.

Waiting is a bounded poll; nothing sleeps for a fixed time to let something happen.
"""
import hashlib
import hmac
import http.server
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_harness import Agent, Workdir, status, wait_until, write_events
from collector_harness import RealCollector

T0W, COLLECTOR, SCENARIO = sys.argv[1], sys.argv[2], sys.argv[3]
SILENT_AFTER = 4      # dashboard.silent_after_seconds
HEARTBEAT_MS = 500    # agent.status_interval_ms
EVALUATE = 1          # health.evaluate_interval_seconds


def write_config(path, state, collector, token_file, sources, extra=""):
    with open(path, "w", encoding="utf-8") as f:
        f.write("agent: {state_dir: %s, log_level: info, shutdown_deadline_ms: 10000, "
                "status_interval_ms: %d}\n" % (state, HEARTBEAT_MS))
        f.write("collector: {url: \"%s\", ca_bundle: %s, token_file: %s, "
                "request_timeout_ms: 5000}\n" % (collector.url, collector.ca, token_file))
        f.write("retry: {backoff_base_ms: 20, backoff_cap_ms: 500}\n")
        f.write("batch: {max_delay_ms: 100}\n")
        f.write("metrics: {log_interval_ms: 0}\n")
        f.write("sources:\n")
        for kind, p in sources:
            f.write("  - %s: {path: %s}\n" % (kind, p))
        f.write(extra)


def collector_config(extra=""):
    return ("dashboard: {silent_after_seconds: %d}\n" % SILENT_AFTER +
            "health: {evaluate_interval_seconds: %d}\n" % EVALUATE + extra)


def issues(collector, **filters):
    q = "&".join("%s=%s" % kv for kv in filters.items())
    return collector.api("/api/v1/health?" + q)["issues"]


def issue(collector, agent, code, state):
    found = [i for i in issues(collector, agent=agent, code=code, state=state)]
    return found[0] if found else None


class Setup:
    def __init__(self, work, collector_extra="", agent_extra=""):
        self.work = work
        self.collector = RealCollector(COLLECTOR, os.path.join(work, "collector"),
                                       collector_config(collector_extra))
        self.token = self.collector.enroll("dc01")
        self.collector.start()
        self.state = os.path.join(work, "state")
        self.cfg = os.path.join(work, "agent.yaml")
        self.agent_extra = agent_extra
        self.agent = Agent(T0W, self.cfg, os.path.join(work, "agent.log"))

    def configure(self, sources):
        write_config(self.cfg, self.state, self.collector, self.token, sources, self.agent_extra)

    def heartbeat(self):
        """The agent's latest heartbeat as the collector stores it."""
        st = self.collector.agent("dc01").get("status") or {}
        return st if st.get("type") == "agent_status" else None


def agent_silent(work):
    s = Setup(work)
    xml = os.path.join(work, "a.xml")
    write_events(xml, 50)
    s.configure([("xml", xml)])
    s.agent.start()
    wait_until(s.heartbeat, 60, "a first heartbeat at the collector")
    wait_until(lambda: issue(s.collector, "dc01", "agent_silent", "closed") or
               not issue(s.collector, "dc01", "agent_silent", "open"), 30, "no agent_silent")
    assert not issue(s.collector, "dc01", "agent_silent", "open")
    s.agent.kill()  # SIGKILL
    killed = time.monotonic()
    bound = SILENT_AFTER + HEARTBEAT_MS / 1000 + EVALUATE + 2  # + polling and HTTP slack
    opened = wait_until(lambda: issue(s.collector, "dc01", "agent_silent", "open"), 60,
                        "agent_silent open")
    took = time.monotonic() - killed
    print("agent_silent opened %.1f s after SIGKILL (silent_after %d s, heartbeat %d ms, "
          "evaluation every %d s)" % (took, SILENT_AFTER, HEARTBEAT_MS, EVALUATE))
    assert took <= bound, "agent_silent opened after %.1f s, bound %.1f s" % (took, bound)
    assert opened["severity"] == "high" and opened["source"] is None, opened
    # Agents API shows it as the agent's worst open issue.
    a = s.collector.agent("dc01")
    assert a["worst_issue"]["code"] == "agent_silent", a["worst_issue"]
    s.agent.start()
    restarted = time.monotonic()
    closed = wait_until(lambda: issue(s.collector, "dc01", "agent_silent", "closed"), 60,
                        "agent_silent closed after the restart")
    print("agent_silent closed %.1f s after the restart" % (time.monotonic() - restarted))
    assert closed["id"] == opened["id"] and closed["closed_at"], closed
    assert not issue(s.collector, "dc01", "agent_silent", "open")
    assert s.agent.terminate() == 0


def source_absent(work):
    s = Setup(work)
    xml = os.path.join(work, "present.xml")
    write_events(xml, 20)
    missing = os.path.join(work, "no-such-folder", "missing.xml")
    s.configure([("xml", xml), ("xml", missing)])
    s.agent.start()
    h = wait_until(lambda: issue(s.collector, "dc01", "source_absent", "open"), 60,
                   "source_absent open")
    assert h["source"] == missing, h
    assert h["severity"] == "medium", h
    assert not issue(s.collector, "dc01", "source_absent", "open")["source"] == xml
    detail = s.collector.agent("dc01")
    states = {x["name"]: x["state"] for x in detail["sources"]}
    assert states[missing] == "absent", states
    print("source_absent opened for %s: %s" % (h["source"], h["detail"]))
    # Fixing the configuration closes it: the restarted agent no longer has that source.
    assert s.agent.terminate() == 0
    s.configure([("xml", xml)])
    s.agent.start()
    wait_until(lambda: issue(s.collector, "dc01", "source_absent", "closed"), 60,
               "source_absent closed once the source is gone")
    assert not issue(s.collector, "dc01", "source_absent", "open")
    assert s.agent.terminate() == 0


def events_dropped(work):
    s = Setup(work, agent_extra="queue: {max_bytes: 262144, chunk_records: 100, "
                                "overflow: drop_oldest}\n")
    # The collector is down (started once for its port and certificate): the queue fills and
    # drops its oldest events.
    s.collector.stop()
    xml = os.path.join(work, "many.xml")
    write_events(xml, 20000)
    s.configure([("xml", xml)])
    s.agent.start()
    st = wait_until(lambda: (lambda x: x if x and sum(d["events"] for d in x["drops"].values())
                             and x["checkpoints"].get(xml, {}).get("position") == "complete"
                             else None)(status(T0W, s.state)), 600, "drops while the collector is down")
    dropped = sum(d["events"] for d in st["drops"].values())
    s.collector.start()
    h = wait_until(lambda: issue(s.collector, "dc01", "events_dropped", "open"), 120,
                   "events_dropped open")
    print("events_dropped opened: %s (the agent dropped %d)" % (h["detail"], dropped))
    # The heartbeats queued before the queue neared its cap carry part of the drops; later ones
    # (once it drains) the rest: the issue counts what grew between evaluated heartbeats.
    n = int(h["detail"].split(" ", 1)[0])
    assert 0 < n <= dropped, (h, dropped)
    # No new drops: the next heartbeat's counter equals the previous one, and the issue closes.
    closed = wait_until(lambda: issue(s.collector, "dc01", "events_dropped", "closed"), 120,
                        "events_dropped closed when drops stopped")
    assert closed["id"] == h["id"], closed
    assert not issue(s.collector, "dc01", "events_dropped", "open")
    assert s.agent.terminate() == 0


def same_figures(work):
    s = Setup(work)
    xml = os.path.join(work, "a.xml")
    write_events(xml, 3000)
    missing = os.path.join(work, "gone.xml")
    s.configure([("xml", xml), ("xml", missing)])
    s.agent.start()
    wait_until(lambda: (status(T0W, s.state) or {}).get("checkpoints", {}).get(xml, {})
               .get("position") == "complete", 120, "file read")
    wait_until(lambda: (s.heartbeat() or {}).get("clock_offset_ms") is not None, 60,
               "a heartbeat with the clock offset")
    # Stopped, the agent flushes its queue: its last heartbeat reaches the collector.
    assert s.agent.terminate() == 0
    local = status(T0W, s.state)["heartbeat"]
    remote = wait_until(lambda: (lambda h: h if h and h["time"] == local["time"] else None)(
        s.heartbeat()), 60, "the collector holding the agent's last heartbeat")
    assert local["sources"] == remote["sources"], (local["sources"], remote["sources"])
    detail = s.collector.agent("dc01")
    assert detail["sources"] == local["sources"]
    by_name = {x["name"]: x for x in local["sources"]}
    assert by_name[xml]["events"] == 3000 and by_name[xml]["last_position"], by_name[xml]
    assert by_name[missing]["state"] == "absent"
    # The human output prints the same figures.
    text = subprocess.run([T0W, "status", "--state-dir", s.state], capture_output=True,
                          text=True, timeout=60).stdout
    for src in local["sources"]:
        assert src["name"] + " (" + src["kind"] + "): " + src["state"] in text, text
        assert "position " + (src["last_position"] or "-") in text, text
        fig = lambda v, unit: "-" if v is None else json.dumps(v) + unit
        assert "rate " + fig(src["rate_per_second"], "/s") in text, text
        assert "lag " + fig(src["lag_seconds"], " s") in text, text
        assert "time to wrap " + fig(src["time_to_wrap_seconds"], " s") in text, text
    for key in ("version", "uptime_seconds", "config", "queue", "drops", "gaps", "dead_letters",
                "rules", "process", "load", "clock_offset_ms"):
        assert key in remote, key
    assert remote["config"]["origin"] == "file", remote["config"]
    assert remote["clock_offset_ms"] is not None and abs(remote["clock_offset_ms"]) < 5000, remote
    assert remote["process"]["memory_bytes"] > 0, remote["process"]
    print("same figures: %s" % json.dumps(local["sources"]))


class Hook(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def api(work):
    secret = "webhook-shared-secret-for-the-test"
    pki = os.path.join(work, "hook")
    os.makedirs(pki)
    key, cert = os.path.join(pki, "key.pem"), os.path.join(pki, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = "https://127.0.0.1:%d/hooks/t0w" % server.server_address[1]
    s = Setup(work, collector_extra="notify: {webhook: {enabled: true, url: \"%s\", secret: %s, "
                                    "ca_file: %s}}\n" % (url, secret, cert))
    missing = os.path.join(work, "missing.xml")
    s.configure([("xml", missing)])
    s.agent.start()
    h = wait_until(lambda: issue(s.collector, "dc01", "source_absent", "open"), 60, "an issue")
    # Filters.
    assert issues(s.collector, code="source_absent", state="open")[0]["id"] == h["id"]
    assert issues(s.collector, agent="nobody") == []
    # Suppression needs the session and its CSRF token.
    s.collector.api("/api/v1/session")
    opener = s.collector._opener
    try:
        opener.open(s.collector.url + "/api/v1/health?state=bogus", timeout=60)
        raise AssertionError("state=bogus accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 400, e.code
    status_code, _ = s.collector.request("GET", "/api/v1/health")
    assert status_code == 401, status_code  # no session
    csrf = s.collector.api("/api/v1/session")["csrf"]
    req = urllib.request.Request(s.collector.url + "/api/v1/health/%d/suppress" % h["id"],
                                 method="POST", data=json.dumps({"hours": 1}).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        opener.open(req, timeout=60)
        raise AssertionError("suppress without CSRF token accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 403, e.code
    req.add_header("X-CSRF-Token", csrf)
    with opener.open(req, timeout=60) as r:
        sup = json.load(r)
    assert sup["state"] == "suppressed" and sup["suppressed_by"] == "admin", sup
    first = wait_until(lambda: issue(s.collector, "dc01", "source_absent", "suppressed"), 30,
                       "suppressed")
    # Later evaluations refresh it (the condition holds) and leave it suppressed.
    later = wait_until(lambda: (lambda h: h if h and h["last_seen"] > first["last_seen"] else None)(
        issue(s.collector, "dc01", "source_absent", "suppressed")), 30, "a later evaluation")
    assert later["id"] == h["id"]
    assert not issue(s.collector, "dc01", "source_absent", "open")
    # The webhook got the opening, signed.
    def opened_notification():
        for headers, body in Hook.received:
            j = json.loads(body)
            if j.get("event") == "health_issue_opened" and j["body"]["code"] == "source_absent":
                return headers, body, j
        return None
    headers, body, j = wait_until(opened_notification, 60, "webhook notification")
    ts = headers["X-Tier0Watch-Timestamp"]
    want = "sha256=" + hmac.new(secret.encode(), ts.encode() + b"." + body,
                                hashlib.sha256).hexdigest()
    assert headers["X-Tier0Watch-Signature"] == want, (headers, want)
    assert j["agent"] == "dc01" and j["kind"] == "health", j
    assert secret not in s.collector.log_text(), "the webhook secret was logged"
    print("webhook: %d notifications, signature verified" % len(Hook.received))
    assert s.agent.terminate() == 0
    server.shutdown()


if __name__ == "__main__":
    with Workdir("health-" + SCENARIO) as work:
        globals()[SCENARIO](work)
    print("PASS " + SCENARIO)
