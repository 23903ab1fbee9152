"""The REAL `tier0watch-collector serve` for the agent's integration tests: configuration in a
temporary state directory, agent enrolment and a dashboard user through its own commands, and
its query API (login, events, agents, alerts) and /metrics over HTTPS with its own certificate.

Waiting is a bounded poll (agent_harness.wait_until); nothing sleeps for a fixed time.
"""
import http.cookiejar
import json
import os
import select
import ssl
import subprocess
import urllib.error
import urllib.request

from child_processes import track

PASSWORD = "integration-test-password"


class RealCollector:
    def __init__(self, binary, directory, extra_config=""):
        self.binary = binary
        self.dir = directory
        self.state = os.path.join(directory, "state")
        os.makedirs(self.state, exist_ok=True)
        self.config = os.path.join(directory, "collector.yaml")
        self.extra_config = extra_config
        self.port = 0
        self.proc = None
        self._write_config()
        self._run(["users", "add", "admin", "--password-stdin"], stdin=PASSWORD + "\n")
        self._opener = None

    def _write_config(self):
        with open(self.config, "w", encoding="utf-8") as f:
            f.write("listen: {address: 127.0.0.1, port: %d}\n" % self.port)
            f.write("state_dir: %s\n" % self.state)
            f.write("log: {level: info}\n")
            # The agents of these tests send as fast as they can.
            f.write("limits: {agent_requests_per_second: 10000, agent_burst: 10000}\n")
            f.write(self.extra_config)

    def _run(self, args, stdin=None):
        r = subprocess.run([self.binary] + args + ["--config", self.config], input=stdin,
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise AssertionError("tier0watch-collector %s: %s" % (" ".join(args), r.stderr))
        return r.stdout

    def admin(self, *args, stdin=None):
        """A command (agents ..., sites ...); its stdout (a secret it prints once)."""
        return self._run(list(args), stdin=stdin).strip()

    def enroll(self, name):
        """A per-agent token (agents enroll NAME), written to a file for the agent's token_file."""
        token = self._run(["agents", "enroll", name]).strip()
        path = os.path.join(self.dir, name + ".token")
        with open(path, "w") as f:
            f.write(token + "\n")
        os.chmod(path, 0o600)
        return path

    def start(self, preexec_fn=None, env=None):
        """Starts `serve`; the first start picks a free port, later ones reuse it.
        preexec_fn / env: a fault to start it with (a file size limit, a faked clock)."""
        log = open(os.path.join(self.dir, "collector.log"), "ab")
        self.proc = track(subprocess.Popen([self.binary, "serve", "--config", self.config],
                                           stdout=subprocess.PIPE, stderr=log,
                                           preexec_fn=preexec_fn, env=env))
        ready, _, _ = select.select([self.proc.stdout], [], [], 60)
        line = self.proc.stdout.readline() if ready else b""
        if not line:
            self.kill()
            raise AssertionError("collector did not start; see " + self.dir + "/collector.log")
        port = json.loads(line)["listening"]
        if self.port == 0:
            self.port = port
            self._write_config()  # a restart listens on the same port
        self._opener = None
        return self

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    @property
    def ca(self):
        return os.path.join(self.state, "tls", "collector.pem")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait(timeout=30)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=60)

    def log_text(self):
        with open(os.path.join(self.dir, "collector.log"), encoding="utf-8",
                  errors="replace") as f:
            return f.read()

    # ---- HTTPS --------------------------------------------------------------------------------
    def _context(self):
        return ssl.create_default_context(cafile=self.ca)

    def _login(self):
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=self._context()),
                                             urllib.request.HTTPCookieProcessor(jar))
        req = urllib.request.Request(self.url + "/api/v1/login", method="POST",
                                     data=json.dumps({"user": "admin",
                                                      "password": PASSWORD}).encode(),
                                     headers={"Content-Type": "application/json"})
        opener.open(req, timeout=60).read()
        self._opener = opener

    def api(self, path):
        if self._opener is None:
            self._login()
        with self._opener.open(self.url + path, timeout=120) as r:
            return json.load(r)

    def request(self, method, path, body=b"", headers=None, timeout=60):
        """A raw request: (status, parsed JSON body or text)."""
        req = urllib.request.Request(self.url + path, method=method, data=body,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, context=self._context(), timeout=timeout) as r:
                status, text = r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode("utf-8", "replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def metrics(self):
        with urllib.request.urlopen(self.url + "/metrics", context=self._context(),
                                    timeout=60) as r:
            text = r.read().decode()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = int(float(value))
        return values

    def agent(self, name):
        return self.api("/api/v1/agents/" + name)

    def events(self):
        """Every stored event: {key: event body}, paging through the API."""
        out = {}
        before = None
        while True:
            path = "/api/v1/events?limit=500" + ("&before=%d" % before if before else "")
            page = self.api(path)
            for e in page["events"]:
                assert e["key"] not in out, "key listed twice: " + e["key"]
                out[e["key"]] = e
            before = page["next_before"]
            if not before:
                return out

    def alerts(self, rule=None):
        path = "/api/v1/alerts?limit=500" + ("&rule=" + rule if rule else "")
        return self.api(path)["alerts"]


def write_agent_config(path, state_dir, collector, token_file, sources, extra="", agent_id=None,
                       auth_pause_ms=600000, url=None):
    """An agent configuration for `tier0watch run` against the real collector (or `url`, a proxy
    in front of it that serves the collector's certificate)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("agent: {state_dir: %s, log_level: info, shutdown_deadline_ms: 10000%s}\n" %
                (state_dir, ", id: " + agent_id if agent_id else ""))
        f.write("collector: {url: \"%s\", ca_bundle: %s, token_file: %s, "
                "request_timeout_ms: 5000}\n" % (url or collector.url, collector.ca, token_file))
        f.write("retry: {backoff_base_ms: 20, backoff_cap_ms: 500, auth_pause_ms: %d}\n" %
                auth_pause_ms)
        f.write("metrics: {listen: \"127.0.0.1:0\", log_interval_ms: 0}\n")
        f.write("sources:\n")
        for kind, p in sources:
            f.write("  - %s: {path: %s}\n" % (kind, p))
        f.write(extra)
