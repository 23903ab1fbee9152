#include "common/http/beast_transport.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

#include "common/http/system_trust.h"
#include "common/http/url.h"

namespace t0w {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using Deadline = std::chrono::steady_clock::time_point;

namespace {

enum class Step { kResolve, kConnect, kProxy, kHandshake, kWrite, kRead };

const char* stepName(Step step) {
  switch (step) {
    case Step::kResolve:
      return "resolving";
    case Step::kConnect:
      return "connecting to";
    case Step::kProxy:
      return "CONNECT through proxy to";
    case Step::kHandshake:
      return "TLS handshake with";
    case Step::kWrite:
      return "sending request to";
    case Step::kRead:
      return "reading response from";
  }
  return "talking to";
}

bool isResetError(const beast::error_code& ec) {
  return ec == net::error::connection_reset || ec == net::error::eof ||
         ec == net::error::broken_pipe || ec == net::error::connection_aborted ||
         ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == ssl::error::stream_truncated;
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace

class BeastTransport::Impl {
 public:
  Impl(BeastTransportOptions options, Url target, std::optional<Url> proxy)
      : options_(std::move(options)), target_(std::move(target)), proxy_(std::move(proxy)) {
    if (proxy_ && !proxy_->username.empty()) {
      proxy_authorization_ = "Basic " + base64(proxy_->username + ":" + proxy_->password);
    }
  }

  Status init() {
    if (!tls()) return {};
    beast::error_code ec;
    SSL_CTX_set_min_proto_version(ssl_ctx_.native_handle(), TLS1_2_VERSION);
    ssl_ctx_.set_verify_mode(ssl::verify_peer, ec);
    // A CA bundle replaces the system store (as Beats, Fluent Bit and syslog-ng do): the
    // collector is then pinned to the CAs its operators chose, and no public CA can stand in.
    if (!options_.ca_bundle_file.empty()) {
      ssl_ctx_.load_verify_file(options_.ca_bundle_file, ec);
      if (ec) {
        return makeError(Errc::kIo, "CA bundle " + options_.ca_bundle_file + ": " + ec.message());
      }
    } else if (!addSystemTrust(ssl_ctx_.native_handle())) {
      return makeError(Errc::kIo, "no CA bundle given and the system CA store is unavailable");
    }
    if (options_.client_cert_file.empty() != options_.client_key_file.empty()) {
      return makeError(Errc::kInvalidArgument,
                       "mutual TLS needs both client_cert_file and client_key_file");
    }
    if (!options_.client_cert_file.empty()) {
      ssl_ctx_.use_certificate_chain_file(options_.client_cert_file, ec);
      if (ec) {
        return makeError(Errc::kIo,
                         "client certificate " + options_.client_cert_file + ": " + ec.message());
      }
      ssl_ctx_.use_private_key_file(options_.client_key_file, ssl::context::pem, ec);
      if (ec) {
        // The key's contents never reach the message, only its path.
        return makeError(Errc::kIo, "client key " + options_.client_key_file + ": " + ec.message());
      }
    }
    return {};
  }

  TransportResult send(const HttpRequest& request) {
    const Deadline deadline = std::chrono::steady_clock::now() + request.timeout;
    const bool reused = connected();
    if (!reused) {
      if (auto error = connect(deadline)) return *error;
    }
    TransportResult result = exchange(request, deadline);
    // A kept-alive connection the server has meanwhile closed fails on first use; that is not a
    // delivery failure, so retry once on a fresh connection (batches are idempotent).
    if (!result.isResponse() && reused && result.error().kind == TransportErrorKind::kReset &&
        std::chrono::steady_clock::now() < deadline) {
      if (auto error = connect(deadline)) return *error;
      result = exchange(request, deadline);
    }
    return result;
  }

  uint64_t connectionsOpened() const { return connections_opened_; }

  void disconnect() {
    if (connected()) {
      beast::error_code ignored;
      socket().shutdown(tcp::socket::shutdown_both, ignored);
      socket().close(ignored);
    }
    tls_stream_.reset();
    plain_stream_.reset();
    buffer_.clear();
  }

 private:
  bool tls() const { return target_.scheme == "https"; }
  bool connected() const { return tls_stream_ || plain_stream_; }

  tcp::socket& socket() {
    return tls_stream_ ? beast::get_lowest_layer(*tls_stream_).socket() : plain_stream_->socket();
  }

  // Runs one asynchronous step until it completes or the deadline passes; on the deadline,
  // `cancel` aborts it and the step reports a timeout.
  template <class Initiate, class Cancel>
  beast::error_code run(Initiate&& initiate, Cancel&& cancel, Deadline deadline, bool& timed_out) {
    beast::error_code result;
    bool done = false;
    initiate([&result, &done](beast::error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    ioc_.restart();
    ioc_.run_until(deadline);
    if (!done) {
      timed_out = true;
      cancel();
      ioc_.restart();
      ioc_.run();  // lets the aborted handler run before its state goes out of scope
    }
    return result;
  }

  TransportError makeTransportError(Step step, const beast::error_code& ec, bool timed_out) {
    const Url& peer =
        (proxy_ && (step == Step::kResolve || step == Step::kConnect || step == Step::kProxy))
            ? *proxy_
            : target_;
    std::string where = std::string(stepName(step)) + " " + peer.authority();
    if (proxy_ && &peer == &*proxy_) where += " (proxy for " + target_.authority() + ")";
    TransportError error;
    if (timed_out) {
      error.kind = TransportErrorKind::kTimeout;
      error.message = where + ": deadline passed";
      return error;
    }
    error.message = where + ": " + ec.message();
    if (step == Step::kResolve) {
      error.kind = TransportErrorKind::kDns;
    } else if (ec == net::error::connection_refused || ec == net::error::network_unreachable ||
               ec == net::error::host_unreachable) {
      error.kind = TransportErrorKind::kConnectRefused;
    } else if (isResetError(ec)) {
      error.kind = TransportErrorKind::kReset;
    } else if (step == Step::kHandshake && ec.category() == net::error::get_ssl_category()) {
      const long verify = tls_stream_ ? SSL_get_verify_result(tls_stream_->native_handle())
                                      : static_cast<long>(X509_V_OK);
      if (verify != X509_V_OK) {
        error.kind = TransportErrorKind::kTlsVerification;
        error.message = where + ": certificate rejected: " + X509_verify_cert_error_string(verify);
      } else if (ERR_GET_REASON(static_cast<unsigned long>(ec.value())) ==
                 SSL_R_CERTIFICATE_VERIFY_FAILED) {
        // The chain was fine, so the name check (host_name_verification) refused it.
        error.kind = TransportErrorKind::kTlsVerification;
        error.message = where + ": certificate does not match host " + target_.host;
      } else {
        error.kind = TransportErrorKind::kTls;
      }
    } else if (ec.category() == net::error::get_ssl_category()) {
      error.kind = TransportErrorKind::kTls;
    } else if (step == Step::kProxy) {
      error.kind = TransportErrorKind::kProxy;
    } else if (ec.category() == beast::error_code(http::error::bad_version).category()) {
      error.kind = TransportErrorKind::kProtocol;
    } else {
      error.kind = TransportErrorKind::kOther;
    }
    return error;
  }

  std::optional<TransportError> connect(Deadline deadline) {
    disconnect();
    const Url& first_hop = proxy_ ? *proxy_ : target_;
    bool timed_out = false;

    tcp::resolver resolver(ioc_);
    tcp::resolver::results_type endpoints;
    beast::error_code ec = run(
        [&](auto handler) {
          resolver.async_resolve(
              first_hop.host, first_hop.port,
              [&endpoints, handler](beast::error_code e, tcp::resolver::results_type r) mutable {
                endpoints = std::move(r);
                handler(e);
              });
        },
        [&] { resolver.cancel(); }, deadline, timed_out);
    if (ec || timed_out) return makeTransportError(Step::kResolve, ec, timed_out);

    if (tls()) {
      tls_stream_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc_, ssl_ctx_);
    } else {
      plain_stream_ = std::make_unique<beast::tcp_stream>(ioc_);
    }
    auto close = [this] {
      beast::error_code ignored;
      socket().close(ignored);
    };
    ec = run([&](auto handler) { net::async_connect(socket(), endpoints, handler); }, close,
             deadline, timed_out);
    if (ec || timed_out) {
      auto error = makeTransportError(Step::kConnect, ec, timed_out);
      disconnect();
      return error;
    }
    ++connections_opened_;
    socket().set_option(tcp::no_delay(true), ec);

    if (proxy_) {
      if (auto error = proxyConnect(deadline)) {
        disconnect();
        return error;
      }
    }
    if (tls()) {
      SSL* native = tls_stream_->native_handle();
      // SNI carries names only, never IP literals (RFC 6066 section 3).
      if (!target_.hostIsIpLiteral() && !SSL_set_tlsext_host_name(native, target_.host.c_str())) {
        disconnect();
        return TransportError{TransportErrorKind::kTls, "setting SNI for " + target_.host};
      }
      tls_stream_->set_verify_callback(ssl::host_name_verification(target_.host), ec);
      ec = run(
          [&](auto handler) { tls_stream_->async_handshake(ssl::stream_base::client, handler); },
          close, deadline, timed_out);
      if (ec || timed_out) {
        auto error = makeTransportError(Step::kHandshake, ec, timed_out);
        disconnect();
        return error;
      }
    }
    return std::nullopt;
  }

  std::optional<TransportError> proxyConnect(Deadline deadline) {
    bool timed_out = false;
    auto close = [this] {
      beast::error_code ignored;
      socket().close(ignored);
    };
    tcp::socket& sock = socket();
    http::request<http::empty_body> connect_request{http::verb::connect, target_.authority(), 11};
    connect_request.set(http::field::host, target_.authority());
    connect_request.set(http::field::user_agent, options_.user_agent);
    if (!proxy_authorization_.empty()) {
      connect_request.set(http::field::proxy_authorization, proxy_authorization_);
    }
    beast::error_code ec =
        run([&](auto handler) { http::async_write(sock, connect_request, handler); }, close,
            deadline, timed_out);
    if (ec || timed_out) return makeTransportError(Step::kProxy, ec, timed_out);

    beast::flat_buffer buffer;
    http::response_parser<http::empty_body> parser;
    parser.skip(true);  // a CONNECT response has no body; the tunnel starts right after it
    parser.header_limit(16 * 1024);
    ec = run([&](auto handler) { http::async_read_header(sock, buffer, parser, handler); }, close,
             deadline, timed_out);
    if (ec || timed_out) return makeTransportError(Step::kProxy, ec, timed_out);
    const unsigned status = parser.get().result_int();
    if (status / 100 != 2) {
      return TransportError{TransportErrorKind::kProxy,
                            "proxy " + proxy_->authority() + " refused CONNECT to " +
                                target_.authority() + " with HTTP " + std::to_string(status)};
    }
    if (buffer.size() != 0) {
      return TransportError{TransportErrorKind::kProxy,
                            "proxy " + proxy_->authority() + " sent data before the tunnel"};
    }
    return std::nullopt;
  }

  template <class Stream>
  TransportResult exchangeOn(Stream& stream, const HttpRequest& request, Deadline deadline) {
    bool timed_out = false;
    auto close = [this] {
      beast::error_code ignored;
      socket().close(ignored);
    };
    http::request<http::string_body> message;
    message.method_string(request.method);
    message.target(target_.path + (request.path.empty() ? "/" : request.path));
    message.version(11);
    const bool default_port = target_.port == (tls() ? "443" : "80");
    const bool v6 = target_.host.find(':') != std::string::npos;
    const std::string host = v6 ? "[" + target_.host + "]" : target_.host;
    message.set(http::field::host, default_port ? host : host + ":" + target_.port);
    message.set(http::field::user_agent, options_.user_agent);
    for (const auto& [name, value] : request.headers) message.set(name, value);
    if (!request.bearer_token.empty()) {
      message.set(http::field::authorization, "Bearer " + request.bearer_token);
    }
    message.body() = request.body;
    message.keep_alive(true);
    message.prepare_payload();

    beast::error_code ec = run([&](auto handler) { http::async_write(stream, message, handler); },
                               close, deadline, timed_out);
    if (ec || timed_out) {
      auto error = makeTransportError(Step::kWrite, ec, timed_out);
      disconnect();
      return error;
    }

    http::response_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(options_.max_response_bytes);
    if (request.method == "HEAD") parser.skip(true);
    // Header first: Beast 1.74's eager full-message read skips the Content-Length vs body_limit
    // check, so the declared length is checked here before any body byte is buffered.
    ec = run([&](auto handler) { http::async_read_header(stream, buffer_, parser, handler); },
             close, deadline, timed_out);
    if (!ec && !timed_out && parser.content_length() &&
        *parser.content_length() > options_.max_response_bytes) {
      ec = http::error::body_limit;
    }
    if (!ec && !timed_out && !parser.is_done()) {
      ec = run([&](auto handler) { http::async_read(stream, buffer_, parser, handler); }, close,
               deadline, timed_out);
    }
    if (ec || timed_out) {
      TransportError error = makeTransportError(Step::kRead, ec, timed_out);
      if (ec == http::error::body_limit || ec == http::error::header_limit) {
        error.kind = TransportErrorKind::kProtocol;
        error.message = "reading response from " + target_.authority() + ": response larger than " +
                        std::to_string(options_.max_response_bytes) + " bytes";
      }
      disconnect();
      return error;
    }
    auto response_message = parser.release();
    HttpResponse response;
    response.status = static_cast<int>(response_message.result_int());
    for (const auto& field : response_message) {
      response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    response.body = std::move(response_message.body());
    if (!response_message.keep_alive()) disconnect();
    return response;
  }

  TransportResult exchange(const HttpRequest& request, Deadline deadline) {
    if (tls_stream_) return exchangeOn(*tls_stream_, request, deadline);
    return exchangeOn(*plain_stream_, request, deadline);
  }

  BeastTransportOptions options_;
  Url target_;
  std::optional<Url> proxy_;
  std::string proxy_authorization_;  // a secret: never logged
  net::io_context ioc_{1};
  ssl::context ssl_ctx_{ssl::context::tls_client};
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_stream_;
  std::unique_ptr<beast::tcp_stream> plain_stream_;
  beast::flat_buffer buffer_;
  uint64_t connections_opened_ = 0;
};

BeastTransport::BeastTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BeastTransport::~BeastTransport() = default;

Result<std::unique_ptr<BeastTransport>> BeastTransport::create(BeastTransportOptions options) {
  auto target = parseUrl(options.url);
  if (!target) return makeError(Errc::kInvalidArgument, "collector " + target.error().message);
  if (target->scheme == "http") {
    if (!options.allow_insecure) {
      return makeError(Errc::kInvalidArgument,
                       "collector URL uses plain http://" + target->authority() +
                           "; use https, or set allow_insecure for a lab setup");
    }
    spdlog::warn(
        "shipper: allow_insecure is set: events go to http://{} unencrypted and the server is "
        "not authenticated",
        target->authority());
  }
  if (!target->username.empty() || !target->password.empty()) {
    return makeError(Errc::kInvalidArgument,
                     "collector URL must not carry credentials; use the bearer token");
  }
  std::optional<Url> proxy;
  if (!options.proxy_url.empty()) {
    auto parsed = parseUrl(options.proxy_url);
    if (!parsed) return makeError(Errc::kInvalidArgument, "proxy " + parsed.error().message);
    if (parsed->scheme != "http") {
      return makeError(Errc::kInvalidArgument, "proxy URL must be http://host:port");
    }
    proxy = std::move(*parsed);
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(*target), std::move(proxy));
  if (Status status = impl->init(); !status) return status.error();
  return std::unique_ptr<BeastTransport>(new BeastTransport(std::move(impl)));
}

TransportResult BeastTransport::send(const HttpRequest& request) { return impl_->send(request); }

void BeastTransport::closeConnection() { impl_->disconnect(); }

uint64_t BeastTransport::connectionsOpened() const { return impl_->connectionsOpened(); }

}  // namespace t0w
