// BeastTransport throughput: 1 MiB gzip bodies POSTed to t0w-fake-collector over loopback, with
// HTTPS (keep-alive and a fresh connection per request), plain HTTP, and raw TCP as baselines
// in the same run. items_per_second = requests/s, bytes_per_second = request body bytes/s.
#include <benchmark/benchmark.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <random>
#include <thread>

#include "common/http/beast_transport.h"
#include "tests/fakes/fake_process.h"
#include "tests/fakes/gzip.h"

namespace t0w {
namespace {

using fakes::FakeProcess;

constexpr size_t kBodyBytes = size_t{1} << 20;

// 1 MiB of gzip output: compress pseudo-random event-like text until the result is that large.
const std::string& gzipBody() {
  static const std::string body = [] {
    std::mt19937_64 rng(7);
    std::string text;
    std::string out;
    while (out.size() < kBodyBytes) {
      for (int i = 0; i < 20000; ++i) {
        text += R"({"event_id":4624,"record_id":)" + std::to_string(rng()) + R"(,"user":"u)" +
                std::to_string(rng() % 100000) + "\"}\n";
      }
      out = fakes::gzipCompress(text);
    }
    out.resize(kBodyBytes);  // only the size matters: the collector runs with --no-record
    return out;
  }();
  return body;
}

std::unique_ptr<FakeProcess> startCollector(const fakes::TempDir& dir, bool plain) {
  std::vector<std::string> args = {"--dir", dir.path(), "--no-record", "--time-limit", "600"};
  if (plain) args.push_back("--plain");
  auto process = FakeProcess::start(T0W_FAKE_COLLECTOR, args);
  return process ? std::move(*process) : nullptr;
}

std::unique_ptr<BeastTransport> transportFor(const FakeProcess& server) {
  BeastTransportOptions options;
  const std::string scheme = server.ready().at("scheme").get<std::string>();
  options.url = scheme + "://127.0.0.1:" + std::to_string(server.port());
  options.allow_insecure = scheme == "http";
  if (scheme == "https") options.ca_bundle_file = server.ready().at("ca_cert").get<std::string>();
  auto transport = BeastTransport::create(options);
  return transport ? std::move(*transport) : nullptr;
}

HttpRequest request() {
  HttpRequest r;
  r.path = "/v1/batches";
  r.bearer_token = "bench-token";
  r.headers = {{"Content-Type", "application/x-ndjson"}, {"Content-Encoding", "gzip"}};
  r.body = gzipBody();
  return r;
}

void postLoop(benchmark::State& state, bool plain, bool reconnect) {
  fakes::TempDir dir;
  auto server = startCollector(dir, plain);
  if (!server) return state.SkipWithError("cannot start t0w-fake-collector");
  const HttpRequest req = request();
  auto transport = transportFor(*server);
  if (!transport) return state.SkipWithError("cannot create transport");
  for (auto _ : state) {
    if (reconnect) transport->closeConnection();  // TCP + TLS handshake every request
    const TransportResult result = transport->send(req);
    if (!result.isResponse() || result.response().status != 200) {
      return state.SkipWithError("request failed");
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(req.body.size()));
}

void BM_BeastHttpsKeepAlive(benchmark::State& state) { postLoop(state, false, false); }
void BM_BeastHttpsNewConnection(benchmark::State& state) { postLoop(state, false, true); }
void BM_BeastPlainHttpKeepAlive(benchmark::State& state) { postLoop(state, true, false); }

// Raw TCP: write 1 MiB, read a 1-byte acknowledgement; the floor for any HTTP transport here.
void BM_RawTcpLoopback(benchmark::State& state) {
  namespace net = boost::asio;
  using tcp = net::ip::tcp;
  net::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  std::thread sink([&] {
    tcp::socket peer(ioc);
    acceptor.accept(peer);
    std::string buffer(kBodyBytes, '\0');
    boost::system::error_code ec;
    for (;;) {
      net::read(peer, net::buffer(buffer), ec);
      if (ec) return;
      net::write(peer, net::buffer("k", 1), ec);
      if (ec) return;
    }
  });
  tcp::socket socket(ioc);
  socket.connect(acceptor.local_endpoint());
  socket.set_option(tcp::no_delay(true));
  const std::string& body = gzipBody();
  char ack = 0;
  for (auto _ : state) {
    net::write(socket, net::buffer(body));
    net::read(socket, net::buffer(&ack, 1));
  }
  socket.close();
  sink.join();
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}

BENCHMARK(BM_RawTcpLoopback)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BeastPlainHttpKeepAlive)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BeastHttpsKeepAlive)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BeastHttpsNewConnection)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace t0w

BENCHMARK_MAIN();
