// Rule loader: one Sigma YAML file → its rule documents. Handles multi-document files and Sigma's
// rule collections (`action: global` / `reset` / `repeat`) and applies the structural limits
// (file size, depth, node count after alias expansion) before anything else looks at a document.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/rules/rule_issue.h"
#include "agent/rules/rule_limits.h"

namespace YAML {
class Node;
}  // namespace YAML

namespace t0w {

struct RuleDoc {
  std::string file;
  size_t index = 0;  // position of the document in its file (0-based, action documents counted)
  // A map; collection actions already applied. Held by pointer so that this header needs no
  // yaml-cpp (a forward declaration).
  std::shared_ptr<const YAML::Node> node;
  std::string id;  // `id` when present and a scalar
};

struct RuleFileContents {
  std::vector<RuleDoc> docs;
  std::vector<RuleIssue> issues;  // documents (or the whole file) that could not be read
};

RuleFileContents parseRuleText(std::string_view text, const std::string& file,
                               const RuleLimits& limits);
// The file's bytes; nullopt when it is unreadable or too large, with the issue in `contents`.
std::optional<std::string> readRuleBytes(const std::filesystem::path& path,
                                         const RuleLimits& limits, RuleFileContents& contents);

// Scalar text of a node ("" when absent or not a scalar). Never throws.
std::string scalarOr(const YAML::Node& node, const std::string& fallback = {});

}  // namespace t0w
