"""A peer on the trace-file path (issue 14): Debian's syslog-ng against Tier0Watch's agent, each
shipping the same LINES trace lines over loopback HTTPS with a reliable on-disk buffer.

syslog-ng runs as a foreground process of this script (no system service) with its own
configuration, persist file, control socket and pid file in a temporary directory: a
wildcard-file() source over trace-*.log, an http() destination with a reliable disk buffer
(disk-buffer(reliable(yes) ...), 1 GiB at most like the agent's queue) and batches of up to 5,000
lines or 1 s like the agent's defaults, posting JSON lines to a loopback HTTPS sink in this script
(http.server + ssl, a throwaway P-256 certificate from `openssl req`, as the collector's) that
counts the distinct numbered lines it received and answers 200. Two syslog-ng configurations:
the raw line in a JSON object (with the host and the file name), and the same after a
regexp-parser that splits the line into time, thread, level and message as the agent's trace
reader does. Then `tier0watch run` tails the same lines into the real tier0watch-collector
(SQLite) with its default batch settings, with the default tier0 pack and with no pack.

Each run: the process starts on a file holding one header line and settles for 3 s; then the
script appends LINES lines in one go and waits until all of them (and the header) arrived (the
sink's count / the collector's t0w_collector_events_total). Measured on that process alone: CPU
(user + system, /proc/<pid>/stat) from just before the append to the end, so start-up is not in
it, as CPU seconds per million lines and lines per CPU-second; peak RSS (VmHWM, /proc/<pid>/status,
start-up included); at the end (all lines arrived) RSS, the part of it that is pages of mapped
files (libraries, the binary: shared with every process that maps them) and the private part
(USS, smaps_rollup); the wall time from the append to the last line's arrival.
Caveats: the sink is not the collector: the agent's collector enrols, authenticates, decodes and
stores each event in SQLite (its CPU is not counted; neither is the sink's). The agent does more
per line than syslog-ng: it builds an event (fields, time), evaluates the rules (tier0 row),
keeps it in an SQLite queue and gzips each batch; syslog-ng 3.38's http() has no compression.
syslog-ng's disk-buffer memory part is left at its default. The agent holds the last entry 2 s
(an entry is complete when the next one starts or the file is idle) and syslog-ng a last
partial batch 1 s: both are in the wall time, not in the CPU.

usage: syslog_ng_peer.py BUILD_DIR [LINES=500000]
"""
import http.server
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
from collector_harness import RealCollector  # noqa: E402
from bench_proc import cpu_seconds, private_mib, start_tracefile_agent, status_mib  # noqa: E402

HEADER = "[00:00:00.000] [  1] [INFO ] Start Time (UTC): Mon, 01 Jan 2024 00:00:00 GMT\n"
LINE = "[00:00:01.000] [  7] [INFO ] peer entry %d\n"
NUMBER = re.compile(rb"peer entry (\d+)")


def append_lines(path, lines):
    with open(path, "a") as f:
        for start in range(0, lines, 10000):
            f.write("".join(LINE % i for i in range(start, min(lines, start + 10000))))


def wait_for(predicate, timeout):
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


class Sink(http.server.ThreadingHTTPServer):
    """Loopback HTTPS: counts the lines of each POST body and which numbered entries came."""
    daemon_threads = True

    def __init__(self, cert, key):
        super().__init__(("127.0.0.1", 0), SinkHandler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.socket = ctx.wrap_socket(self.socket, server_side=True)
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.lines = 0
            self.numbers = set()
            self.posts = 0


class SinkHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one TLS handshake per connection, not per batch

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        numbers = NUMBER.findall(body)
        with self.server.lock:
            self.server.posts += 1
            self.server.lines += body.count(b"\n") + (1 if body and not body.endswith(b"\n")
                                                      else 0)
            self.server.numbers.update(numbers)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


SYSLOG_NG_CONF = """@version: 3.38
options { stats-freq(0); keep-hostname(yes); };
source s_trace {
  wildcard-file(base-dir("%(input)s") filename-pattern("trace-*.log") flags(no-parse)
                follow-freq(1) max-files(100));
};
%(parser)s
destination d_http {
  http(url("https://127.0.0.1:%(port)d/ingest") method("POST")
       headers("Content-Type: application/x-ndjson")
       body("%(body)s") delimiter("\\n")
       batch-lines(5000) batch-bytes(8388608) batch-timeout(1000)
       tls(ca-file("%(ca)s") peer-verify(yes))
       disk-buffer(reliable(yes) dir("%(buffer)s") disk-buf-size(1073741824)));
};
log { source(s_trace); %(parser_ref)s destination(d_http); flags(flow-control); };
"""
RAW_BODY = "$(format-json host=$HOST file=$FILE_NAME message=$MSG)"
PARSER = r"""parser p_trace {
  regexp-parser(prefix(".trace.")
    patterns('^\[(?<time>[0-9:.]+)\] \[ *(?<thread>[0-9]+)\] \[(?<level>[A-Z]+) *\] (?<message>.*)$'));
};"""
PARSED_BODY = ("$(format-json host=$HOST file=$FILE_NAME time=${.trace.time} "
               "thread=${.trace.thread} level=${.trace.level} message=${.trace.message})")


def run_syslog_ng(work, sink, ca, lines, parse):
    d = tempfile.mkdtemp(prefix="syslog-ng-", dir=work)
    inp = os.path.join(d, "in")
    os.makedirs(inp)
    os.makedirs(os.path.join(d, "buffer"))
    trace = os.path.join(inp, "trace-1.log")
    with open(trace, "w") as f:
        f.write(HEADER)
    conf = os.path.join(d, "syslog-ng.conf")
    with open(conf, "w") as f:
        f.write(SYSLOG_NG_CONF % {
            "input": inp, "port": sink.server_address[1], "ca": ca,
            "buffer": os.path.join(d, "buffer"),
            "parser": PARSER if parse else "", "parser_ref": "parser(p_trace);" if parse else "",
            "body": (PARSED_BODY if parse else RAW_BODY).replace('"', '\\"')})
    sink.reset()
    proc = subprocess.Popen(["syslog-ng", "-F", "-e", "--no-caps", "-f", conf,
                             "-R", os.path.join(d, "syslog-ng.persist"),
                             "-c", os.path.join(d, "syslog-ng.ctl"),
                             "-p", os.path.join(d, "syslog-ng.pid")],
                            stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(d, "syslog-ng.log"), "w"))
    try:
        if not wait_for(lambda: sink.lines >= 1 or proc.poll() is not None, 30) or \
                proc.poll() is not None:
            raise AssertionError("syslog-ng did not deliver the header line; see " + d)
        time.sleep(3)  # settle: start-up is not measured
        return measure(proc.pid, trace, lines, lambda: len(sink.numbers) >= lines,
                       lambda: (sink.lines, len(sink.numbers)))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def run_agent(work, build, lines, pack):
    d = tempfile.mkdtemp(prefix="agent-", dir=work)
    c = RealCollector(os.path.join(build, "tools", "collector", "tier0watch-collector"),
                      os.path.join(d, "collector"))
    token = c.enroll("peer")
    c.start()
    proc = None
    try:
        inp = os.path.join(d, "in")
        os.makedirs(inp)
        trace = os.path.join(inp, "trace-1.log")
        with open(trace, "w") as f:
            f.write(HEADER)
        proc = start_tracefile_agent(build, d, c, token, inp,
                                     "" if pack else "rules: {packs: {tier0: false}}\n")

        def stored():
            return c.metrics().get("t0w_collector_events_total", 0)

        if not wait_for(lambda: stored() >= 1 or proc.poll() is not None, 30) or \
                proc.poll() is not None:
            raise AssertionError("the agent did not deliver the header entry; see " + d)
        time.sleep(3)
        # The collector dedups by key (file and offset): its count is the distinct entries.
        return measure(proc.pid, trace, lines, lambda: stored() >= lines + 1,
                       lambda: (stored(), stored()))
    finally:
        if proc:
            proc.terminate()
            proc.wait(30)
        c.stop()


