"""A small TLS-terminating reverse proxy in front of the real collector, for the fault matrix:
it answers the first requests itself the way a misrouted proxy or load balancer does (404/405
with an HTML page, none of the collector's headers), then forwards every request to the
collector and relays its answer unchanged. With `on_stored`, it can also lose the collector's
answer after the collector stored a batch (the collector only answers after its commit): the
callback runs (it SIGKILLs the collector) and the agent's connection is closed unanswered.

It serves with the collector's own certificate, so the agent trusts it like the collector.
"""
import http.client
import http.server
import os
import ssl
import threading

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "content-length"}


class ReverseProxy:
    def __init__(self, collector, refuse=(), on_stored=None):
        """refuse: statuses to answer, in order, to the first requests (e.g. [404, 405, 404]).
        on_stored(n): called after the collector answered 2xx to the n-th forwarded batch
        (n from 1); returns True to lose that answer (close the agent's connection)."""
        self.collector = collector
        self.refuse = list(refuse)
        self.on_stored = on_stored
        self.lock = threading.Lock()
        self.log = []  # (status answered to the agent or "lost", path, who)
        self.forwarded_batches = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                self.handle_any()

            def do_POST(self):
                self.handle_any()

            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy.lock:
                    refusal = proxy.refuse.pop(0) if proxy.refuse else None
                if refusal is not None:
                    page = ("<html><head><title>%d</title></head><body>nginx</body></html>" %
                            refusal).encode()
                    self.send_response(refusal)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(page)))
                    if refusal == 405:
                        self.send_header("Allow", "GET, HEAD")
                    self.end_headers()
                    self.wfile.write(page)
                    proxy.record(refusal, self.path, "proxy")
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                try:
                    conn = http.client.HTTPSConnection(
                        "127.0.0.1", proxy.collector.port, timeout=60,
                        context=ssl.create_default_context(cafile=proxy.collector.ca))
                    conn.request(self.command, self.path, body=body, headers=headers)
                    answer = conn.getresponse()
                    data = answer.read()
                    answer_headers = answer.getheaders()
                    status = answer.status
                    conn.close()
                except (OSError, http.client.HTTPException):
                    # The collector is down: what a proxy says then.
                    self.send_error(502)
                    proxy.record(502, self.path, "proxy")
                    return
                if self.path.startswith("/api/v1/batches") and 200 <= status < 300:
                    with proxy.lock:
                        proxy.forwarded_batches += 1
                        n = proxy.forwarded_batches
                    if proxy.on_stored is not None and proxy.on_stored(n):
                        proxy.record("lost", self.path, "collector")
                        self.close_connection = True
                        return  # stored, but the agent never hears it
                self.send_response(status)
                for k, v in answer_headers:
                    if k.lower() not in HOP_BY_HOP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                proxy.record(status, self.path, "collector")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls = os.path.join(collector.state, "tls")
        context.load_cert_chain(os.path.join(tls, "collector.pem"),
                                os.path.join(tls, "collector.key"))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def record(self, status, path, who):
        with self.lock:
            self.log.append((status, path, who))

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def answered(self, who):
        with self.lock:
            return [s for s, _, w in self.log if w == who]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
