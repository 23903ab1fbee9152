#include "agent/pipeline/resume_gate.h"

#include <spdlog/spdlog.h>

#include <charconv>

#include "collectors/eventlog/evt_subscription_collector.h"

namespace t0w {
namespace {

bool isNoticeEvent(const Event& e) {
  return e.system.provider_name == kGapProvider && e.system.event_id == kNoticeEventId &&
         e.system.channel.empty() && e.origin.source.starts_with("notice:");
}

}  // namespace

Resume parseResume(const std::optional<std::string>& position, const std::string& source) {
  Resume r;
  if (!position || position->empty()) return r;
  if (*position == "complete") {
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

void ResumeGate::onEvent(Event&& event) {
  if (notices_.stopped()) return;  // stopped while storing: the next run reads this again
  if (handed_over_ && isNoticeEvent(event)) {
    notices_.onNotice(event);
    return;
  }
  if (resume_.last_stored && event.origin.position <= *resume_.last_stored) {
    ++metrics_.skipped_resume;
    return;
  }
  ++metrics_.events_in;
  next_.onEvent(std::move(event));
}

}  // namespace t0w
