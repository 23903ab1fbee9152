#include "tools/collector/config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace t0w::collector {
namespace {

const char* const kDefaults =
    R"yaml(# tier0watch-collector defaults (every key a config file may set)
listen:
  address: 127.0.0.1
  port: 8443
state_dir: /var/lib/tier0watch-collector
threads: 4             # network threads (TLS, HTTP)
worker_threads: 4      # request handlers (decoding, storage, password hashing, search)
tls:
  cert_file: ""        # empty: self-signed certificate generated into state_dir
  key_file: ""
  client_ca_file: ""   # set to require agent certificates (mutual TLS)
storage:
  driver: sqlite       # sqlite | postgres
  sqlite_path: ""      # default: state_dir/collector.db
  postgres_url: ""     # libpq connection string
  sqlite_synchronous: full  # full: acknowledged batches survive power loss | normal: a crash only
  search_index: false  # true: search (q) through a trigram index (both drivers), at a cost at ingest
limits:
  max_body_bytes: 16777216         # a batch upload (gzip-compressed)
  max_decompressed_bytes: 134217728
  max_records_per_batch: 20000
  max_json_depth: 64               # nesting of a batch document, checked while parsing
  max_json_values: 4000000         # values in a batch document: bounds its memory
  max_api_body_bytes: 65536        # any other request (login, API)
  max_header_bytes: 16384
  idle_timeout_seconds: 30         # until a request's headers are in
  request_timeout_seconds: 60      # reading its body; writing the answer
  handshake_timeout_seconds: 10
  max_connections: 512
  max_connections_per_ip: 64
  agent_requests_per_second: 20
  agent_burst: 40
retention:
  max_age_days: 30     # 0: keep forever
  max_bytes: 0         # 0: no size limit
  max_bytes_per_agent: 0  # 0: no quota; above it an agent loses its own oldest records
  interval_seconds: 600
dashboard:
  silent_after_seconds: 600   # agent_silent: no heartbeat for this long
  session_hours: 12
health:
  evaluate_interval_seconds: 30   # health issues are re-evaluated this often
  clock_skew_seconds: 120         # clock_skew: agent clock this far off the collector's
  minimum_agent_version: ""       # agent_outdated: older than this ("" = newest in the fleet)
  credential_max_age_days: 365    # credential_expiring: rotate before this age (0 = never)
  credential_warn_days: 30
  queue_pressure_ratio: 0.8       # queue_pressure: queue bytes / cap
  time_to_wrap_warn_seconds: 86400  # queue_pressure: a log overwrites unread events sooner
notify:
  webhook:
    enabled: false
    url: ""            # https://host[:port]/path: one signed JSON POST per notification
    secret: ""         # HMAC-SHA256 key (X-Tier0Watch-Signature); never logged
    ca_file: ""        # set: the only CAs trusted for this output; empty: the system's
    batch_size: 20
log:
  level: info          # trace | debug | info | warn | error
forward:
  claim_seconds: 120   # an instance holds the queue rows it sends this long; then another may
                       # (several instances, docs/scaling.md): above the longest delivery
  splunk:
    enabled: false
    url: ""
    token: ""
    ca_file: ""        # set: the only CAs trusted for this output; empty: the system's
    sourcetype: tier0watch
    batch_size: 100
  syslog:
    enabled: false
    host: ""
    port: 6514
    ca_file: ""        # set: the only CAs trusted for this output; empty: the system's
    app_name: tier0watch
    batch_size: 100
)yaml";

