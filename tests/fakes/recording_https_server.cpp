// t0w-fake-collector: a real HTTPS server for the shipper's integration tests and benchmark.
// It binds 127.0.0.1 port 0, prints one JSON line with the port and the PKI file paths once it
// listens, records every request (headers with the Authorization value redacted, gzip- or
// zstd-decoded body) and answers according to the scripted behaviour chosen on the command
// line. It exits by itself after --time-limit seconds so a crashed test never leaves it behind.
#include <stdlib.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "common/wire/wire_protocol.h"
#include "common/zstd/zstd_codec.h"
#include "tests/fakes/gzip.h"
#include "tests/fakes/test_pki.h"

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

namespace {

struct Options {
  std::string dir;
  bool plain = false;
  bool wrong_cert = false;
  bool require_client_cert = false;
  size_t max_body = 0;  // 0: no limit
  std::string reply_429;
  int fail_first = 0;
  bool hang = false;
  std::string require_token;
  int time_limit_seconds = 60;
  bool no_record = false;
  // The wire version announced in Tier0Watch-Collector (benchmarks of the agent's v3 path).
  std::string announce = std::string(t0w::kCollectorHeaderValue);
  int close_after = 0;  // 0: keep connections open
  size_t max_request_bytes = size_t{256} << 20;
  // Added for the agent's integration tests (collector down, then up on the same port with the
  // same CA; 429 for a while, then accepting):
  int port = 0;             // 0: any free port
  bool keep_pki = false;    // reuse the certificates already in --dir
  int reply_429_count = 0;  // with --reply-429: only the first N requests (0: all)
  // A slow collector (the agent's SIGKILL test: an upload whose pace does not depend on the
  // agent's speed): each answer waits this long after the request is recorded.
  int delay_ms = 0;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

class Recorder {
 public:
  Recorder(std::string dir, bool bodies) : dir_(std::move(dir)), bodies_(bodies) {
    jsonl_.open(path(), std::ios::out | std::ios::trunc);
  }
  std::string path() const { return dir_ + "/requests.jsonl"; }
  bool ok() const { return static_cast<bool>(jsonl_); }

  void record(nlohmann::json entry, const std::optional<std::string>& body) {
    std::lock_guard lock(mutex_);
    const int seq = ++seq_;
    entry["seq"] = seq;
    if (bodies_ && body) {
      char name[32];
      std::snprintf(name, sizeof(name), "body-%06d.bin", seq);
      std::ofstream out(dir_ + "/" + name, std::ios::binary | std::ios::trunc);
      out.write(body->data(), static_cast<std::streamsize>(body->size()));
      entry["body_file"] = dir_ + "/" + name;
    }
    // Written before the response goes out, so a client that got its answer sees the record.
    jsonl_ << entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    jsonl_.flush();
  }

 private:
  std::string dir_;
  bool bodies_;
  std::mutex mutex_;
  std::ofstream jsonl_;
  int seq_ = 0;
};

class Server {
 public:
  Server(const Options& options, Recorder& recorder, ssl::context* tls)
      : options_(options), recorder_(recorder), tls_(tls) {}

  void serve(tcp::socket socket) {
    beast::error_code ec;
    if (tls_ == nullptr) {
      beast::tcp_stream stream(std::move(socket));
      loop(stream);
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      return;
    }
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls_);
    stream.handshake(ssl::stream_base::server, ec);
    if (ec) {
      std::cerr << "t0w-fake-collector: TLS handshake failed: " << ec.message() << "\n";
      return;  // nothing reached HTTP, so nothing is recorded
    }
    loop(stream);
    stream.shutdown(ec);
  }

 private:
  template <class Stream>
  void loop(Stream& stream) {
    beast::flat_buffer buffer;
    for (int served = 0;; ++served) {
      // Like a server's idle timeout: close without announcing it in the last response.
      if (options_.close_after > 0 && served == options_.close_after) return;
      beast::error_code ec;
      http::request_parser<http::string_body> parser;
      parser.body_limit(options_.max_request_bytes);
      http::read(stream, buffer, parser, ec);
      if (ec) return;
      http::request<http::string_body> request = parser.release();
      http::response<http::string_body> response = answer(request);
      if (options_.hang) hangForever();
      if (options_.delay_ms > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(options_.delay_ms));
      }
      http::write(stream, response, ec);
      if (ec || !response.keep_alive()) return;
    }
  }

