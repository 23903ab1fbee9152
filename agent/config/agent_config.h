// AgentConfig: the typed configuration of `tier0watch run` (schemas/config.schema.json). The
// member initializers are the defaults; config_test checks that they agree with the schema's.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/core/result.h"

namespace t0w {

enum class SourceType { kEvtxReplay, kXml, kTracefile, kEventlog };
// "evtx_replay" | "xml" | "tracefile" | "eventlog"
const char* sourceTypeName(SourceType type);

// eventlog: where a subscription starts. The stored bookmark always wins; kOldest/kFuture only
// say where the FIRST start (no bookmark yet) begins.
enum class EventlogStart {
  kAfterBookmark,  // default: after the stored bookmark, else the oldest record
  kOldest,         // same as kAfterBookmark (spelled out for readability of configurations)
  kFuture,         // no bookmark yet: only events written from now on
};
const char* eventlogStartName(EventlogStart start);  // "after_bookmark" | "oldest" | "future"

// eventlog: how much history the FIRST start reads (oldest first, at a bounded CPU share), beside
// live reading. "none", "all", or a window "<n>s|m|h|d" (default the last 24 hours).
struct BackfillSetting {
  enum class Kind { kNone, kAll, kWindow };
  Kind kind = Kind::kWindow;
  int64_t seconds = 24 * 3600;
  bool operator==(const BackfillSetting&) const = default;
};
Result<BackfillSetting> parseBackfill(std::string_view text);
std::string backfillName(const BackfillSetting& backfill);  // "none", "all", "86400s"

struct SourceConfig {
  SourceType type = SourceType::kXml;
  // evtx_replay, xml; tracefile: a glob ('*', '?' in any component; %VAR% expanded at start).
  std::filesystem::path path;
  // eventlog (Windows only: EvtSubscribe on the local machine).
  std::string channel;
  std::string query = "*";  // XPath 1.0 filter
  EventlogStart start = EventlogStart::kAfterBookmark;
  // Unset: start future → none, start oldest → all, otherwise windows.backfill.
  std::optional<BackfillSetting> backfill;
  double backfill_cpu_share = 0.1;  // of one core (windows.backfill_cpu_percent)
  bool format_messages = false;     // EvtFormatMessage: the Entra channels only
};

// A Windows event log channel to subscribe to (EvtSubscribe) and its XPath filter.
struct ChannelSubscription {
  std::string channel;
  std::string query = "*";
  bool format_messages = false;  // their detections read the message text
  bool operator==(const ChannelSubscription&) const = default;
};

// The XPath filters of the built-in channels that would be too busy unfiltered.
// Application: Entra Connect's sources (sync engine, upgrade under its old and new name, admin
// audit) and ESENT 325-327 (ntds.dit copies); PowerShell: script blocks; System: service
// installs (Service Control Manager 7045) and log clears (Eventlog 104).
extern const char* const kEntraConnectApplicationQuery;
extern const char* const kPowerShellScriptBlockQuery;
extern const char* const kSystemServiceAndClearQuery;

struct MetricsListen {
  std::string host;  // a loopback address: 127.x.x.x or ::1
  uint16_t port = 0;
};

struct AgentConfig {
  std::filesystem::path config_file;  // where it was loaded from (empty for text)

  // agent
  std::string agent_id;  // empty: generated once, stored in <state_dir>/agent-id
  std::filesystem::path state_dir = "state";
  std::string log_level = "info";
  int64_t shutdown_deadline_ms = 10'000;
  // Heartbeat (agent_status record) period, also when idle.
  int64_t status_interval_ms = 60'000;
  // Self-protection ceilings (agent/metrics/load_governor.h): CPU of one core, sustained over a
  // minute, and resident memory. Over them backfill and rule evaluation slow down.
  double max_cpu_percent = 5.0;
  int64_t max_memory_mb = 200;

  // collector
  std::string url;
  std::string token;  // secret: never logged (describe() redacts it)
  std::filesystem::path token_file;
  std::filesystem::path ca_bundle;
  std::filesystem::path client_cert;
  std::filesystem::path client_key;
  bool allow_insecure = false;
  std::string proxy;  // may hold credentials: never logged
  int64_t request_timeout_ms = 30'000;
  // Windows: client certificate from LocalMachine\My for mutual TLS, as
  // "thumbprint:<hex>" | "subject:<text>" | "template:<name or OID>"; empty = none.
  std::string client_certificate;