// Overlays `user` on `base` in place; every key of `user` must exist in `base`.
Status overlay(YAML::Node base, const YAML::Node& user, const std::string& path,
               const std::string& where) {
  if (!user.IsMap()) {
    return makeError(Errc::kInvalidArgument,
                     where + ": " + (path.empty() ? "the document" : path) + " must be a mapping");
  }
  for (const auto& kv : user) {
    const std::string key = kv.first.as<std::string>();
    const std::string full = path.empty() ? key : path + "." + key;
    if (!base[key]) {
      return makeError(Errc::kInvalidArgument, where + ": unknown key " + full + " (line " +
                                                   std::to_string(kv.first.Mark().line + 1) + ")");
    }
    if (base[key].IsMap()) {
      if (Status s = overlay(base[key], kv.second, full, where); !s) return s;
    } else {
      if (!kv.second.IsScalar()) {
        return makeError(Errc::kInvalidArgument, where + ": " + full + " must be a single value");
      }
      base[key] = kv.second;
    }
  }
  return {};
}

template <typename T>
Status read(const YAML::Node& root, const std::string& path, T& out, const std::string& where) {
  YAML::Node node = root;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '.')) {
    node.reset(node[part]);
  }
  try {
    out = node.as<T>();
  } catch (const YAML::Exception&) {
    return makeError(Errc::kInvalidArgument,
                     where + ": " + path + ": \"" + node.as<std::string>("") + "\" is not valid");
  }
  return {};
}

Status check(bool ok, const std::string& where, const std::string& message) {
  if (ok) return {};
  return makeError(Errc::kInvalidArgument, where + ": " + message);
}

}  // namespace

const std::string& defaultConfigYaml() {
  static const std::string text(kDefaults);
  return text;
}

