#include "agent/pipeline/pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "agent/pipeline/resume_gate.h"
#include "agent/rules/rule_stage.h"

namespace t0w {

Pipeline::Pipeline(std::vector<SourceConfig> sources, EventQueue& queue, RuleSet* rules,
                   AgentMetrics& metrics, EnqueueListener listener, PipelineOptions options)
    : sources_(std::move(sources)),
      rules_(rules),
      metrics_(metrics),
      options_(std::move(options)),
      writer_(queue, metrics, std::move(listener), stop_, options_.full_retry,
              options_.load_throttle) {
  options_.sources.batch_events = options_.batch.events;
}

Pipeline::~Pipeline() {
  stop();
  join();
}

void Pipeline::start() {
  running_ = static_cast<int>(sources_.size());
  left_ = static_cast<int>(sources_.size());
  for (const SourceConfig& s : sources_) {
    threads_.emplace_back([this, &s] {
      runSource(s);
      // The last source to end decides what only the end of input decides, before finished()
      // turns true (the agent may exit then).
      if (left_.fetch_sub(1) == 1) endOfInput();
      --running_;
    });
  }
}

// Replays only (streams never end): correlation windows still open are decided, as `scan` does
// at the end of its files, so `run` over the same files raises the same alerts.
void Pipeline::endOfInput() {
  if (rules_ == nullptr || stop_.stopped()) return;
  for (const SourceConfig& s : sources_) {
    if (!sourceTraits(s.type).ends) return;
  }
  SourceStream end;
  end.name = "rules:end-of-input";
  end.resumption = Resumption::kHandedOver;
  RecordBatcher batcher(writer_, end, "decided", options_.batch,
                        {metrics_.source(end.name), metrics_.alerts, gaps_}, nullptr);
  {
    std::lock_guard lock(rules_mu_);
    rules_->flush(batcher);
  }
  batcher.flush(false);
}

void Pipeline::stop() {
  stop_.stop();
  std::lock_guard lock(collectors_mu_);
  for (EventSource* c : active_) c->stop();
}

void Pipeline::join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void Pipeline::runSource(const SourceConfig& source) {
  auto plan = planSource(source, options_.sources);
  if (!plan) {
    spdlog::error("{}", plan.error().message);
    ++metrics_.source(sourceName(source)).input_errors;
    return;
  }
  for (const SourceStream& stream : plan->streams) {
    if (stop_.stopped()) return;
    runStream(stream);
  }
  if (plan->finished) plan->finished();
}

// One stream: its stored checkpoint, the stage chain, the collector, the final store.
void Pipeline::runStream(const SourceStream& stream) {
  const std::string& name = stream.name;
  SourceMetrics& m = metrics_.source(name);
  auto stored = writer_.checkpoint(name);
  if (!stored) {
    spdlog::error("{}: cannot read its checkpoint: {}", name, stored.error().toString());
    ++metrics_.enqueue_errors;
    return;
  }
  const bool handed_over = stream.resumption == Resumption::kHandedOver;
  Resume resume;
  if (!handed_over) {
    resume = parseResume(*stored, name);
    if (resume.complete) {
      spdlog::info("{}: already read to its end", name);
      return;
    }
  }
  const std::string checkpoint = handed_over ? stored->value_or(std::string()) : std::string();

  RecordBatcher batcher(writer_, stream, checkpoint, options_.batch, {m, metrics_.alerts, gaps_},
                        options_.sources.board);
  std::unique_ptr<RuleStage> rules;
  EventSink* after_gate = &batcher;
  if (rules_ != nullptr) {
    rules = std::make_unique<RuleStage>(*rules_, batcher, batcher, true, &rules_mu_,
                                        &metrics_.correlation);
    after_gate = rules.get();
  }
  ResumeGate gate(*after_gate, batcher, resume, handed_over, m);

  auto opened =
      stream.open(checkpoint, [&batcher](const std::string& cp) { batcher.checkpointReached(cp); });
  if (!opened) {
    spdlog::error("{}", opened.error().message);
    ++m.input_errors;
    return;
  }
  EventSource* collector = opened->collector.get();
  if (!activate(collector)) return;
  if (resume.last_stored) spdlog::info("{}: resuming after position {}", name, *resume.last_stored);
  if (!opened->starting.empty()) spdlog::info("{}: {}", name, opened->starting);
  const SourceSummary summary = collector->run(gate);
  deactivate(collector);
  // A replay file is read to its end only when not stopped midway: a stopped file resumes at its
  // checkpoint. A stream stores what its last batch left (a gap without a following batch).
  const bool complete = !handed_over && !stop_.stopped();
  batcher.flush(complete);
  spdlog::info("{}: {} ({} records read, {} errors{}{})", name,
               complete && !batcher.stopped() ? "read to its end" : "stopped", summary.records,
               summary.errors, opened->details ? ", " : "",
               opened->details ? opened->details() : std::string());
}

bool Pipeline::activate(EventSource* collector) {
  std::lock_guard lock(collectors_mu_);
  if (stop_.stopped()) return false;
  active_.push_back(collector);
  return true;
}

void Pipeline::deactivate(EventSource* collector) {
  std::lock_guard lock(collectors_mu_);
  std::erase(active_, collector);
}

}  // namespace t0w