def measure(pid, trace, lines, done, counts):
    """Appends the lines; CPU, peak RSS and wall time of pid until done() (300 s at most)."""
    c0, w0 = cpu_seconds(pid), time.monotonic()
    append_lines(trace, lines)
    complete = wait_for(done, 300)
    w1, c1 = time.monotonic(), cpu_seconds(pid)
    received, distinct = counts()
    return {"cpu": c1 - c0, "wall": w1 - w0, "rss": status_mib(pid, "VmHWM"),
            "rss_end": status_mib(pid, "VmRSS"), "file_end": status_mib(pid, "RssFile"),
            "private_end": private_mib(pid), "received": received,
            "distinct": distinct, "complete": complete}


def main():
    build = sys.argv[1]
    lines = int(sys.argv[2]) if len(sys.argv) > 2 else 500000
    if not shutil.which("syslog-ng"):
        print("syslog-ng is not installed (apt-get install syslog-ng-core syslog-ng-mod-http)")
        return 1
    version = subprocess.run(["syslog-ng", "--version"], capture_output=True,
                             text=True).stdout.splitlines()[0]
    load = open("/proc/loadavg").read().split()[:3]
    work = tempfile.mkdtemp(prefix="t0w-syslog-ng-peer-")
    rows = []
    try:
        cert, key = os.path.join(work, "sink.pem"), os.path.join(work, "sink.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                        "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
        sink = Sink(cert, key)
        threading.Thread(target=sink.serve_forever, daemon=True).start()
        try:
            rows.append(("%s: wildcard-file -> http(), raw line in JSON" % version,
                         run_syslog_ng(work, sink, cert, lines, parse=False)))
            rows.append(("%s: + regexp-parser (time, thread, level, message)" % version,
                         run_syslog_ng(work, sink, cert, lines, parse=True)))
        finally:
            sink.shutdown()
        rows.append(("tier0watch run -> collector (SQLite), tier0 pack (default)",
                     run_agent(work, build, lines, pack=True)))
        rows.append(("tier0watch run -> collector (SQLite), no rule pack",
                     run_agent(work, build, lines, pack=False)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("| %d trace lines, loopback HTTPS, reliable disk queue | CPU-s per million lines | "
          "lines per CPU-s | peak RSS MiB | at the end: RSS / of it file pages / private MiB | "
          "wall s | all arrived |" % lines)
    print("|---|---|---|---|---|---|---|")
    ok = True
    for name, r in rows:
        arrived = r["complete"] and r["distinct"] >= lines
        ok = ok and arrived
        print("| %s | %.2f | %.0f | %.1f | %.1f / %.1f / %.1f | %.1f | %s |" % (
            name, r["cpu"] / lines * 1e6, lines / r["cpu"] if r["cpu"] else 0, r["rss"],
            r["rss_end"], r["file_end"], r["private_end"], r["wall"],
            ("yes" if r["received"] == lines + 1 else
                        "yes, %d lines received twice" % (r["received"] - lines - 1))
            if arrived else "NO (%d received, %d distinct)" % (r["received"], r["distinct"])))
    print("CPU of the named process only, from just before the append to the last arrival; "
          "load average at the start %s" % " ".join(load))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
