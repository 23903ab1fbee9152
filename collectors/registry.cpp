#include "collectors/registry.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "agent/rules/logsource_map.h"
#include "collectors/eventlog/evt_subscription_collector.h"
#include "collectors/eventlog/xml_file_collector.h"
#include "collectors/evtx/evtx_file_collector.h"
#include "collectors/tracefile/file_system.h"
#include "collectors/tracefile/trace_glob.h"
#include "collectors/tracefile/trace_tail.h"

namespace t0w {
namespace {

const Clock& clockOf(const SourceContext& context) {
  static const SystemClock system_clock;
  return context.clock != nullptr ? *context.clock : system_clock;
}

// A replay file or folder on the status board: absent when it does not exist (the heartbeat
// carries it to the collector as source_absent).
Status reportReplay(const SourceConfig& source, const SourceContext& context) {
  const std::string name = source.path.string();
  if (context.board != nullptr) {
    context.board->add(name, source.type == SourceType::kXml ? "xml" : "evtx");
  }
  std::error_code ec;
  if (!std::filesystem::exists(source.path, ec)) {
    const std::string why = ec ? ec.message() : "no such file or directory";
    if (context.board != nullptr) context.board->setState(name, SourceState::kAbsent, why);
    return makeError(Errc::kNotFound, name + ": does not exist (" + why + ")");
  }
  if (context.board != nullptr) context.board->setState(name, SourceState::kSubscribed);
  return {};
}

std::function<void()> replayFinished(const SourceConfig& source, const SourceContext& context) {
  if (context.board == nullptr) return {};
  SourceStatusBoard* board = context.board;
  return [board, name = source.path.string()] { board->setState(name, SourceState::kStopped); };
}

SourceStream xmlStream(const std::filesystem::path& file) {
  SourceStream s;
  s.name = file.string();
  s.position_prefix = "offset:";
  s.open = [file](const std::string&, CheckpointCallback) -> Result<OpenedCollector> {
    OpenedCollector o;
    o.collector = std::make_unique<XmlFileCollector>(file);
    return o;
  };
  return s;
}

SourceStream evtxStream(const std::filesystem::path& file, bool include_recovered) {
  SourceStream s;
  s.name = file.string();
  s.position_prefix = "record:";
  s.open = [file, include_recovered](const std::string&,
                                     CheckpointCallback) -> Result<OpenedCollector> {
    EvtxReadOptions options;
    options.include_recovered = include_recovered;
    OpenedCollector o;
    o.collector = std::make_unique<EvtxFileCollector>(file, options);
    return o;
  };
  return s;
}

// An EVTX replay source: one file, or every *.evtx of a folder in name order.
Result<SourcePlan> planEvtx(const SourceConfig& source, const SourceContext& context) {
  SourcePlan plan;
  plan.finished = replayFinished(source, context);
  std::error_code ec;
  if (std::filesystem::is_regular_file(source.path, ec)) {
    plan.streams.push_back(evtxStream(source.path, context.include_recovered));
    return plan;
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(source.path, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".evtx") {
      files.push_back(entry.path());
    }
  }
  if (ec) {
    return makeError(Errc::kIo, source.path.string() +
                                    ": cannot list the EVTX replay directory: " + ec.message());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) plan.streams.push_back(evtxStream(f, context.include_recovered));
  return plan;
}

Result<SourcePlan> planEventlog(const SourceConfig& source, const SourceContext& context) {
  const std::string name = sourceName(source);
  if (!context.evt_api) {
    if (context.board != nullptr) {
      context.board->add(source.channel, "eventlog");
      context.board->setState(source.channel, SourceState::kFailing,
                              "the Windows Event Log API is not available");
    }
    return makeError(Errc::kUnsupported,
                     name + ": the Windows Event Log API is not available on this platform");
  }
  SourceStream s;
  s.name = name;
  s.resumption = Resumption::kHandedOver;
  s.open = [source, context, name](const std::string& bookmark,
                                   CheckpointCallback on_checkpoint) -> Result<OpenedCollector> {
    std::shared_ptr<EvtApi> api = context.evt_api();
    if (!api) return makeError(Errc::kIo, name + ": could not load the Windows Event Log API");
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
    o.board = context.board;
    o.board_name = source.channel;
    o.probe_interval = context.eventlog_probe;
    o.batch_size = context.eventlog_batch;
    o.wait = context.eventlog_wait;
    o.retry_interval = context.eventlog_retry;
    o.on_checkpoint = std::move(on_checkpoint);
    auto collector =
        std::make_unique<EvtSubscriptionCollector>(*api, clockOf(context), std::move(o));
    const EvtSubscriptionCollector* c = collector.get();
    OpenedCollector opened;
    opened.resources = api;
    opened.collector = std::move(collector);
    opened.starting =
        "subscribing (query " + source.query + ", " +
        (bookmark.empty() ? "first start: live from now, backfill " + backfillName(backfill)
                          : std::string("after the stored bookmark")) +
        ")";
    opened.details = [c] {
      const EvtSubscriptionStats& st = c->stats();
      return std::to_string(st.backfill_events) + " from history, " + std::to_string(st.gaps) +
             " gaps, " + std::to_string(st.subscribe_attempts) +
             " subscribe attempts, EvtNext batch " + std::to_string(st.batch_size);
    };
    return opened;
  };
  SourcePlan plan;
  plan.streams.push_back(std::move(s));
  return plan;
}

Result<SourcePlan> planTracefile(const SourceConfig& source, const SourceContext& context) {
  SourceStream s;
  s.name = sourceName(source);
  s.resumption = Resumption::kHandedOver;
  s.open = [source, context](const std::string& checkpoint,
                             CheckpointCallback on_checkpoint) -> Result<OpenedCollector> {
    std::shared_ptr<TraceFileSystem> fs = nativeTraceFileSystem();
    TraceTailOptions o;
    o.name = source.path.string();
    o.pattern = expandEnvironment(o.name, processEnvironment());
    o.provider = std::string(kAadConnectTraceProvider);
    o.computer = context.computer;
    o.poll = context.tracefile_poll;
    o.entry_idle = context.tracefile_entry_idle;
    o.batch_entries = std::max<size_t>(1, context.batch_events / 2);
    o.checkpoint = checkpoint;
    o.on_checkpoint = std::move(on_checkpoint);
    o.board = context.board;
    const std::string pattern = o.pattern;
    auto collector = std::make_unique<TraceTailCollector>(*fs, clockOf(context), std::move(o));
    const TraceTailCollector* c = collector.get();
    OpenedCollector opened;
    opened.resources = fs;
    opened.collector = std::move(collector);
    opened.starting = "following " + pattern + " (" +
                      (checkpoint.empty() ? "first start: existing files from their start"
                                          : "resuming at the stored positions") +
                      ")";
    opened.details = [c] {
      const TraceTailStats& st = c->stats();
      return std::to_string(st.lines) + " lines, " + std::to_string(st.files_opened) +
             " files opened, " + std::to_string(st.truncations) + " truncated, " +
             std::to_string(st.replaced) + " replaced, " + std::to_string(st.gone) + " gone";
    };
    return opened;
  };
  SourcePlan plan;
  plan.streams.push_back(std::move(s));
  return plan;
}

}  // namespace

std::string sourceName(const SourceConfig& source) {
  switch (source.type) {
    case SourceType::kEventlog:
      return "eventlog:" + source.channel;
    case SourceType::kTracefile:
      return "tracefile:" + source.path.string();
    case SourceType::kXml:
    case SourceType::kEvtxReplay:
      break;
  }
  return source.path.string();
}

SourceTraits sourceTraits(SourceType type) {
  constexpr const char* kSharedCheckpoint =
      "the same path is configured twice (they would share a checkpoint)";
  SourceTraits t;
  switch (type) {
    case SourceType::kXml:
    case SourceType::kEvtxReplay:
      t.ends = true;
      t.twice = kSharedCheckpoint;
      break;
    case SourceType::kEventlog:
      t.windows_only = true;
      t.case_insensitive = true;
      t.windows_only_reason = "Windows event log subscriptions run on Windows only";
      t.twice =
          "the channel is subscribed to twice (one subscription per channel; combine the "
          "queries with XPath 'or')";
      break;
    case SourceType::kTracefile:
      t.twice = kSharedCheckpoint;
      break;
  }
  return t;
}

std::string configuredName(const SourceConfig& source) {
  return source.type == SourceType::kEventlog ? source.channel : source.path.string();
}

// The list of source types.
Result<SourcePlan> planSource(const SourceConfig& source, const SourceContext& context) {
  switch (source.type) {
    case SourceType::kXml: {
      if (Status s = reportReplay(source, context); !s) return s.error();
      SourcePlan plan;
      plan.streams.push_back(xmlStream(source.path));
      plan.finished = replayFinished(source, context);
      return plan;
    }
    case SourceType::kEvtxReplay:
      if (Status s = reportReplay(source, context); !s) return s.error();
      return planEvtx(source, context);
    case SourceType::kEventlog:
      return planEventlog(source, context);
    case SourceType::kTracefile:
      return planTracefile(source, context);
  }
  return makeError(Errc::kInvalidArgument, "unknown source type");
}

}  // namespace t0w
