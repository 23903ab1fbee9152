// libFuzzer target for the collector's HTTP request handling: every input is (1) parsed as raw
// HTTP by Beast's parser under the server's header and body limits and, if it forms a request,
// handed to CollectorApp::beforeBody and CollectorApp::handle (every route, unauthenticated);
// (2) sent as the body of an authenticated upload to /api/v1/batches, as gzip and as identity
// (deep, wide and amplifying documents reach the batch decoder and storage). Run under ASan with
// a memory limit (scripts/fuzz.sh: -rss_limit_mb, -malloc_limit_mb); the collector's own limits
// are lowered so that a bound exceeded shows up as a sanitizer report, not as a slow input.
// Checks besides "no crash": every refusal (4xx/5xx) is a JSON body naming its error, and no
// answer echoes the bearer credential.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "tools/collector/collector_app.h"
#include "tools/collector/config.h"
#include "tools/collector/security.h"
#include "tools/collector/storage.h"

namespace {

using namespace t0w::collector;
namespace http = boost::beast::http;

constexpr const char* kToken = "fuzz-agent-credential-0123456789abcdef0123456789abcdef012345";

struct World {
  std::string dir;
  std::unique_ptr<CollectorConfig> config;
  std::unique_ptr<Storage> storage;
  std::unique_ptr<Metrics> metrics;
  std::unique_ptr<CollectorApp> app;
};

World& world() {
  static World* w = [] {
    auto* out = new World;
    char tmpl[] = "/tmp/t0w-fuzz-collector-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) std::abort();
    out->dir = tmpl;
    auto config = parseConfig("state_dir: " + out->dir +
                                  "\nlimits: {max_body_bytes: 1048576, max_decompressed_bytes: "
                                  "4194304, max_json_values: 200000, max_records_per_batch: 500, "
                                  "agent_requests_per_second: 1000000, agent_burst: 1000000}\n",
                              "fuzz");
    if (!config) std::abort();
    out->config = std::make_unique<CollectorConfig>(*config);
    StorageOptions so;
    so.sqlite_full_sync = false;  // speed; durability is not what is fuzzed
    auto storage = openStorage("sqlite", out->dir + "/collector.db", so);
    if (!storage) std::abort();
    out->storage = std::move(*storage);
    if (!out->storage->enrollAgent("dc01", sha256Hex(kToken), 1)) std::abort();
    out->metrics = std::make_unique<Metrics>();
    out->app = std::make_unique<CollectorApp>(*out->config, *out->storage, *out->metrics,
                                              std::vector<std::string>{});
    return out;
  }();
  return *w;
}

// HttpsServer adds the protocol header on the way out; what the handler answers must stand on
// its own: a refusal is JSON naming its error, and no answer echoes the credential (unless the
// input itself carried its text, e.g. in a body field an error message names).
void check(const Response& res, std::string_view input) {
  if (res.result_int() >= 400) {
    const auto body = nlohmann::json::parse(res.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("error")) std::abort();
  }
  if (res.body().find(kToken) != std::string::npos &&
      input.find(kToken) == std::string_view::npos) {
    std::abort();
  }
}

void serve(World& w, const Request& req, std::string_view input) {
  const RequestContext ctx{"192.0.2.1:40000"};
  if (auto refusal = w.app->beforeBody(req, ctx)) {
    check(*refusal, input);
    return;
  }
  check(w.app->handle(req, ctx), input);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  (void)world();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = world();
  const std::string in(reinterpret_cast<const char*>(data), size);

  // (1) Raw HTTP, as the server's parser sees it.
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 << 10);
  parser.body_limit(static_cast<uint64_t>(w.config->max_body_bytes));
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(in), ec);
  if (!ec && parser.is_done()) serve(w, parser.get(), in);

  // (2) The input as an authenticated upload's body.
  for (const char* encoding : {"gzip", "identity"}) {
    Request req{http::verb::post, "/api/v1/batches", 11};
    req.set(http::field::authorization, std::string("Bearer ") + kToken);
    req.set(http::field::content_type, "application/json");
    req.set(http::field::content_encoding, encoding);
    req.body() = in;
    req.prepare_payload();
    serve(w, req, in);
  }
  return 0;
}
