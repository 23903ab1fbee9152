#include "agent/pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>

#include "agent/core/event_json.h"
#include "agent/rules/alert_json.h"
#include "agent/rules/logsource_map.h"
#include "agent/rules/value_matcher.h"
#include "collectors/eventlog/evt_subscription_collector.h"
#include "collectors/eventlog/xml_file_collector.h"
#include "collectors/evtx/evtx_file_collector.h"
#include "collectors/tracefile/trace_tail.h"
#include "common/core/time.h"
#include "common/text/ascii.h"

namespace t0w {
namespace {

constexpr std::string_view kComplete = "complete";

struct Resume {
  bool complete = false;
  std::optional<uint64_t> last_stored;  // position of the last stored record
};

// "complete", "record:<n>" (EVTX), "offset:<n>" (XML); anything else starts from the beginning
// with a warning (a checkpoint from a future version must not make us skip records).
Resume parseResume(const std::optional<std::string>& position, const std::string& source) {
  Resume r;
  if (!position || position->empty()) return r;
  if (*position == kComplete) {
    r.complete = true;
    return r;
  }
  const size_t colon = position->find(':');
  uint64_t n = 0;
  if (colon != std::string::npos) {
    const char* b = position->data() + colon + 1;
    const char* e = position->data() + position->size();
    auto [ptr, ec] = std::from_chars(b, e, n);
    if (ec == std::errc() && ptr == e && b != e) {
      r.last_stored = n;
      return r;
    }
  }
  spdlog::warn(
      "{}: unreadable checkpoint \"{}\"; reading from the beginning (the collector "
      "deduplicates)",
      source, *position);
  return r;
}

// Channel names (Event Log service) and Windows paths are case-insensitive: compared through
// t0w::lowerAscii (common/text/ascii.h).

std::string eventlogSource(const std::string& channel) { return "eventlog:" + channel; }
std::string tracefileSource(const std::string& glob) { return "tracefile:" + glob; }

bool isGapEvent(const Event& e) {
  return e.system.provider_name == kGapProvider && e.system.event_id == kGapEventId &&
         e.system.channel.empty() && e.origin.source.starts_with("gap:");
}

bool isNoticeEvent(const Event& e) {
  return e.system.provider_name == kGapProvider && e.system.event_id == kNoticeEventId &&
         e.system.channel.empty() && e.origin.source.starts_with("notice:");
}

// A subscription's state change (configured/absent, disabled, service restart, wrap risk, ...):
// a status record only, stored at once with the checkpoint as it was.
QueueRecord noticeStatus(const Event& notice) {
  nlohmann::ordered_json body;
  const std::string* type = notice.find("Type");
  body["type"] = type ? *type : std::string("eventlog_notice");
  if (const std::string* v = notice.find("Channel")) body["Channel"] = *v;
  if (const std::string* v = notice.find("Message")) body["message"] = *v;
  QueueRecord r;
  r.kind = RecordKind::kStatus;
  r.key = "status|" + notice.origin.source + "|" + body["type"].get<std::string>() + "|" +
          std::to_string(notice.origin.position);
  r.time = notice.system.time_created;
  r.body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return r;
}

// The status record that makes the collector count the gap in the agent's health.
QueueRecord gapStatus(const Event& gap, const std::string& event_key) {
  nlohmann::ordered_json body;
  body["type"] = "eventlog_gap";
  for (const char* field :
       {"Channel", "Reason", "FirstMissingRecordId", "LastMissingRecordId", "MissingCount",
        "BookmarkRecordId", "OldestRecordId", "ResumedAt", "Detail"}) {
    if (const std::string* v = gap.find(field)) body[field] = *v;
  }
  body["event_key"] = event_key;
  const std::string* channel = gap.find("Channel");
  const std::string* missing = gap.find("MissingCount");
  body["message"] = "event log gap on " + (channel ? *channel : std::string("?")) + ": " +
                    (missing ? *missing + " records missing" : std::string("records missing")) +
                    (gap.find("Detail") ? " (" + *gap.find("Detail") + ")" : std::string());
  QueueRecord r;
  r.kind = RecordKind::kStatus;
  r.key = "status|" + event_key;
  r.time = gap.system.time_created;
  r.body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return r;
}

}  // namespace

std::vector<SourceConfig> agentSources(const AgentConfig& config, HostPlatform platform) {
  std::vector<SourceConfig> out = config.sources;
  if (platform != HostPlatform::kWindows) return out;
  std::vector<std::string> listed;
  for (const auto& s : out) {
    if (s.type == SourceType::kEventlog) listed.push_back(lowerAscii(s.channel));
  }
  for (const ChannelSubscription& sub : config.channelSubscriptions()) {
    const std::string key = lowerAscii(sub.channel);
    if (std::find(listed.begin(), listed.end(), key) != listed.end()) continue;
    listed.push_back(key);
    SourceConfig s;
    s.type = SourceType::kEventlog;
    s.channel = sub.channel;
    s.query = sub.query;
    s.format_messages = sub.format_messages;
    out.push_back(std::move(s));
  }
  // Backfill: the source's own setting, else its `start`, else windows.backfill.
  for (SourceConfig& s : out) {
    if (s.type != SourceType::kEventlog) continue;
    s.backfill_cpu_share = static_cast<double>(config.backfill_cpu_percent) / 100.0;
    if (s.backfill) continue;
    BackfillSetting b = config.backfill;
    if (s.start == EventlogStart::kFuture) b.kind = BackfillSetting::Kind::kNone;
    if (s.start == EventlogStart::kOldest) b.kind = BackfillSetting::Kind::kAll;
    s.backfill = b;
  }
  if (config.entra_connect_trace) {
    for (const char* glob : kEntraConnectTraceGlobs) {
      const bool listed_already = std::any_of(out.begin(), out.end(), [&](const SourceConfig& s) {
        return s.type == SourceType::kTracefile &&
               lowerAscii(s.path.string()) == lowerAscii(std::string(glob));
      });
      if (listed_already) continue;
      SourceConfig s;
      s.type = SourceType::kTracefile;
      s.path = glob;
      out.push_back(std::move(s));
    }
  }
  return out;
}

Status checkSources(const std::vector<SourceConfig>& sources, HostPlatform platform) {
  std::vector<std::string> channels;
  std::vector<std::string> globs;
  for (size_t i = 0; i < sources.size(); ++i) {
    const SourceConfig& s = sources[i];
    if (s.type == SourceType::kTracefile) {
      const std::string glob = s.path.string();
      if (std::find(globs.begin(), globs.end(), glob) != globs.end()) {
        return makeError(Errc::kInvalidArgument,
                         "sources[" + std::to_string(i) + "] tracefile \"" + glob +
                             "\": the same path is configured twice (they would share a "
                             "checkpoint)");
      }
      globs.push_back(glob);
      continue;
    }
    if (s.type != SourceType::kEventlog) continue;
    const std::string where = "sources[" + std::to_string(i) + "] eventlog \"" + s.channel + "\"";
    if (platform != HostPlatform::kWindows) {
      return makeError(Errc::kUnsupported,
                       where + ": Windows event log subscriptions run on Windows only; on " +
                           hostPlatformName(platform) +
                           " replay exported logs with an evtx_replay or xml source");
    }
    const std::string key = lowerAscii(s.channel);
    if (std::find(channels.begin(), channels.end(), key) != channels.end()) {
      return makeError(Errc::kInvalidArgument,
                       where +
                           ": the channel is subscribed to twice (one subscription per "
                           "channel; combine the queries with XPath 'or')");
    }
    channels.push_back(key);
  }
  return {};
}

namespace {

class AlertBuffer final : public AlertSink {
 public:
  std::vector<Alert> alerts;
  void onAlert(Alert&& alert) override { alerts.push_back(std::move(alert)); }
};

}  // namespace

std::string Pipeline::eventRecordKey(const Event& event) {
  if (!event.system.channel.empty() && event.system.record_id != 0) {
    return event.system.channel + "|" + std::to_string(event.system.record_id);
  }
  if (!event.origin.file_id.empty()) {
    return "tracefile:" + event.origin.file_id + "|" + std::to_string(event.origin.position);
  }
  return event.origin.source + "|" + std::to_string(event.origin.position);
}

// Receives a collector's events on its thread, skips what a previous run stored, and stores
// batches with their checkpoint.
class Pipeline::SourceSink final : public EventSink {
 public:
  SourceSink(Pipeline& pipeline, std::string source, const char* position_prefix, Resume resume,
             SourceMetrics& metrics)
      : p_(pipeline),
        source_(std::move(source)),
        prefix_(position_prefix),
        resume_(resume),
        metrics_(metrics) {}

