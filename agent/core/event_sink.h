// EventSink: the boundary between a stage and the next one.
#pragma once

#include "agent/core/event.h"
#include "common/core/result.h"

namespace t0w {

// Why an input could not be turned into an event: reported, counted, never fatal.
struct InputError {
  std::string source;     // file path, channel
  uint64_t position = 0;  // record index or byte offset
  Error error;
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void onEvent(Event&& event) = 0;
  virtual void onError(const InputError& error) = 0;
};

}  // namespace t0w
