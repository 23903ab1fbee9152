// FakeEventSink: the one test double of EventSink. Records every event and input error in order;
// a test that passes the events on (a stage under test in front of it) reads them from here. The
// optional hooks run after each is recorded (e.g. to stop the collector that feeds the sink).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/event_sink.h"

namespace t0w::testing {

class FakeEventSink final : public EventSink {
 public:
  std::vector<Event> events;
  std::vector<InputError> errors;

  std::function<void(const Event&)> after_event;
  std::function<void(const InputError&)> after_error;

  void onEvent(Event&& event) override {
    events.push_back(std::move(event));
    if (after_event) after_event(events.back());
  }
  void onError(const InputError& error) override {
    errors.push_back(error);
    if (after_error) after_error(errors.back());
  }

  // The value of `field` in every event, in order ("<absent>" where an event lacks it).
  std::vector<std::string> values(std::string_view field) const;
  // error.error.message of every input error, in order.
  std::vector<std::string> errorMessages() const;
};

}  // namespace t0w::testing
