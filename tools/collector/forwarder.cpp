#include "tools/collector/forwarder.h"

#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "common/core/time.h"
#include "common/http/beast_transport.h"
#include "common/http/system_trust.h"
#include "tools/collector/collector_app.h"

namespace t0w::collector {
namespace {

using Json = nlohmann::json;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

class SplunkOutput final : public Output {
 public:
  SplunkOutput(SplunkOutputConfig config, std::unique_ptr<BeastTransport> transport)
      : config_(std::move(config)), transport_(std::move(transport)) {}
  const std::string& name() const override { return name_; }

  Status deliver(const std::vector<ForwardItem>& items) override {
    HttpRequest req;
    req.method = "POST";
    req.path = "/services/collector/event";
    req.headers = {{"Content-Type", "application/json"},
                   {"Authorization", "Splunk " + config_.token}};
    req.timeout = std::chrono::seconds(30);
    for (const ForwardItem& item : items) {
      Json p = Json::parse(item.payload, nullptr, false);
      if (p.is_discarded()) continue;  // written by us; cannot happen short of disk damage
      Json e{{"host", p.value("host", "")},
             {"source", "tier0watch-collector"},
             {"sourcetype", config_.sourcetype + ":" + p.value("kind", "event")},
             {"event", p}};
      if (p.contains("time") && p["time"].is_number_integer()) {
        e["time"] = static_cast<double>(p["time"].get<int64_t>()) / 1e6;
      }
      req.body += e.dump(-1, ' ', false, Json::error_handler_t::replace);
      req.body += '\n';
    }
    TransportResult r = transport_->send(req);
    if (!r.isResponse()) return makeError(Errc::kIo, "splunk: " + r.error().toString());
    if (r.response().status != 200) {
      return makeError(Errc::kIo, "splunk: HTTP " + std::to_string(r.response().status) + ": " +
                                      r.response().body.substr(0, 200));
    }
    return {};
  }

 private:
  std::string name_ = "splunk";
  SplunkOutputConfig config_;
  std::unique_ptr<BeastTransport> transport_;
};

std::string syslogToken(const std::string& s, size_t max) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 33 && c <= 126) out += static_cast<char>(c);
    if (out.size() == max) break;
  }
  return out.empty() ? "-" : out;
}

int severityOf(const Json& p) {
  if (p.value("kind", "") != "alert") return 6;  // informational
  const Json* body = p.contains("body") ? &p["body"] : nullptr;
  const std::string level = body != nullptr ? body->value("level", "") : "";
  if (level == "critical") return 2;
  if (level == "high") return 3;
  if (level == "medium") return 4;
  if (level == "low") return 5;
  return 6;
}

class SyslogOutput final : public Output {
 public:
  explicit SyslogOutput(SyslogOutputConfig config)
      : config_(std::move(config)), tls_(ssl::context::tls_client) {}

  Status init() {
    // ca_file replaces the system store, as the agent's ca_bundle does.
    if (config_.ca_file.empty()) {
      const Status system = addSystemTrust(tls_.native_handle());
      if (!system) return makeError(Errc::kIo, "syslog: " + system.error().message);
    } else {
      boost::system::error_code ec;
      tls_.load_verify_file(config_.ca_file, ec);
      if (ec) return makeError(Errc::kIo, "syslog: " + config_.ca_file + ": " + ec.message());
    }
    tls_.set_verify_mode(ssl::verify_peer);
    return {};
  }

  const std::string& name() const override { return name_; }

  Status deliver(const std::vector<ForwardItem>& items) override {
    if (!stream_) {
      if (Status s = connect(); !s) return s;
    }
    std::string frames;
    for (const ForwardItem& item : items) {
      const std::string msg = syslogMessage(item.payload, config_.app_name);
      frames += std::to_string(msg.size()) + " " + msg;
    }
    auto ec =
        runFor([&](auto handler) { net::async_write(*stream_, net::buffer(frames), handler); });
    if (ec) {
      stream_.reset();
      return makeError(Errc::kIo, "syslog: write to " + config_.host + ": " + ec.message());
    }
    return {};
  }

 private:
  template <typename Start>
  boost::system::error_code runFor(Start start) {
    boost::system::error_code result = net::error::would_block;
    ioc_.restart();
    start([&](boost::system::error_code ec, auto&&...) { result = ec; });
    ioc_.run_for(std::chrono::seconds(15));
    if (result == net::error::would_block) {
      if (stream_) {
        boost::system::error_code ignored;
        stream_->lowest_layer().close(ignored);
      }
      ioc_.restart();
      ioc_.run();
      return net::error::timed_out;
    }
    return result;
  }

