#include "tools/collector/http_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/wire/wire_protocol.h"

namespace t0w::collector {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

Response jsonError(unsigned version, http::status status, const std::string& error,
                   const std::string& detail) {
  Response res{status, version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = nlohmann::json{{"error", error}, {"detail", detail}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

struct Shared {
  Shared(ServerLimits l, Handler h, Metrics& m, Authorizer a)
      : limits(l),
        handler(std::move(h)),
        before_body(std::move(a)),
        metrics(m),
        workers(std::max<size_t>(1, l.worker_threads)) {}
  ServerLimits limits;
  Handler handler;
  Authorizer before_body;
  Metrics& metrics;
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> in_flight{0};
  // Request handlers run here, apart from the network threads.
  net::thread_pool workers;

  // Connections per client address: one host cannot take all of max_connections.
  bool admit(const std::string& ip) {
    std::lock_guard lock(ip_mutex);
    size_t& n = per_ip[ip];
    if (n >= limits.max_connections_per_ip) {
      if (n == 0) per_ip.erase(ip);
      return false;
    }
    ++n;
    return true;
  }
  void release(const std::string& ip) {
    std::lock_guard lock(ip_mutex);
    auto it = per_ip.find(ip);
    if (it != per_ip.end() && --it->second == 0) per_ip.erase(it);
  }
  std::mutex ip_mutex;
  std::map<std::string, size_t> per_ip;
};

namespace {

// After refusing a request whose body we will not read, read and discard what the client is
// still sending (bounded in bytes, and in time by request_timeout) so that closing does not reset
// the connection before it reads the refusal.
constexpr size_t kDrainLimit = size_t{64} << 20;

std::string_view pathOf(boost::beast::string_view target) {
  std::string_view t(target.data(), target.size());
  return t.substr(0, t.find('?'));
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `ip` was admitted by Shared::admit; the session releases it.
  Session(tcp::socket socket, ssl::context& tls, std::shared_ptr<Shared> shared, std::string ip)
      : stream_(std::move(socket), tls), shared_(std::move(shared)), ip_(std::move(ip)) {
    beast::error_code ec;
    auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) ctx_.remote = ep.address().to_string() + ":" + std::to_string(ep.port());
    ++shared_->metrics.open_connections;
  }
  ~Session() {
    --shared_->metrics.open_connections;
    shared_->release(ip_);
  }

  void run() {
    beast::get_lowest_layer(stream_).expires_after(shared_->limits.handshake_timeout);
    stream_.async_handshake(
        ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
          if (ec) {
            ++self->shared_->metrics.tls_handshake_failures;
            spdlog::debug("TLS handshake from {} failed: {}", self->ctx_.remote, ec.message());
            return;
          }
          self->read();
        });
  }

 private:
  // Each phase gets one deadline, set when it starts: the timer of a Beast stream applies to
  // every read until it is set again, so bytes trickling in cannot extend it.
  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_->limits.max_header_bytes));
    // Headers first, under the larger limit; the route's own limit is applied once they are in.
    parser_->body_limit(shared_->limits.max_body_bytes);
    beast::get_lowest_layer(stream_).expires_after(shared_->limits.idle_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->onHeader(ec); });
  }

  void onHeader(beast::error_code ec) {
    if (ec) return onError(ec);
    const bool large = pathOf(parser_->get().target()) == kLargeBodyPath;
    const size_t limit =
        large ? shared_->limits.max_body_bytes : shared_->limits.max_api_body_bytes;
    const auto length = parser_->content_length();
    if (length && *length > limit) return tooLarge(limit);
    parser_->body_limit(limit);  // chunked bodies count against it as they arrive
    // One deadline for authorising and reading the body.
    beast::get_lowest_layer(stream_).expires_after(shared_->limits.request_timeout);
    if (!large || !shared_->before_body) return readBody(limit);
    // The credential is checked (a storage lookup, on the worker pool) before the large body is
    // read; nothing reads this session's parser meanwhile.
    net::post(shared_->workers, [self = shared_from_this(), limit] {
      std::optional<Response> refusal;
      try {
        refusal = self->shared_->before_body(self->parser_->get(), self->ctx_);
      } catch (const std::exception& e) {
        spdlog::error("authorising {}: {}", std::string(self->parser_->get().target()), e.what());
        refusal = jsonError(11, http::status::internal_server_error, "internal_error",
                            "the request could not be handled");
      }
      net::post(self->stream_.get_executor(),
                [self, limit, refusal = std::move(refusal)]() mutable {
                  if (!refusal) return self->readBody(limit);
                  ++self->shared_->metrics.refused_before_body;
                  refusal->keep_alive(false);
                  self->write(std::move(*refusal), true);  // then drains the body unread
                });
    });
  }

  void readBody(size_t limit) {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this(), limit](beast::error_code ec, size_t) {
                       if (ec == http::error::body_limit) return self->tooLarge(limit);
                       if (ec) return self->onError(ec);
                       self->handle();
                     });
  }

  void onError(beast::error_code ec) {
    if (ec == http::error::body_limit) return tooLarge(shared_->limits.max_body_bytes);
    if (ec == http::error::header_limit) {
      refuse(http::status::request_header_fields_too_large, "headers_too_large",
             "the request headers exceed " + std::to_string(shared_->limits.max_header_bytes) +
                 " bytes");
      return;
    }
    if (ec == http::error::end_of_stream || ec == net::error::eof ||
        ec == ssl::error::stream_truncated || ec == beast::error::timeout ||
        ec == net::error::operation_aborted) {
      return close();
    }
    if (parser_->got_some()) {
      refuse(http::status::bad_request, "malformed_request", ec.message());
    }
  }

  void tooLarge(size_t limit) {
    refuse(http::status::payload_too_large, "body_too_large",
           "the request body exceeds " + std::to_string(limit) + " bytes");
  }

  // The handler runs on the worker pool; its answer is written from this session's strand.
  void handle() {
    auto req = std::make_shared<Request>(parser_->release());
    ++shared_->in_flight;
    net::post(shared_->workers, [self = shared_from_this(), req] {
      Response res;
      try {
        res = self->shared_->handler(*req, self->ctx_);
      } catch (const std::exception& e) {
        spdlog::error("request {} {}: {}", std::string(req->method_string()),
                      std::string(req->target()), e.what());
        res = jsonError(req->version(), http::status::internal_server_error, "internal_error",
                        "the request could not be handled");
      }
      res.keep_alive(req->keep_alive() && !self->shared_->stopping);
      auto msg = std::make_shared<Response>(std::move(res));
      net::post(self->stream_.get_executor(), [self, msg] {
        --self->shared_->in_flight;
        self->write(std::move(*msg), false);
      });
    });
  }

  void refuse(http::status status, const std::string& error, const std::string& detail) {
    Response res = jsonError(11, status, error, detail);
    res.keep_alive(false);
    write(std::move(res), true);
  }

  void write(Response res, bool drain_after) {
    shared_->metrics.countRequest(static_cast<int>(res.result_int()));
    // Marks the answer as the collector's: an agent deletes queued events only on answers that
    // carry it, never on a proxy's (wire_protocol.h).
    res.set(std::string(kCollectorHeader), std::string(kCollectorHeaderValue));
    auto msg = std::make_shared<Response>(std::move(res));
    beast::get_lowest_layer(stream_).expires_after(shared_->limits.request_timeout);
    http::async_write(stream_, *msg,
                      [self = shared_from_this(), msg, drain_after](beast::error_code ec, size_t) {
                        if (ec) return;
                        if (drain_after) {
                          beast::get_lowest_layer(self->stream_)
                              .expires_after(self->shared_->limits.request_timeout);
                          return self->drain();
                        }
                        if (!msg->keep_alive()) return self->close();
                        self->read();
                      });
  }

  // Under the deadline set once by write(): a client trickling bytes cannot keep it open.
  void drain() {
    if (drained_ >= kDrainLimit) return close();
    stream_.async_read_some(net::buffer(scratch_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec) return self->close();
                              self->drain();
                            });
  }

  void close() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
  }

  beast::ssl_stream<beast::tcp_stream> stream_;
  std::shared_ptr<Shared> shared_;
  std::string ip_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  RequestContext ctx_;
  std::array<char, 16384> scratch_{};
  size_t drained_ = 0;
};

}  // namespace

