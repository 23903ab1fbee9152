// EventSource: what reads events for the agent (a replay file, a subscription, a trace tail);
// the implementations live in collectors/ and are built by collectors/registry.h. Not to be
// confused with the central collector (tools/collector, tier0watch-collector).
#pragma once

#include <string>

#include "agent/core/event_sink.h"

namespace t0w {

struct SourceSummary {
  uint64_t records = 0;  // events delivered to the sink
  uint64_t errors = 0;   // inputs reported through onError
};

class EventSource {
 public:
  virtual ~EventSource() = default;
  virtual const std::string& name() const = 0;
  // Reads until the input is exhausted (files) or stop() is called (streams).
  virtual SourceSummary run(EventSink& sink) = 0;
  virtual void stop() {}
};

}  // namespace t0w