  // A subscription: the checkpoint is the bookmark, starting with the stored one.
  SourceSink(Pipeline& pipeline, std::string source, std::string stored_bookmark,
             SourceMetrics& metrics)
      : p_(pipeline),
        source_(std::move(source)),
        prefix_(""),
        metrics_(metrics),
        bookmark_(std::move(stored_bookmark)) {}

  // The collector's bookmark after a delivered batch: store the batch with it.
  void bookmarkReached(const std::string& xml) {
    bookmark_ = xml;
    flush(false, true);
  }

  void onEvent(Event&& event) override {
    if (stopped_) return;
    if (bookmark_ && isNoticeEvent(event)) {
      const std::string* m = event.find("Message");
      spdlog::info("{}", m ? *m : source_);
      QueueRecord status = noticeStatus(event);
      bytes_ += status.body.size();
      records_.push_back(std::move(status));
      flush(false);
      return;
    }
    const uint64_t position = event.origin.position;
    if (resume_.last_stored && position <= *resume_.last_stored) {
      ++metrics_.skipped_resume;
      return;
    }
    ++metrics_.events_in;
    last_position_ = position;
    if (event.system.time_created) {
      const std::chrono::system_clock::time_point t{
          std::chrono::microseconds(filetimeToUnixMicros(*event.system.time_created))};
      if (!newest_ || t > *newest_) newest_ = t;
    }
    QueueRecord record;
    record.kind = RecordKind::kEvent;
    record.key = eventRecordKey(event);
    record.time = event.system.time_created;
    record.body = eventToJsonLine(event);
    bytes_ += record.body.size() + record.key.size();
    if (p_.rules_ != nullptr) {
      AlertBuffer alerts;
      {
        std::lock_guard lock(p_.rules_mu_);
        p_.rules_->evaluate(
            event, [&] { return std::make_shared<const Event>(event); }, alerts);
      }
      for (Alert& a : alerts.alerts) addAlert(a, record.key);
    }
    const bool gap = bookmark_ && isGapEvent(event);
    if (gap) {
      ++p_.gaps_;
      spdlog::warn("{}: gap: {}", source_, event.find("Detail") ? *event.find("Detail") : "");
      QueueRecord status = gapStatus(event, record.key);
      bytes_ += status.body.size();
      records_.push_back(std::move(record));
      records_.push_back(std::move(status));
    } else {
      records_.push_back(std::move(record));
    }
    // A gap is stored at once (with the checkpoint as it was): no batch may follow soon.
    if (++events_ >= p_.options_.batch_events || bytes_ >= p_.options_.batch_bytes || gap) {
      flush(false);
    }
  }

