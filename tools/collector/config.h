// CollectorConfig: `tier0watch-collector serve --config FILE`. The file is YAML overlaid on the
// embedded defaults (defaultConfigYaml()); a key the defaults do not have is an error, so typos
// never pass silently.
#pragma once

#include <cstdint>
#include <string>

#include "common/core/result.h"

namespace t0w::collector {

struct SplunkOutputConfig {
  bool enabled = false;
  std::string url;  // https://splunk:8088 (the path /services/collector/event is appended)
  std::string token;
  std::string ca_file;
  std::string sourcetype = "tier0watch";
  int batch_size = 100;
};

struct SyslogOutputConfig {
  bool enabled = false;
  std::string host;
  int port = 6514;
  std::string ca_file;
  std::string app_name = "tier0watch";
  int batch_size = 100;
};

// notify.webhook (notifier.h): health issues and new alerts, signed JSON POSTs.
struct WebhookOutputConfig {
  bool enabled = false;
  std::string url;     // https://host[:port]/path
  std::string secret;  // HMAC-SHA256 key; never logged
  std::string ca_file;
  int batch_size = 20;
};

// health (health.h): how often issues are evaluated and the thresholds of the checks.
struct HealthConfig {
  int evaluate_interval_seconds = 30;
  double clock_skew_seconds = 120;
  std::string minimum_agent_version;  // empty: the newest version in the fleet
  int credential_max_age_days = 365;  // 0: credentials do not age
  int credential_warn_days = 30;
  double queue_pressure_ratio = 0.8;
  double time_to_wrap_warn_seconds = 86400;
};

struct CollectorConfig {
  std::string listen_address = "127.0.0.1";
  int listen_port = 8443;
  std::string state_dir = "/var/lib/tier0watch-collector";
  int threads = 4;         // network threads: TLS and HTTP only
  int worker_threads = 4;  // request handlers: decoding, storage, PBKDF2, search
  // TLS: empty cert_file means a self-signed certificate generated into state_dir.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;  // set: agents must present a certificate from this CA
  // Storage.
  std::string storage_driver = "sqlite";
  std::string sqlite_path;  // default state_dir/collector.db
  std::string postgres_url;
  std::string sqlite_synchronous = "full";  // full: an acknowledged batch survives power loss
  // Search (q) through a trigram index: FTS5 on SQLite, pg_trgm GIN on PostgreSQL; created at
  // start when on, dropped when off (docs/performance.md: its cost at ingest).
  bool search_index = false;
  // Limits.
  int64_t max_body_bytes = 16 << 20;
  int64_t max_decompressed_bytes = 128 << 20;
  int64_t max_records_per_batch = 20000;
  int64_t max_header_bytes = 16 << 10;
  int64_t max_api_body_bytes = 64 << 10;
  int64_t max_json_depth = 64;
  int64_t max_json_values = 4'000'000;
  int idle_timeout_seconds = 30;
  int request_timeout_seconds = 60;
  int handshake_timeout_seconds = 10;
  int max_connections = 512;
  int max_connections_per_ip = 64;
  double agent_requests_per_second = 20;
  double agent_burst = 40;
  // Retention.
  int retention_max_age_days = 30;            // 0: keep forever
  int64_t retention_max_bytes = 0;            // 0: no size limit
  int64_t retention_max_bytes_per_agent = 0;  // 0: no per-agent quota
  int retention_interval_seconds = 600;
  // Dashboard.
  int silent_after_seconds = 600;
  int session_hours = 12;
  // Logging.
  std::string log_level = "info";
  // SIEM outputs.
  // How long an instance holds the forward-queue rows it is sending (Storage::claimForwards).
  int forward_claim_seconds = 120;
  SplunkOutputConfig splunk;
  SyslogOutputConfig syslog;
  WebhookOutputConfig webhook;
  HealthConfig health;

  std::string sqliteFile() const {
    return sqlite_path.empty() ? state_dir + "/collector.db" : sqlite_path;
  }
  std::string storageTarget() const {
    return storage_driver == "postgres" ? postgres_url : sqliteFile();
  }
};

const std::string& defaultConfigYaml();

// Parses `yaml` over the defaults and validates it; `where` names the source in errors.
Result<CollectorConfig> parseConfig(const std::string& yaml, const std::string& where);
Result<CollectorConfig> loadConfigFile(const std::string& path);

}  // namespace t0w::collector
