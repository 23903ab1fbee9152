// MetricsServer over a real loopback socket: port 0 picks a free port, GET /metrics answers the
// rendered text, other paths 404, other methods 405 with Allow, a bad address is refused; the
// server stops (and frees its port) when destroyed.
#include "agent/metrics/metrics_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <string>

namespace t0w {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Sends `request` as it is and reads the whole answer (the server closes after one exchange).
std::string roundTrip(uint16_t port, const std::string& request) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  net::write(socket, net::buffer(request));
  std::string answer;
  boost::system::error_code ec;
  net::read(socket, net::dynamic_buffer(answer), ec);  // until EOF
  return answer;
}

std::string get(uint16_t port, const std::string& target) {
  return roundTrip(port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
}

TEST(MetricsServerTest, ServesTheRenderedTextOnGetMetrics) {
  std::atomic<int> renders{0};
  auto server = MetricsServer::start("127.0.0.1", 0, [&renders] {
    ++renders;
    return std::string("t0w_alerts_total 4\n");
  });
  ASSERT_TRUE(server) << server.error().toString();
  const uint16_t port = (*server)->port();
  ASSERT_NE(port, 0);
  const std::string answer = get(port, "/metrics");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(answer, HasSubstr("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
  EXPECT_THAT(answer, HasSubstr("\r\n\r\nt0w_alerts_total 4\n"));
  EXPECT_EQ(renders.load(), 1);
  // Rendered again for every request: the text is current, not cached.
  EXPECT_THAT(get(port, "/metrics"), StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_EQ(renders.load(), 2);
}

TEST(MetricsServerTest, OtherPathsAreNotFoundAndOtherMethodsNotAllowed) {
  auto server = MetricsServer::start("127.0.0.1", 0, [] { return std::string("x 1\n"); });
  ASSERT_TRUE(server) << server.error().toString();
  const uint16_t port = (*server)->port();
  EXPECT_THAT(get(port, "/"), StartsWith("HTTP/1.1 404 Not Found\r\n"));
  EXPECT_THAT(get(port, "/metrics?x=1"), StartsWith("HTTP/1.1 404 Not Found\r\n"));
  const std::string post =
      roundTrip(port, "POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_THAT(post, StartsWith("HTTP/1.1 405 Method Not Allowed\r\n"));
  EXPECT_THAT(post, HasSubstr("Allow: GET\r\n"));
}

TEST(MetricsServerTest, AnOversizedRequestIsClosedWithoutAnAnswer) {
  auto server = MetricsServer::start("127.0.0.1", 0, [] { return std::string("x 1\n"); });
  ASSERT_TRUE(server) << server.error().toString();
  const std::string huge =
      "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + std::string(16 * 1024, 'a') +
      "\r\n\r\n";
  EXPECT_EQ(roundTrip((*server)->port(), huge), "");
}

TEST(MetricsServerTest, ABadAddressIsRefused) {
  auto server = MetricsServer::start("not an address", 0, [] { return std::string(); });
  ASSERT_FALSE(server);
  EXPECT_EQ(server.error().code, Errc::kInvalidArgument);
  EXPECT_THAT(server.error().message, HasSubstr("not an address"));
}

TEST(MetricsServerTest, StoppingFreesThePort) {
  uint16_t port = 0;
  {
    auto server = MetricsServer::start("127.0.0.1", 0, [] { return std::string("x 1\n"); });
    ASSERT_TRUE(server) << server.error().toString();
    port = (*server)->port();
  }
  // The same port again: the first server is gone (reuse_address covers TIME_WAIT).
  auto again = MetricsServer::start("127.0.0.1", port, [] { return std::string("y 2\n"); });
  ASSERT_TRUE(again) << again.error().toString();
  EXPECT_THAT(get(port, "/metrics"), HasSubstr("\r\n\r\ny 2\n"));
}

}  // namespace
}  // namespace t0w
