// The last stage of `scan`: prints events as JSON lines or as a text table.
#pragma once

#include <ostream>
#include <string>

#include "agent/core/event_sink.h"

namespace t0w::cli {

// One eventToJsonLine() per event. Input errors are reported elsewhere and ignored here.
class JsonlEventWriter final : public EventSink {
 public:
  explicit JsonlEventWriter(std::ostream& out) : out_(out) {}
  void onEvent(Event&& event) override;
  void onError(const InputError&) override {}

 private:
  std::ostream& out_;
  std::string line_;  // reused: one allocation for the whole scan, not one per event
};

// Time, channel, EventID, computer and a few key data fields, one event per line.
class TableEventWriter final : public EventSink {
 public:
  explicit TableEventWriter(std::ostream& out) : out_(out) {}
  void onEvent(Event&& event) override;
  void onError(const InputError&) override {}

  // The "key fields" column: the event's most telling data fields as name=value (exposed for
  // tests).
  static std::string keyFields(const Event& event);

 private:
  std::ostream& out_;
  bool header_written_ = false;
};

}  // namespace t0w::cli