  void onError(const InputError& error) override {
    ++metrics_.input_errors;
    spdlog::warn("{}", error.error.message);
  }

  // Stores what is buffered; `complete` marks the file as read to its end. A subscription's
  // checkpoint is the last bookmark it handed over (`advanced`: a new one, stored even without
  // records, e.g. after a batch whose events could not be rendered).
  void flush(bool complete, bool advanced = false) {
    if (stopped_) return;
    if (records_.empty() && !complete && !advanced) return;
    Checkpoint cp{source_, bookmark_  ? *bookmark_
                           : complete ? std::string(kComplete)
                                      : std::string(prefix_) + std::to_string(last_position_)};
    const uint64_t events = events_;
    if (!p_.store(std::move(records_), cp, &metrics_)) {
      stopped_ = true;  // stop() during a pause: nothing stored, the next run resumes here
      return;
    }
    metrics_.enqueued += events;
    // File sources (a subscription's position is its bookmark XML: its collector reports it).
    if (p_.options_.status_board != nullptr && events > 0 && !bookmark_) {
      p_.options_.status_board->progress(source_, events, cp.position, newest_);
    }
    records_.clear();
    events_ = 0;
    bytes_ = 0;
  }

  bool stopped() const { return stopped_; }

 private:
  void addAlert(Alert& alert, const std::string& event_key) {
    ++p_.metrics_.alerts;
    QueueRecord r;
    r.kind = RecordKind::kAlert;
    r.key = "alert|" + alert.rule_id + "|" + event_key;
    r.time = alert.time;
    r.body = alertToJsonLine(alert);
    bytes_ += r.body.size();
    records_.push_back(std::move(r));
  }