  // batch
  int64_t batch_max_events = 5000;
  int64_t batch_max_bytes = 8 << 20;
  int64_t batch_max_delay_ms = 1000;

  // retry
  int64_t retry_budget = 0;  // 0: never dead-letter for retryable statuses
  int64_t backoff_base_ms = 1000;
  int64_t backoff_cap_ms = 300'000;
  int64_t auth_pause_ms = 600'000;

  // queue
  int64_t queue_max_bytes = int64_t{1} << 30;
  std::string queue_overflow = "drop_oldest";  // drop_oldest | pause_sources
  std::string queue_synchronous = "normal";    // normal | full
  int64_t queue_chunk_records = 1000;

  std::vector<SourceConfig> sources;

  // rules
  std::vector<std::filesystem::path> rule_paths;
  // Where packs are looked for first; empty: only the built-in locations (rule_pack.h).
  std::filesystem::path rule_pack_dir;
  // Packs switched on or off by the file or Group Policy; kDefaultRulePacks are on unless set off.
  std::map<std::string, bool> rule_packs;
  // Sigma placeholder values (%name% with |expand); a name set here replaces the pack's default.
  std::map<std::string, std::vector<std::string>> rule_placeholders;
  // Rules below this Sigma level raise no alert of their own (RuleSet::setMinimumAlertLevel).
  std::string rule_min_alert_level = "low";

  // windows: the built-in channels of a Tier 0 server (one switch each) and extra channels.
  // All on: a channel that does not exist on this server is reported once as configured, absent.
  bool security_channel = true;
  bool pta_agent_admin = true;                  // Pass-through Authentication agent
  bool private_network_connector_admin = true;  // both names of the connector's Admin log
  bool password_protection_admin = true;        // Entra Password Protection DC agent
  bool password_protection_operational = true;
  bool entra_connect_application = true;  // Application, Entra Connect sources (filtered)
  bool powershell_script_block = true;    // PowerShell/Operational 4104
  bool system_service_and_clear = true;   // System 7045 and 104
  BackfillSetting backfill;               // first start of each channel
  int64_t backfill_cpu_percent = 10;      // of one core, per channel's backfill
  bool entra_connect_trace = true;        // Entra Connect trace-*.log files (tracefile source)
  std::vector<ChannelSubscription> extra_channels;

  // metrics
  std::optional<MetricsListen> metrics_listen;
  int64_t metrics_log_interval_ms = 60'000;

  std::filesystem::path queuePath() const { return state_dir / "queue.db"; }
  // The packs to load, by name: kDefaultRulePacks unless switched off, plus every pack switched on.
  std::vector<std::string> enabledRulePacks() const;
  // True when the pack is on only because it is a default (nobody configured it).
  bool isDefaultRulePack(const std::string& name) const;
  // The channels to subscribe to: the enabled built-in ones, then extra_channels.
  std::vector<ChannelSubscription> channelSubscriptions() const;
  // One line per setting for the start-up log; secrets are redacted.
  std::string describe() const;
};

// windows.entra_connect_trace: where the Entra Connect wizard writes trace-YYYYMMDD-HHMMSS.log,
// and where old builds wrote it (the installing user's %LOCALAPPDATA%).
inline constexpr const char* kEntraConnectTraceGlobs[] = {
    "%ProgramData%\\AADConnect\\trace-*.log",
    "%SystemDrive%\\Users\\*\\AppData\\Local\\AADConnect\\trace-*.log",
};

// The built-in detection content, on unless rules.packs switches it off.
inline const std::vector<std::string> kDefaultRulePacks = {"tier0"};

// The embedded schemas/config.schema.json.
const char* configSchemaText();

// Parses, validates (unknown keys, types, ranges: errors name the key and file:line), applies
// defaults and resolves relative paths against `base_dir`.
Result<AgentConfig> parseConfig(std::string_view yaml, const std::string& name,
                                const std::filesystem::path& base_dir);
// Reads a file; relative paths in it resolve against its directory.
Result<AgentConfig> loadConfigFile(const std::filesystem::path& file);

// "127.0.0.1:9464", "[::1]:9464", "localhost:9464"; anything but loopback is refused.
Result<MetricsListen> parseMetricsListen(std::string_view text);

// The configured id, or the one stored in <state_dir>/agent-id, or a new random one written
// there (so the id survives restarts). Creates the state directory.
Result<std::string> resolveAgentId(const AgentConfig& config);
// The token, read from token_file when set (first line, trailing whitespace removed).
Result<std::string> resolveToken(const AgentConfig& config);

}  // namespace t0w
