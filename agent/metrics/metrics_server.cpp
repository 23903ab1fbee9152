#include "agent/metrics/metrics_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <thread>

namespace t0w {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr size_t kMaxHeaderBytes = 8 * 1024;
constexpr size_t kMaxBodyBytes = 1024;  // GET has none; a small one is read so 405 can answer
constexpr auto kIoTimeout = std::chrono::seconds(5);

}  // namespace

class MetricsServer::Impl {
 public:
  Impl(Render render) : render_(std::move(render)), acceptor_(ioc_) {}

  Status bind(const std::string& host, uint16_t port) {
    beast::error_code ec;
    const auto address = net::ip::make_address(host, ec);
    if (ec) return makeError(Errc::kInvalidArgument, "metrics: bad address " + host);
    const tcp::endpoint endpoint(address, port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(16, ec);
    if (ec) {
      return makeError(Errc::kIo, "metrics: cannot listen on " + host + ":" + std::to_string(port) +
                                      ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread([this] { ioc_.run(); });
    return {};
  }

  ~Impl() {
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }

  uint16_t port() const { return port_; }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    Session(tcp::socket socket, Impl& owner) : stream(std::move(socket)), owner(owner) {}
    beast::tcp_stream stream;
    Impl& owner;
    beast::flat_buffer buffer{kMaxHeaderBytes};
    http::request_parser<http::string_body> parser;
    http::response<http::string_body> response;

    void start() {
      parser.header_limit(kMaxHeaderBytes);
      parser.body_limit(kMaxBodyBytes);
      stream.expires_after(kIoTimeout);
      http::async_read(
          stream, buffer, parser,
          [self = shared_from_this()](beast::error_code ec, size_t) { self->onRead(ec); });
    }
    void onRead(beast::error_code ec) {
      if (ec) return;  // timeout, oversized or malformed request: just close
      const auto& req = parser.get();
      response.version(req.version());
      response.keep_alive(false);
      if (req.method() != http::verb::get) {
        response.result(http::status::method_not_allowed);
        response.set(http::field::allow, "GET");
        response.body() = "GET only\n";
      } else if (req.target() != "/metrics") {
        response.result(http::status::not_found);
        response.body() = "see /metrics\n";
      } else {
        response.result(http::status::ok);
        response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        response.body() = owner.render_();
      }
      response.prepare_payload();
      stream.expires_after(kIoTimeout);
      http::async_write(stream, response, [self = shared_from_this()](beast::error_code, size_t) {
        beast::error_code ignored;
        self->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      });
    }
  };

  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (!ec) std::make_shared<Session>(std::move(socket), *this)->start();
      if (acceptor_.is_open()) accept();
    });
  }

  Render render_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  uint16_t port_ = 0;
};

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MetricsServer::~MetricsServer() = default;

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& host, uint16_t port,
                                                            Render render) {
  auto impl = std::make_unique<Impl>(std::move(render));
  if (Status s = impl->bind(host, port); !s) return s.error();
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

uint16_t MetricsServer::port() const { return impl_->port(); }

}  // namespace t0w
