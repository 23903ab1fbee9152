// t0w-fake-proxy: a small HTTP CONNECT proxy for the shipper's proxy tests. Binds 127.0.0.1
// port 0, prints {"port":N,"record":PATH} once it listens, tunnels only to loopback targets,
// optionally demands Basic credentials (407 otherwise), and records each CONNECT as a JSON line.
// Exits by itself after --time-limit seconds.
#include <openssl/evp.h>
#include <stdlib.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;

namespace {

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

struct Proxy {
  std::string expected_auth;  // "Basic ..." or empty
  std::mutex mutex;
  std::ofstream record;

  void log(const nlohmann::json& entry) {
    std::lock_guard lock(mutex);
    record << entry.dump() << '\n';
    record.flush();
  }

  void reply(tcp::socket& client, unsigned status, const std::string& reason) {
    const std::string text = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                             "\r\nContent-Length: 0\r\nConnection: close\r\n" +
                             (status == 407 ? "Proxy-Authenticate: Basic realm=\"t0w\"\r\n" : "") +
                             "\r\n";
    beast::error_code ec;
    net::write(client, net::buffer(text), ec);
  }

  static void pump(tcp::socket& from, tcp::socket& to) {
    char data[64 * 1024];
    for (;;) {
      beast::error_code ec;
      const size_t n = from.read_some(net::buffer(data), ec);
      if (n > 0) net::write(to, net::buffer(data, n), ec);
      if (ec) break;
    }
    beast::error_code ignored;
    to.shutdown(tcp::socket::shutdown_send, ignored);
  }

  void serve(tcp::socket client) {
    beast::error_code ec;
    beast::flat_buffer buffer;
    http::request_parser<http::empty_body> parser;
    http::read_header(client, buffer, parser, ec);
    if (ec) return;
    const auto& request = parser.get();
    nlohmann::json entry = {{"method", std::string(request.method_string())},
                            {"target", std::string(request.target())}};
    const auto auth = request.find(http::field::proxy_authorization);
    entry["proxy_authorization"] = auth == request.end()            ? "absent"
                                   : auth->value() == expected_auth ? "match"
                                                                    : "mismatch";
    if (request.method() != http::verb::connect) {
      entry["status"] = 405;
      log(entry);
      return reply(client, 405, "Method Not Allowed");
    }
    if (!expected_auth.empty() && (auth == request.end() || auth->value() != expected_auth)) {
      entry["status"] = 407;
      log(entry);
      return reply(client, 407, "Proxy Authentication Required");
    }
    const std::string target(request.target());
    const size_t colon = target.rfind(':');
    std::string host = target.substr(0, colon);
    if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
    // Loopback only: this is a test fixture, never an open relay.
    if (colon == std::string::npos ||
        (host != "127.0.0.1" && host != "localhost" && host != "::1")) {
      entry["status"] = 403;
      log(entry);
      return reply(client, 403, "Forbidden");
    }
    tcp::socket upstream(client.get_executor());
    tcp::resolver resolver(client.get_executor());
    auto endpoints = resolver.resolve(host, target.substr(colon + 1), ec);
    if (!ec) net::connect(upstream, endpoints, ec);
    if (ec) {
      entry["status"] = 502;
      log(entry);
      return reply(client, 502, "Bad Gateway");
    }
    entry["status"] = 200;
    log(entry);
    const std::string ok = "HTTP/1.1 200 Connection established\r\n\r\n";
    net::write(client, net::buffer(ok), ec);
    if (buffer.size() > 0) net::write(upstream, buffer.data(), ec);
    if (ec) return;
    std::thread back([&] { pump(upstream, client); });
    pump(client, upstream);
    back.join();
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  std::string user;
  std::string password;
  int time_limit_seconds = 60;
  CLI::App app{"Tier0Watch fake CONNECT proxy for tests"};
  app.add_option("--dir", dir, "Directory for the record file (default: mkdtemp)");
  app.add_option("--user", user, "Require Basic proxy credentials with this user");
  app.add_option("--password", password, "Password for --user");
  app.add_option("--time-limit", time_limit_seconds, "Exit after N seconds");
  CLI11_PARSE(app, argc, argv);

  std::thread([time_limit_seconds] {
    std::this_thread::sleep_for(std::chrono::seconds(time_limit_seconds));
    std::fflush(nullptr);
    _exit(0);
  }).detach();

  if (dir.empty()) {
    char tmpl[] = "/tmp/t0w-fake-proxy-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return 1;
    dir = tmpl;
  }
  Proxy proxy;
  if (!user.empty()) proxy.expected_auth = "Basic " + base64(user + ":" + password);
  const std::string record_path = dir + "/connects.jsonl";
  proxy.record.open(record_path, std::ios::out | std::ios::trunc);
  if (!proxy.record) {
    std::cerr << "t0w-fake-proxy: cannot write " << record_path << "\n";
    return 1;
  }

  net::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  std::cout
      << nlohmann::json{{"port", acceptor.local_endpoint().port()}, {"record", record_path}}.dump()
      << std::endl;
  for (;;) {
    beast::error_code ec;
    tcp::socket socket(ioc);
    acceptor.accept(socket, ec);
    if (ec) continue;
    std::thread([&proxy, s = std::move(socket)]() mutable { proxy.serve(std::move(s)); }).detach();
  }
}