  [[noreturn]] void hangForever() {
    std::mutex m;
    std::condition_variable cv;
    std::unique_lock lock(m);
    for (;;) cv.wait(lock);  // the process time limit ends this
  }

  http::response<http::string_body> answer(const http::request<http::string_body>& request) {
    const int index = requests_.fetch_add(1);
    nlohmann::json entry;
    entry["method"] = std::string(request.method_string());
    entry["target"] = std::string(request.target());
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& field : request) {
      const std::string name = lower(std::string(field.name_string()));
      headers[name] =
          name == "authorization" ? std::string("<redacted>") : std::string(field.value());
    }
    entry["headers"] = headers;
    entry["body_bytes"] = request.body().size();

    std::string auth = "absent";
    const auto auth_it = request.find(http::field::authorization);
    if (auth_it != request.end()) {
      auth = options_.require_token.empty()                           ? "present"
             : auth_it->value() == "Bearer " + options_.require_token ? "match"
                                                                      : "mismatch";
    }
    entry["authorization"] = auth;

    int status = 200;
    std::optional<std::string> body;
    if (!options_.no_record) {
      const auto enc = request.find(http::field::content_encoding);
      const std::string encoding = enc != request.end() ? lower(std::string(enc->value())) : "";
      if (encoding == "gzip" || encoding == "zstd") {
        auto decoded = encoding == "gzip"
                           ? t0w::fakes::gzipDecompress(request.body(), options_.max_request_bytes)
                           : t0w::zstdDecompress(request.body(), options_.max_request_bytes);
        if (decoded) {
          body = std::move(*decoded);
        } else {
          entry["body_error"] = decoded.error().toString();
          status = 400;
        }
      } else {
        body = request.body();
      }
    }
    if (body) entry["decoded_bytes"] = body->size();

