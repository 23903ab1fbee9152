// RuleIssue: why one rule (or one rule file) was not loaded.
#pragma once

#include <string>

namespace t0w {

struct RuleIssue {
  std::string file;
  std::string rule_id;  // empty when the id could not be read
  std::string kind;     // short, stable reason class for summaries ("unsupported regex", ...)
  std::string message;  // the detail: what and where inside the rule

  std::string toString() const {
    return file + ": rule " + (rule_id.empty() ? std::string("?") : rule_id) + ": " + kind + ": " +
           message;
  }
};

}  // namespace t0w