class HttpsServer::Impl : public std::enable_shared_from_this<HttpsServer::Impl> {
 public:
  Impl(net::io_context& ioc, ssl::context& tls, std::shared_ptr<Shared> shared)
      : ioc_(ioc), tls_(tls), acceptor_(net::make_strand(ioc)), shared_(std::move(shared)) {}

  Result<uint16_t> listen(const std::string& address, uint16_t port) {
    beast::error_code ec;
    auto addr = net::ip::make_address(address, ec);
    if (ec)
      return makeError(Errc::kInvalidArgument, "listen address " + address + ": " + ec.message());
    tcp::endpoint ep(addr, port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return makeError(Errc::kIo,
                       "listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
    }
    const uint16_t bound = acceptor_.local_endpoint().port();
    accept();
    return bound;
  }

  void stop() {
    shared_->stopping = true;
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
    });
  }

  std::shared_ptr<Shared> shared_ptr() const { return shared_; }

 private:
  void accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [self = shared_from_this()](beast::error_code ec,
                                                                               tcp::socket socket) {
      if (ec == net::error::operation_aborted || !self->acceptor_.is_open()) return;
      if (!ec) {
        beast::error_code ep_ec;
        const auto ep = socket.remote_endpoint(ep_ec);
        std::string ip = ep_ec ? std::string() : ep.address().to_string();
        if (static_cast<size_t>(self->shared_->metrics.open_connections.load()) >=
                self->shared_->limits.max_connections ||
            !self->shared_->admit(ip)) {
          ++self->shared_->metrics.rejected_connections;
          beast::error_code ignored;
          socket.close(ignored);
        } else {
          std::make_shared<Session>(std::move(socket), self->tls_, self->shared_, std::move(ip))
              ->run();
        }
      }
      self->accept();
    });
  }

  net::io_context& ioc_;
  ssl::context& tls_;
  tcp::acceptor acceptor_;
  std::shared_ptr<Shared> shared_;
};

HttpsServer::HttpsServer(net::io_context& ioc, ssl::context& tls, ServerLimits limits,
                         Handler handler, Metrics& metrics, Authorizer before_body)
    : impl_(std::make_shared<Impl>(
          ioc, tls,
          std::make_shared<Shared>(limits, std::move(handler), metrics, std::move(before_body)))) {}

HttpsServer::~HttpsServer() { impl_->stop(); }

Result<uint16_t> HttpsServer::listen(const std::string& address, uint16_t port) {
  return impl_->listen(address, port);
}

void HttpsServer::stopAccepting() { impl_->stop(); }

int64_t HttpsServer::inFlight() const { return impl_->shared_ptr()->in_flight.load(); }

void HttpsServer::joinWorkers() { impl_->shared_ptr()->workers.join(); }

}  // namespace t0w::collector