Result<CollectorConfig> parseConfig(const std::string& yaml, const std::string& where) {
  CollectorConfig c;
  try {
    YAML::Node base = YAML::Load(kDefaults);
    YAML::Node user = YAML::Load(yaml);
    if (user && !user.IsNull()) {
      if (Status s = overlay(base, user, "", where); !s) return s.error();
    }
    std::vector<Status> r;
    r.push_back(read(base, "listen.address", c.listen_address, where));
    r.push_back(read(base, "listen.port", c.listen_port, where));
    r.push_back(read(base, "state_dir", c.state_dir, where));
    r.push_back(read(base, "threads", c.threads, where));
    r.push_back(read(base, "worker_threads", c.worker_threads, where));
    r.push_back(read(base, "tls.cert_file", c.tls_cert_file, where));
    r.push_back(read(base, "tls.key_file", c.tls_key_file, where));
    r.push_back(read(base, "tls.client_ca_file", c.tls_client_ca_file, where));
    r.push_back(read(base, "storage.driver", c.storage_driver, where));
    r.push_back(read(base, "storage.sqlite_path", c.sqlite_path, where));
    r.push_back(read(base, "storage.postgres_url", c.postgres_url, where));
    r.push_back(read(base, "storage.sqlite_synchronous", c.sqlite_synchronous, where));
    r.push_back(read(base, "storage.search_index", c.search_index, where));
    r.push_back(read(base, "limits.max_body_bytes", c.max_body_bytes, where));
    r.push_back(read(base, "limits.max_decompressed_bytes", c.max_decompressed_bytes, where));
    r.push_back(read(base, "limits.max_records_per_batch", c.max_records_per_batch, where));
    r.push_back(read(base, "limits.max_header_bytes", c.max_header_bytes, where));
    r.push_back(read(base, "limits.max_api_body_bytes", c.max_api_body_bytes, where));
    r.push_back(read(base, "limits.max_json_depth", c.max_json_depth, where));
    r.push_back(read(base, "limits.max_json_values", c.max_json_values, where));
    r.push_back(read(base, "limits.idle_timeout_seconds", c.idle_timeout_seconds, where));
    r.push_back(read(base, "limits.request_timeout_seconds", c.request_timeout_seconds, where));
    r.push_back(read(base, "limits.handshake_timeout_seconds", c.handshake_timeout_seconds, where));
    r.push_back(read(base, "limits.max_connections", c.max_connections, where));
    r.push_back(read(base, "limits.max_connections_per_ip", c.max_connections_per_ip, where));
    r.push_back(read(base, "limits.agent_requests_per_second", c.agent_requests_per_second, where));
    r.push_back(read(base, "limits.agent_burst", c.agent_burst, where));
    r.push_back(read(base, "retention.max_age_days", c.retention_max_age_days, where));
    r.push_back(read(base, "retention.max_bytes", c.retention_max_bytes, where));
    r.push_back(
        read(base, "retention.max_bytes_per_agent", c.retention_max_bytes_per_agent, where));
    r.push_back(read(base, "retention.interval_seconds", c.retention_interval_seconds, where));
    r.push_back(read(base, "dashboard.silent_after_seconds", c.silent_after_seconds, where));
    r.push_back(read(base, "dashboard.session_hours", c.session_hours, where));
    r.push_back(read(base, "log.level", c.log_level, where));
    r.push_back(
        read(base, "health.evaluate_interval_seconds", c.health.evaluate_interval_seconds, where));
    r.push_back(read(base, "health.clock_skew_seconds", c.health.clock_skew_seconds, where));
    r.push_back(read(base, "health.minimum_agent_version", c.health.minimum_agent_version, where));
    r.push_back(
        read(base, "health.credential_max_age_days", c.health.credential_max_age_days, where));
    r.push_back(read(base, "health.credential_warn_days", c.health.credential_warn_days, where));
    r.push_back(read(base, "health.queue_pressure_ratio", c.health.queue_pressure_ratio, where));
    r.push_back(
        read(base, "health.time_to_wrap_warn_seconds", c.health.time_to_wrap_warn_seconds, where));
    r.push_back(read(base, "notify.webhook.enabled", c.webhook.enabled, where));
    r.push_back(read(base, "notify.webhook.url", c.webhook.url, where));
    r.push_back(read(base, "notify.webhook.secret", c.webhook.secret, where));
    r.push_back(read(base, "notify.webhook.ca_file", c.webhook.ca_file, where));
    r.push_back(read(base, "notify.webhook.batch_size", c.webhook.batch_size, where));
    r.push_back(read(base, "forward.claim_seconds", c.forward_claim_seconds, where));
    r.push_back(read(base, "forward.splunk.enabled", c.splunk.enabled, where));
    r.push_back(read(base, "forward.splunk.url", c.splunk.url, where));
    r.push_back(read(base, "forward.splunk.token", c.splunk.token, where));
    r.push_back(read(base, "forward.splunk.ca_file", c.splunk.ca_file, where));
    r.push_back(read(base, "forward.splunk.sourcetype", c.splunk.sourcetype, where));
    r.push_back(read(base, "forward.splunk.batch_size", c.splunk.batch_size, where));
    r.push_back(read(base, "forward.syslog.enabled", c.syslog.enabled, where));
    r.push_back(read(base, "forward.syslog.host", c.syslog.host, where));
    r.push_back(read(base, "forward.syslog.port", c.syslog.port, where));
    r.push_back(read(base, "forward.syslog.ca_file", c.syslog.ca_file, where));
    r.push_back(read(base, "forward.syslog.app_name", c.syslog.app_name, where));
    r.push_back(read(base, "forward.syslog.batch_size", c.syslog.batch_size, where));
    for (const Status& s : r) {
      if (!s) return s.error();
    }
  } catch (const YAML::Exception& e) {
    return makeError(Errc::kParse, where + ": " + e.what());
  }
  const std::vector<Status> checks = {
      check(c.listen_port >= 0 && c.listen_port <= 65535, where, "listen.port must be 0..65535"),
      check(c.threads >= 1 && c.threads <= 64, where, "threads must be 1..64"),
      check(c.worker_threads >= 1 && c.worker_threads <= 256, where,
            "worker_threads must be 1..256"),
      check(c.sqlite_synchronous == "full" || c.sqlite_synchronous == "normal", where,
            "storage.sqlite_synchronous must be full or normal"),
      check(c.storage_driver == "sqlite" || c.storage_driver == "postgres", where,
            "storage.driver must be sqlite or postgres"),
      check(c.storage_driver != "postgres" || !c.postgres_url.empty(), where,
            "storage.postgres_url is required with the postgres driver"),
      check(c.tls_cert_file.empty() == c.tls_key_file.empty(), where,
            "tls.cert_file and tls.key_file go together"),
      check(c.max_body_bytes >= 1024, where, "limits.max_body_bytes must be at least 1024"),
      check(c.max_decompressed_bytes >= c.max_body_bytes, where,
            "limits.max_decompressed_bytes must be at least limits.max_body_bytes"),
      check(c.max_records_per_batch >= 1, where, "limits.max_records_per_batch must be positive"),
      check(c.max_header_bytes >= 1024, where, "limits.max_header_bytes must be at least 1024"),
      check(c.idle_timeout_seconds >= 1 && c.request_timeout_seconds >= 1, where,
            "limits.idle_timeout_seconds and request_timeout_seconds must be positive"),
      check(c.max_api_body_bytes >= 1024, where, "limits.max_api_body_bytes must be at least 1024"),
      check(c.max_json_depth >= 8 && c.max_json_depth <= 10000, where,
            "limits.max_json_depth must be 8..10000"),
      check(c.max_json_values >= 1000, where, "limits.max_json_values must be at least 1000"),
      check(c.max_connections_per_ip >= 1, where, "limits.max_connections_per_ip must be positive"),
      check(c.handshake_timeout_seconds >= 1, where,
            "limits.handshake_timeout_seconds must be positive"),
      check(c.max_connections >= 1, where, "limits.max_connections must be positive"),
      check(c.agent_requests_per_second > 0 && c.agent_burst >= 1, where,
            "limits.agent_requests_per_second must be > 0 and agent_burst >= 1"),
      check(c.retention_max_age_days >= 0 && c.retention_max_bytes >= 0 &&
                c.retention_max_bytes_per_agent >= 0,
            where, "retention limits must not be negative"),
      check(c.retention_interval_seconds >= 1, where,
            "retention.interval_seconds must be positive"),
      check(c.silent_after_seconds >= 1 && c.session_hours >= 1, where,
            "dashboard durations must be positive"),
      check(c.log_level == "trace" || c.log_level == "debug" || c.log_level == "info" ||
                c.log_level == "warn" || c.log_level == "error",
            where, "log.level must be trace, debug, info, warn or error"),
      check(!c.splunk.enabled || (!c.splunk.url.empty() && !c.splunk.token.empty()), where,
            "forward.splunk needs url and token when enabled"),
      check(!c.syslog.enabled || !c.syslog.host.empty(), where,
            "forward.syslog needs host when enabled"),
      check(c.splunk.batch_size >= 1 && c.syslog.batch_size >= 1, where,
            "forward batch_size must be positive"),
      check(c.forward_claim_seconds >= 1, where, "forward.claim_seconds must be positive"),
      check(!c.webhook.enabled || (!c.webhook.url.empty() && !c.webhook.secret.empty()), where,
            "notify.webhook needs url and secret when enabled"),
      check(c.webhook.batch_size >= 1, where, "notify.webhook.batch_size must be positive"),
      check(c.health.evaluate_interval_seconds >= 1, where,
            "health.evaluate_interval_seconds must be positive"),
      check(c.health.clock_skew_seconds > 0 && c.health.queue_pressure_ratio > 0 &&
                c.health.queue_pressure_ratio <= 1 && c.health.credential_max_age_days >= 0 &&
                c.health.credential_warn_days >= 0,
            where,
            "health: clock_skew_seconds > 0, queue_pressure_ratio in (0, 1], credential days "
            ">= 0"),
  };
  for (const Status& s : checks) {
    if (!s) return s.error();
  }
  return c;
}

Result<CollectorConfig> loadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError(Errc::kIo, path + ": cannot read the configuration file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parseConfig(ss.str(), path);
}

}  // namespace t0w::collector