  Status connect() {
    stream_ = std::make_unique<ssl::stream<tcp::socket>>(ioc_, tls_);
    tcp::resolver resolver(ioc_);
    boost::system::error_code ec;
    auto endpoints = resolver.resolve(config_.host, std::to_string(config_.port), ec);
    if (ec) return fail("resolve", ec);
    ec = runFor(
        [&](auto handler) { net::async_connect(stream_->lowest_layer(), endpoints, handler); });
    if (ec) return fail("connect", ec);
    SSL_set_tlsext_host_name(stream_->native_handle(), config_.host.c_str());
    stream_->set_verify_callback(ssl::host_name_verification(config_.host));
    ec = runFor([&](auto handler) { stream_->async_handshake(ssl::stream_base::client, handler); });
    if (ec) return fail("TLS handshake", ec);
    return {};
  }

  Status fail(const char* step, const boost::system::error_code& ec) {
    stream_.reset();
    return makeError(Errc::kIo, std::string("syslog: ") + step + " " + config_.host + ":" +
                                    std::to_string(config_.port) + ": " + ec.message());
  }

  std::string name_ = "syslog";
  SyslogOutputConfig config_;
  net::io_context ioc_;
  ssl::context tls_;
  std::unique_ptr<ssl::stream<tcp::socket>> stream_;
};

}  // namespace

std::string syslogMessage(const std::string& payload, const std::string& app_name) {
  Json p = Json::parse(payload, nullptr, false);
  if (p.is_discarded()) p = Json::object();
  // Facility 13 (log audit).
  const int pri = 13 * 8 + severityOf(p);
  int64_t micros = systemNowMicros();
  if (p.contains("time") && p["time"].is_number_integer()) micros = p["time"].get<int64_t>();
  const std::string ts = formatFiletime(unixMicrosToFiletime(micros));  // RFC 3339, UTC
  const std::string kind = p.value("kind", "event");
  std::string msg = "<" + std::to_string(pri) + ">1 " + ts + " " +
                    syslogToken(p.value("host", ""), 255) + " " + syslogToken(app_name, 48) +
                    " - " + syslogToken(kind, 32) + " - ";
  msg += payload;
  return msg;
}

Result<std::unique_ptr<Output>> makeSplunkOutput(const SplunkOutputConfig& config) {
  BeastTransportOptions o;
  o.url = config.url;
  o.ca_bundle_file = config.ca_file;
  auto t = BeastTransport::create(o);
  if (!t) return makeError(t.error().code, "splunk: " + t.error().message);
  return std::unique_ptr<Output>(new SplunkOutput(config, std::move(*t)));
}

Result<std::unique_ptr<Output>> makeSyslogOutput(const SyslogOutputConfig& config) {
  auto out = std::make_unique<SyslogOutput>(config);
  if (Status s = out->init(); !s) return s.error();
  return std::unique_ptr<Output>(std::move(out));
}

ForwardLoop::ForwardLoop(Storage& storage, Metrics& metrics, std::unique_ptr<Output> output,
                         int batch_size, int claim_seconds)
    : storage_(storage),
      metrics_(metrics),
      output_(std::move(output)),
      batch_size_(batch_size),
      claim_micros_(int64_t{claim_seconds} * 1'000'000) {}

ForwardLoop::~ForwardLoop() { stop(); }

void ForwardLoop::start() {
  thread_ = std::thread([this] { run(); });
}

void ForwardLoop::stop() {
  stop_ = true;
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ForwardLoop::notify() {
  {
    std::lock_guard lock(mutex_);
    pending_ = true;
  }
  wake_.notify_all();
}

void ForwardLoop::run() {
  int failures = 0;
  while (!stop_) {
    std::chrono::milliseconds wait(1000);
    // Claimed for this instance: another instance on the same database skips these rows.
    const int64_t now = systemNowMicros();
    auto items = storage_.claimForwards(output_->name(), now, now + claim_micros_, batch_size_);
    if (!items) {
      ++metrics_.storage_errors;
      spdlog::error("forward {}: {}", output_->name(), items.error().toString());
    } else if (!items->empty()) {
      std::vector<int64_t> ids;
      for (const auto& i : *items) ids.push_back(i.id);
      Status s = output_->deliver(*items);
      if (s) {
        failures = 0;
        // Counted before the rows leave the queue: whoever sees an empty queue sees the count.
        metrics_.forwarded += ids.size();
        if (Status a = storage_.ackForwards(ids); !a) {
          ++metrics_.storage_errors;  // delivered again later: duplicates, never a loss
          spdlog::error("forward {}: {}", output_->name(), a.error().toString());
        }
        wait = std::chrono::milliseconds(0);
      } else {
        ++metrics_.forward_errors;
        ++failures;
        // Exponential backoff, 1 s doubling to 5 min.
        const int64_t delay_s = std::min<int64_t>(300, int64_t{1} << std::min(failures, 9));
        spdlog::warn("forward {}: {} (retry in {} s)", output_->name(), s.error().message, delay_s);
        if (Status r = storage_.retryForwards(ids, systemNowMicros() + delay_s * 1'000'000); !r) {
          ++metrics_.storage_errors;
        }
        wait = std::chrono::milliseconds(delay_s * 1000);
      }
    }
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, wait, [&] { return stop_.load() || (pending_ && failures == 0); });
    pending_ = false;
  }
}

}  // namespace t0w::collector
