"""Helpers for the agent's store-and-forward integration tests: the REAL `tier0watch run`
process against the REAL `t0w-fake-collector` process over HTTPS on 127.0.0.1.

Waiting is always a bounded poll on files, ports or `tier0watch status --json`; nothing sleeps
for a fixed time to let something happen.
"""
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from child_processes import track

EVENT_TEMPLATE = (
    "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
    "<Provider Name='Microsoft-Windows-Security-Auditing' Guid='{{54849625-5478-4994-A5BA-3E3B0328C30D}}'/>"
    "<EventID>4624</EventID><Version>2</Version><Level>0</Level><Task>12544</Task><Opcode>0</Opcode>"
    "<Keywords>0x8020000000000000</Keywords><TimeCreated SystemTime='2024-05-14T08:{m:02d}:{s:02d}.{f:07d}Z'/>"
    "<EventRecordID>{rid}</EventRecordID><Correlation/><Execution ProcessID='696' ThreadID='{tid}'/>"
    "<Channel>Security</Channel><Computer>DC01.corp.contoso.com</Computer><Security/></System>"
    "<EventData><Data Name='SubjectUserSid'>S-1-5-18</Data><Data Name='TargetUserName'>user{u}</Data>"
    "<Data Name='TargetDomainName'>{domain}</Data><Data Name='LogonType'>3</Data>"
    "<Data Name='IpAddress'>10.0.{a}.{b}</Data><Data Name='WorkstationName'>WS{u}</Data>"
    "<Data Name='TargetLogonId'>0x{rid:x}</Data></EventData></Event>\n")


def write_events(path, count, first_record_id=1, domain="CORP"):
    """Rendered-XML events with distinct EventRecordIDs (keys Security|<id>); `domain` changes
    their content without changing their record ids."""
    with open(path, "w", encoding="utf-8") as out:
        out.write("<Events>\n")
        for i in range(count):
            rid = first_record_id + i
            out.write(EVENT_TEMPLATE.format(m=(i // 60) % 60, s=i % 60, f=i % 10000000, rid=rid,
                                            tid=1000 + i % 97, u=i % 5000, a=(i // 250) % 250,
                                            b=i % 250, domain=domain))
        out.write("</Events>\n")
    return {"Security|%d" % (first_record_id + i) for i in range(count)}


def wait_until(predicate, timeout, what):
    """Polls predicate() until it returns a true value (returned) or the bound passes (fails)."""
    end = time.monotonic() + timeout
    delay = 0.01
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(delay)  # poll interval, not a wait for something to happen
        delay = min(delay * 2, 0.2)


class FakeCollector:
    def __init__(self, binary, directory, args=(), port=None, keep_pki=False, time_limit=600):
        os.makedirs(directory, exist_ok=True)
        cmd = [binary, "--dir", directory, "--time-limit", str(time_limit)] + list(args)
        if port:
            cmd += ["--port", str(port)]
        if keep_pki:
            cmd += ["--keep-pki"]
        self.dir = directory
        self.proc = track(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(
            os.path.join(directory, "collector.err"), "ab")))
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        if not ready:
            self.stop()
            raise AssertionError("fake collector did not start: " + " ".join(cmd))
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("fake collector exited: see " + directory + "/collector.err")
        self.ready = json.loads(line)
        self.port = self.ready["port"]
        self.ca = self.ready["ca_cert"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)

    def requests(self):
        path = os.path.join(self.dir, "requests.jsonl")
        out = []
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                for line in f:
                    if line.endswith("\n"):
                        out.append(json.loads(line))
        return out


def accepted_records(requests):
    """Records of the batches the collector answered 2xx, as a list of (kind, key, body). Keys
    are given as v2 writes them, "<agent id>|<key>", whatever the batch's version (v3 batches
    carry agent-local keys)."""
    out = []
    for r in requests:
        if 200 <= r["status"] < 300 and "body_file" in r:
            with open(r["body_file"], encoding="utf-8") as f:
                batch = json.load(f)
            v3 = batch.get("schema") == "tier0watch.batch/3"
            for rec in batch["records"]:
                key = batch["agent"]["id"] + "|" + rec["key"] if v3 else rec["key"]
                out.append((rec["kind"], key, rec["body"]))
    return out


def event_keys(records, agent_id=None):
    keys = set()
    for kind, key, _ in records:
        if kind == "event":
            keys.add(key.split("|", 1)[1])  # strip the agent id
    return keys


class Agent:
    def __init__(self, tier0watch, config, log):
        self.tier0watch = tier0watch
        self.config = config
        self.log = log
        self.proc = None

    def start(self, preexec_fn=None, env=None):
        """preexec_fn / env: a fault to start it with (a file size limit, a faked clock)."""
        self.proc = subprocess.Popen([self.tier0watch, "run", "--config", self.config],
                                     stdout=subprocess.DEVNULL, stderr=open(self.log, "ab"),
                                     preexec_fn=preexec_fn, env=env)
        track(self.proc)
        return self

    def terminate(self, timeout=60):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=30)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        with open(self.log, encoding="utf-8", errors="replace") as f:
            return f.read()


def status(tier0watch, state_dir):
    r = subprocess.run([tier0watch, "status", "--state-dir", state_dir, "--json"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        return None
    return json.loads(r.stdout)


def source_events(st):
    """Events the sources queued: the queue's records less the priority lane (the agent's
    heartbeats, sent from the start, and incident reports)."""
    q = st["queue"]
    return q["events"] - q.get("priority_events", 0)


def write_config(path, state_dir, port, ca, sources, extra=""):
    with open(path, "w", encoding="utf-8") as f:
        f.write("agent: {state_dir: %s, log_level: info, shutdown_deadline_ms: 10000}\n" % state_dir)
        f.write("collector: {url: \"https://127.0.0.1:%d\", ca_bundle: %s, token: itest-token, "
                "request_timeout_ms: 5000}\n" % (port, ca))
        f.write("retry: {backoff_base_ms: 20, backoff_cap_ms: 500}\n")
        f.write("metrics: {listen: \"127.0.0.1:0\", log_interval_ms: 0}\n")
        f.write("sources:\n")
        for kind, p in sources:
            f.write("  - %s: {path: %s}\n" % (kind, p))
        f.write(extra)


def metrics(state_dir):
    import urllib.request
    with open(os.path.join(state_dir, "metrics.port")) as f:
        port = int(f.read().strip())
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        text = r.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = int(float(value))
    return values


class Workdir:
    def __init__(self, name):
        self.path = tempfile.mkdtemp(prefix="t0w-%s-" % name)

    def __enter__(self):
        return self.path

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            print("kept for inspection: " + self.path, file=sys.stderr)
