// The JSON line of an alert (schemas/alert.schema.json).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "agent/rules/alert.h"

namespace t0w {

nlohmann::ordered_json alertToJson(const Alert& alert);
// One line, UTF-8; invalid UTF-8 is replaced, never thrown on.
std::string alertToJsonLine(const Alert& alert);

}  // namespace t0w

#include <ostream>

namespace t0w {

// Prints each alert as one JSON line.
class JsonlAlertWriter final : public AlertSink {
 public:
  explicit JsonlAlertWriter(std::ostream& out) : out_(out) {}
  void onAlert(Alert&& alert) override;
  uint64_t count() const { return count_; }

 private:
  std::ostream& out_;
  uint64_t count_ = 0;
};

}  // namespace t0w
