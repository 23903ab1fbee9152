// Collector: something that produces events (EVTX file, subscription, trace file).
#pragma once

#include <string>

#include "agent/core/event_sink.h"

namespace t0w {

struct CollectorSummary {
  uint64_t records = 0;  // events delivered to the sink
  uint64_t errors = 0;   // inputs reported through onError
};

class Collector {
 public:
  virtual ~Collector() = default;
  virtual const std::string& name() const = 0;
  // Reads until the input is exhausted (files) or stop() is called (streams).
  virtual CollectorSummary run(EventSink& sink) = 0;
  virtual void stop() {}
};

}  // namespace t0w