    http::response<http::string_body> response{http::status::ok, request.version()};
    if (!options_.require_token.empty() && auth != "match") {
      status = 401;
    } else if (status == 200 && options_.max_body > 0 &&
               request.body().size() > options_.max_body) {
      status = 413;
    } else if (status == 200 && index < options_.fail_first) {
      status = 500;
    } else if (status == 200 && !options_.reply_429.empty() &&
               (options_.reply_429_count == 0 || index < options_.reply_429_count)) {
      status = 429;
      response.set(http::field::retry_after, options_.reply_429);
    }
    response.result(static_cast<unsigned>(status));
    // Speaks the collector's protocol: the agent deletes queued events only on such answers.
    response.set(std::string(t0w::kCollectorHeader), options_.announce);
    if (status == 400)
      response.set(std::string(t0w::kRefusalHeader), std::string(t0w::kRefusalBatch));
    response.set(http::field::content_type, "application/json");
    response.body() = nlohmann::json{{"status", status}}.dump();
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    entry["status"] = status;
    recorder_.record(std::move(entry), body);
    return response;
  }

  const Options& options_;
  Recorder& recorder_;
  ssl::context* tls_;
  std::atomic<int> requests_{0};
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Tier0Watch fake collector (recording HTTPS server for tests)"};
  app.add_option("--dir", options.dir, "Directory for certificates and records (default: mkdtemp)");
  app.add_flag("--plain", options.plain, "Serve plain HTTP instead of HTTPS");
  app.add_flag("--wrong-cert", options.wrong_cert,
               "Serve a certificate (from the same CA) for wrong.example.invalid");
  app.add_flag("--require-client-cert", options.require_client_cert,
               "Require a client certificate issued by the test CA (mutual TLS)");
  app.add_option("--max-body", options.max_body, "Answer 413 when the body exceeds N bytes");
  app.add_option("--reply-429", options.reply_429,
                 "Answer every request 429 with this Retry-After value");
  app.add_option("--fail-first", options.fail_first, "Answer 500 to the first N requests");
  app.add_flag("--hang", options.hang, "Read each request and never answer");
  app.add_option("--require-token", options.require_token, "Answer 401 unless Bearer TOKEN");
  app.add_option("--time-limit", options.time_limit_seconds, "Exit after N seconds");
  app.add_flag("--no-record", options.no_record, "Do not decode or store bodies (benchmarks)");
  app.add_option("--announce", options.announce,
                 "Wire version to announce in Tier0Watch-Collector (default: this build's)");
  app.add_option("--close-after", options.close_after,
                 "Close each connection after N responses without announcing it");
  app.add_option("--max-request-bytes", options.max_request_bytes, "Largest body accepted");
  app.add_option("--port", options.port, "Listen on this port (default: any free port)");
  app.add_flag("--keep-pki", options.keep_pki,
               "Reuse ca.pem/server.pem/... already in --dir (a restarted collector keeps its CA)");
  app.add_option("--reply-429-count", options.reply_429_count,
                 "With --reply-429: answer 429 only to the first N requests");
  app.add_option("--delay-ms", options.delay_ms,
                 "Wait N ms after recording each request before answering it");
  CLI11_PARSE(app, argc, argv);

  std::thread([limit = options.time_limit_seconds] {
    std::this_thread::sleep_for(std::chrono::seconds(limit));
    std::fflush(nullptr);
    _exit(0);
  }).detach();

  if (options.dir.empty()) {
    char tmpl[] = "/tmp/t0w-fake-collector-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      std::cerr << "t0w-fake-collector: mkdtemp failed\n";
      return 1;
    }
    options.dir = tmpl;
  }
  const std::vector<std::string> names =
      options.wrong_cert ? std::vector<std::string>{"DNS:wrong.example.invalid"}
                         : std::vector<std::string>{"DNS:localhost", "IP:127.0.0.1", "IP:::1"};
  const bool reuse = options.keep_pki && std::ifstream(options.dir + "/ca.pem").good() &&
                     std::ifstream(options.dir + "/server.pem").good();
  auto pki =
      reuse ? t0w::Result<t0w::fakes::TestPkiFiles>(t0w::fakes::TestPkiFiles{
                  options.dir + "/ca.pem", options.dir + "/server.pem", options.dir + "/server.key",
                  options.dir + "/client.pem", options.dir + "/client.key"})
            : t0w::fakes::writeTestPki(options.dir, names);
  if (!pki) {
    std::cerr << "t0w-fake-collector: " << pki.error().toString() << "\n";
    return 1;
  }
  ssl::context tls{ssl::context::tls_server};
  if (!options.plain) {
    beast::error_code ec;
    tls.use_certificate_chain_file(pki->server_cert, ec);
    if (!ec) tls.use_private_key_file(pki->server_key, ssl::context::pem, ec);
    if (!ec && options.require_client_cert) {
      tls.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
      if (!ec) tls.load_verify_file(pki->ca_cert, ec);
    }
    if (ec) {
      std::cerr << "t0w-fake-collector: TLS setup: " << ec.message() << "\n";
      return 1;
    }
  }
  Recorder recorder(options.dir, !options.no_record);
  if (!recorder.ok()) {
    std::cerr << "t0w-fake-collector: cannot write " << recorder.path() << "\n";
    return 1;
  }

  net::io_context ioc;
  tcp::acceptor acceptor(ioc);
  {
    const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"),
                                 static_cast<unsigned short>(options.port));
    beast::error_code ec;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      std::cerr << "t0w-fake-collector: cannot listen on port " << options.port << ": "
                << ec.message() << "\n";
      return 1;
    }
  }
  Server server(options, recorder, options.plain ? nullptr : &tls);
  nlohmann::json ready = {{"port", acceptor.local_endpoint().port()},
                          {"dir", options.dir},
                          {"ca_cert", pki->ca_cert},
                          {"client_cert", pki->client_cert},
                          {"client_key", pki->client_key},
                          {"record", recorder.path()},
                          {"scheme", options.plain ? "http" : "https"}};
  std::cout << ready.dump() << std::endl;

  for (;;) {
    beast::error_code ec;
    tcp::socket socket(ioc);
    acceptor.accept(socket, ec);
    if (ec) continue;
    std::thread([&server, s = std::move(socket)]() mutable {
      server.serve(std::move(s));
    }).detach();
  }
}