  Pipeline& p_;
  std::string source_;
  const char* prefix_;
  Resume resume_;
  SourceMetrics& metrics_;
  std::vector<QueueRecord> records_;
  size_t events_ = 0;
  size_t bytes_ = 0;
  uint64_t last_position_ = 0;
  bool stopped_ = false;
  std::optional<std::string> bookmark_;                          // set for subscriptions
  std::optional<std::chrono::system_clock::time_point> newest_;  // newest event time read
};

Pipeline::Pipeline(std::vector<SourceConfig> sources, EventQueue& queue, RuleSet* rules,
                   AgentMetrics& metrics, EnqueueListener listener, PipelineOptions options)
    : sources_(std::move(sources)),
      queue_(queue),
      rules_(rules),
      metrics_(metrics),
      listener_(std::move(listener)),
      options_(options) {}

Pipeline::~Pipeline() {
  stop();
  join();
}

void Pipeline::start() {
  running_ = static_cast<int>(sources_.size());
  for (const SourceConfig& s : sources_) {
    threads_.emplace_back([this, &s] {
      runSource(s);
      --running_;
    });
  }
}

void Pipeline::stop() {
  {
    std::lock_guard lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  std::lock_guard lock(collectors_mu_);
  for (Collector* c : active_) c->stop();
}

void Pipeline::join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void Pipeline::runSource(const SourceConfig& source) {
  // Replay files only: eventlog and tracefile sources report their own state (a tracefile
  // path is a glob, absent until a file matches it).
  const bool replay = source.type == SourceType::kXml || source.type == SourceType::kEvtxReplay;
  if (replay && !reportFileSource(source)) return;
  if (source.type == SourceType::kXml) {
    runFile(source.path, false);
    if (options_.status_board)
      options_.status_board->setState(source.path.string(), SourceState::kStopped);
    return;
  }
  if (source.type == SourceType::kEventlog) {
    runSubscription(source);
    return;
  }
  if (source.type == SourceType::kTracefile) {
    runTracefile(source);
    return;
  }
  // EVTX replay: every *.evtx of the directory, in name order, each file its own checkpoint.
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(source.path, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".evtx") {
      files.push_back(entry.path());
    }
  }
  if (ec) {
    spdlog::error("{}: cannot list the EVTX replay directory: {}", source.path.string(),
                  ec.message());
    ++metrics_.source(source.path.string()).input_errors;
    return;
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    if (stop_) return;
    runFile(f, true);
  }
  if (options_.status_board)
    options_.status_board->setState(source.path.string(), SourceState::kStopped);
}

// A replay file or folder on the status board: absent when it does not exist (the heartbeat
// carries it to the collector as source_absent); false then, and the source ends.
bool Pipeline::reportFileSource(const SourceConfig& source) {
  if (options_.status_board == nullptr) return true;
  const std::string name = source.path.string();
  options_.status_board->add(name, source.type == SourceType::kXml ? "xml" : "evtx");
  std::error_code ec;
  if (!std::filesystem::exists(source.path, ec)) {
    spdlog::error("{}: does not exist", name);
    ++metrics_.source(name).input_errors;
    options_.status_board->setState(name, SourceState::kAbsent,
                                    ec ? ec.message() : "no such file or directory");
    return false;
  }
  options_.status_board->setState(name, SourceState::kSubscribed);
  return true;
}

void Pipeline::runFile(const std::filesystem::path& file, bool evtx) {
  const std::string source = file.string();
  SourceMetrics& m = metrics_.source(source);
  auto position = queue_.checkpoint(source);
  if (!position) {
    spdlog::error("{}: cannot read its checkpoint: {}", source, position.error().toString());
    ++metrics_.enqueue_errors;
    return;
  }
  const Resume resume = parseResume(*position, source);
  if (resume.complete) {
    spdlog::info("{}: already read to its end", source);
    return;
  }
  std::unique_ptr<Collector> collector;
  if (evtx)
    collector = std::make_unique<EvtxFileCollector>(file);
  else
    collector = std::make_unique<XmlFileCollector>(file);
  if (!activate(collector.get())) return;
  if (resume.last_stored) {
    spdlog::info("{}: resuming after position {}", source, *resume.last_stored);
  }
  SourceSink sink(*this, source, evtx ? "record:" : "offset:", resume, m);
  const CollectorSummary summary = collector->run(sink);
  deactivate(collector.get());
  // Read to the end only when not stopped midway: a stopped file resumes at its checkpoint.
  const bool complete = !stop_;
  sink.flush(complete);
  spdlog::info("{}: {} ({} records read, {} errors)", source,
               complete && !sink.stopped() ? "read to its end" : "stopped", summary.records,
               summary.errors);
}

bool Pipeline::activate(Collector* collector) {
  std::lock_guard lock(collectors_mu_);
  if (stop_) return false;
  active_.push_back(collector);
  return true;
}

void Pipeline::deactivate(Collector* collector) {
  std::lock_guard lock(collectors_mu_);
  std::erase(active_, collector);
}

void Pipeline::runSubscription(const SourceConfig& source) {
  const std::string name = eventlogSource(source.channel);
  SourceMetrics& m = metrics_.source(name);
  if (!options_.evt_api) {
    spdlog::error("{}: the Windows Event Log API is not available on this platform", name);
    ++m.input_errors;
    if (options_.status_board != nullptr) {
      options_.status_board->add(source.channel, "eventlog");
      options_.status_board->setState(source.channel, SourceState::kFailing,
                                      "the Windows Event Log API is not available");
    }
    return;
  }
  auto stored = queue_.checkpoint(name);
  if (!stored) {
    spdlog::error("{}: cannot read its checkpoint: {}", name, stored.error().toString());
    ++metrics_.enqueue_errors;
    return;
  }
  const std::string bookmark = stored->value_or(std::string());
  std::unique_ptr<EvtApi> api = options_.evt_api();
  if (!api) {
    spdlog::error("{}: could not load the Windows Event Log API", name);
    ++m.input_errors;
    return;
  }
  SourceSink sink(*this, name, bookmark, m);
  EvtSubscriptionOptions o;
  o.channel = source.channel;
  o.query = source.query.empty() ? "*" : source.query;
  o.bookmark_xml = bookmark;
  const BackfillSetting backfill = source.backfill.value_or(
      source.start == EventlogStart::kFuture ? BackfillSetting{BackfillSetting::Kind::kNone, 0}
                                             : BackfillSetting{});
  o.backfill.kind = backfill.kind == BackfillSetting::Kind::kNone  ? EvtBackfill::Kind::kNone
                    : backfill.kind == BackfillSetting::Kind::kAll ? EvtBackfill::Kind::kAll
                                                                   : EvtBackfill::Kind::kWindow;
  o.backfill.window = std::chrono::seconds(backfill.seconds);
  o.backfill_cpu_share = source.backfill_cpu_share;
  o.format_messages = source.format_messages;
  o.board = options_.status_board;
  o.board_name = source.channel;
  o.probe_interval = options_.eventlog_probe;
  o.batch_size = options_.eventlog_batch;
  o.wait = options_.eventlog_wait;
  o.retry_interval = options_.eventlog_retry;
  o.on_checkpoint = [&sink](const std::string& xml) { sink.bookmarkReached(xml); };
  EvtSubscriptionCollector collector(
      *api, options_.clock != nullptr ? *options_.clock : system_clock_, std::move(o));
  if (!activate(&collector)) return;
  spdlog::info("{}: subscribing (query {}, {})", name, source.query,
               bookmark.empty() ? "first start: live from now, backfill " + backfillName(backfill)
                                : std::string("after the stored bookmark"));
  const CollectorSummary summary = collector.run(sink);
  deactivate(&collector);
  sink.flush(false);  // what the last batch left (a gap without a following batch)
  const EvtSubscriptionStats& st = collector.stats();
  spdlog::info(
      "{}: stopped ({} records, {} from history, {} errors, {} gaps, {} subscribe attempts, "
      "EvtNext batch {})",
      name, summary.records, st.backfill_events, summary.errors, st.gaps, st.subscribe_attempts,
      st.batch_size);
}

void Pipeline::runTracefile(const SourceConfig& source) {
  const std::string glob = source.path.string();
  const std::string name = tracefileSource(glob);
  SourceMetrics& m = metrics_.source(name);
  auto stored = queue_.checkpoint(name);
  if (!stored) {
    spdlog::error("{}: cannot read its checkpoint: {}", name, stored.error().toString());
    ++metrics_.enqueue_errors;
    return;
  }
  const std::string checkpoint = stored->value_or(std::string());
  SourceSink sink(*this, name, checkpoint, m);
  std::unique_ptr<TraceFileSystem> fs = nativeTraceFileSystem();
  TraceTailOptions o;
  o.name = glob;
  o.pattern = expandEnvironment(glob, processEnvironment());
  const std::string pattern = o.pattern;
  o.provider = std::string(kAadConnectTraceProvider);
  o.computer = options_.computer;
  o.poll = options_.tracefile_poll;
  o.entry_idle = options_.tracefile_entry_idle;
  // A checkpoint at least every half batch: the sink's own size flush (which keeps the previous
  // checkpoint) rarely comes first, so entries and their checkpoint share one transaction.
  o.batch_entries = std::max<size_t>(1, options_.batch_events / 2);
  o.checkpoint = checkpoint;
  o.on_checkpoint = [&sink](const std::string& cp) { sink.bookmarkReached(cp); };
  o.board = options_.status_board;
  TraceTailCollector collector(*fs, options_.clock != nullptr ? *options_.clock : system_clock_,
                               std::move(o));
  if (!activate(&collector)) return;
  spdlog::info("{}: following {} ({})", name, pattern,
               checkpoint.empty() ? "first start: existing files from their start"
                                  : "resuming at the stored positions");
  const CollectorSummary summary = collector.run(sink);
  deactivate(&collector);
  sink.flush(false);
  const TraceTailStats& st = collector.stats();
  spdlog::info(
      "{}: stopped ({} entries, {} lines, {} input errors, {} files opened, {} truncated, "
      "{} replaced, {} gone)",
      name, summary.records, st.lines, summary.errors, st.files_opened, st.truncations, st.replaced,
      st.gone);
}

bool Pipeline::store(std::vector<QueueRecord> records, const Checkpoint& checkpoint,
                     SourceMetrics* source) {
  for (;;) {
    auto result = queue_.enqueue(records, checkpoint);
    if (!result) {
      if (result.error().code == Errc::kLimit && records.size() > 1) {
        // Larger than the whole cap: store it in halves, the first half without advancing the
        // checkpoint past records not yet stored.
        std::vector<QueueRecord> second(
            std::make_move_iterator(records.begin() + records.size() / 2),
            std::make_move_iterator(records.end()));
        records.resize(records.size() / 2);
        auto previous = queue_.checkpoint(checkpoint.source);
        // No checkpoint yet: an empty position reads as "from the beginning", which is right.
        Checkpoint keep{checkpoint.source, previous && *previous ? **previous : std::string()};
        if (!store(std::move(records), keep, source)) return false;
        return store(std::move(second), checkpoint, source);
      }
      if (result.error().code == Errc::kLimit) {
        ++metrics_.dropped_too_large;
        spdlog::error("{}: record {} is larger than the whole queue; dropped", checkpoint.source,
                      records.empty() ? "" : records.front().key);
        records.clear();
        continue;  // store the checkpoint alone
      }
      ++metrics_.enqueue_errors;
      spdlog::error("{}: cannot store events: {}; retrying", checkpoint.source,
                    result.error().toString());
    } else if (result->stored()) {
      size_t bytes = 0;
      for (const auto& r : records) bytes += r.body.size();
      metrics_.enqueued_records += records.size();
      metrics_.dropped_queue_full += result->dropped_events;
      if (result->dropped_events > 0) {
        spdlog::warn("queue full: dropped the {} oldest events (reported to the collector)",
                     result->dropped_events);
      }
      if (listener_ && !records.empty()) listener_(records.size(), bytes);
      // Self-protection: over its CPU or memory ceiling the agent slows its sources' reading
      // and rule evaluation here, after each stored batch (nothing is dropped for it).
      if (source != nullptr && options_.load_throttle != nullptr) {
        const auto delay = options_.load_throttle->delayFor(LoadThrottle::Work::kRules);
        std::unique_lock lock(stop_mu_);
        if (delay.count() > 0) stop_cv_.wait_for(lock, delay, [&] { return stop_.load(); });
      }
      return true;
    } else if (source != nullptr) {
      ++source->pause_waits;  // kFull with pause_sources: wait for the shipper to make room
    }
    std::unique_lock lock(stop_mu_);
    if (stop_cv_.wait_for(lock, options_.full_retry, [&] { return stop_.load(); })) return false;
  }
}

}  // namespace t0w
