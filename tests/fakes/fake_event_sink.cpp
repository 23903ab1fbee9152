#include "tests/fakes/fake_event_sink.h"

namespace t0w::testing {

std::vector<std::string> FakeEventSink::values(std::string_view field) const {
  std::vector<std::string> out;
  out.reserve(events.size());
  for (const auto& e : events) {
    const std::string* v = e.find(field);
    out.push_back(v != nullptr ? *v : "<absent>");
  }
  return out;
}

std::vector<std::string> FakeEventSink::errorMessages() const {
  std::vector<std::string> out;
  out.reserve(errors.size());
  for (const auto& e : errors) out.push_back(e.error.message);
  return out;
}

}  // namespace t0w::testing
