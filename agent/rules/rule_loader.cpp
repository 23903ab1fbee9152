#include "agent/rules/rule_loader.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <regex>
#include <sstream>

namespace t0w {
namespace {

// Walks a document within the limits. yaml-cpp keeps aliases as shared nodes, so a "billion
// laughs" document is small in memory but explodes when walked: the node budget stops it.
bool checkShape(const YAML::Node& node, size_t depth, size_t& budget, const RuleLimits& limits,
                std::string& why) {
  if (depth > limits.max_yaml_depth) {
    why = "nesting deeper than " + std::to_string(limits.max_yaml_depth) + " levels";
    return false;
  }
  if (budget == 0) {
    why = "more than " + std::to_string(limits.max_yaml_nodes) +
          " YAML nodes (after alias expansion)";
    return false;
  }
  --budget;
  switch (node.Type()) {
    case YAML::NodeType::Map:
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (!checkShape(it->first, depth + 1, budget, limits, why)) return false;
        if (!checkShape(it->second, depth + 1, budget, limits, why)) return false;
      }
      return true;
    case YAML::NodeType::Sequence:
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (!checkShape(*it, depth + 1, budget, limits, why)) return false;
      }
      return true;
    case YAML::NodeType::Scalar:
      if (node.Scalar().size() > limits.max_value_bytes) {
        why = "a scalar longer than " + std::to_string(limits.max_value_bytes) + " bytes";
        return false;
      }
      return true;
    default:
      return true;
  }
}

// Deep merge for rule collections: keys of `base` missing in `doc` are added, maps merge
// recursively, everything else in `doc` wins.
YAML::Node mergeInto(const YAML::Node& base, const YAML::Node& doc) {
  if (!base.IsMap() || !doc.IsMap()) return YAML::Clone(doc);
  YAML::Node out = YAML::Clone(base);
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string key = it->first.as<std::string>("");
    YAML::Node existing = out[key];
    if (existing.IsMap() && it->second.IsMap()) {
      out[key] = mergeInto(existing, it->second);
    } else {
      out[key] = YAML::Clone(it->second);
    }
  }
  return out;
}

// Best effort: the id of a rule in a file that does not parse, so that errors name it.
std::string guessId(std::string_view text) {
  static const std::regex kId(R"((?:^|\n)id:\s*['"]?([0-9A-Za-z_.-]{1,80}))");
  std::string head(text.substr(0, 16 * 1024));
  std::smatch m;
  if (std::regex_search(head, m, kId)) return m[1].str();
  return {};
}

}  // namespace

std::string scalarOr(const YAML::Node& node, const std::string& fallback) {
  if (!node || !node.IsScalar()) return fallback;
  return node.Scalar();
}

RuleFileContents parseRuleText(std::string_view text, const std::string& file,
                               const RuleLimits& limits) {
  RuleFileContents out;
  if (text.size() > limits.max_file_bytes) {
    out.issues.push_back(
        {file, guessId(text), "file too large",
         std::to_string(text.size()) + " bytes, limit " + std::to_string(limits.max_file_bytes)});
    return out;
  }
  // Documents are split at `---` lines and parsed one by one: yaml-cpp 0.7's LoadAll can loop
  // forever on some malformed streams (e.g. " ,"), and a broken document must not take its
  // valid siblings down with it.
  struct Chunk {
    std::string text;
    size_t first_line = 1;
  };
  std::vector<Chunk> chunks(1);
  size_t line_no = 1;
  for (size_t pos = 0; pos <= text.size();) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    const bool separator = line.substr(0, 3) == "---" && (line.size() == 3 || line[3] == ' ' ||
                                                          line[3] == '\t' || line[3] == '\r');
    if (separator) {
      if (chunks.size() >= limits.max_documents_per_file) {
        out.issues.push_back(
            {file, guessId(text), "too many documents",
             "more than " + std::to_string(limits.max_documents_per_file) + " documents"});
        return out;
      }
      chunks.push_back(Chunk{std::string(line.substr(3)) + "\n", line_no});
    } else {
      chunks.back().text.append(line);
      chunks.back().text.push_back('\n');
    }
    ++line_no;
    pos = eol + 1;
  }
  std::vector<YAML::Node> docs;
  for (size_t i = 0; i < chunks.size(); ++i) {
    try {
      docs.push_back(YAML::Load(chunks[i].text));
    } catch (const std::exception& e) {
      out.issues.push_back({file, guessId(chunks[i].text), "invalid YAML",
                            "document " + std::to_string(i + 1) + " (starting at line " +
                                std::to_string(chunks[i].first_line) + "): " + e.what()});
      docs.emplace_back();  // keeps document numbering
    }
  }

  YAML::Node global;  // `action: global` content, merged into every following document
  // Whether `global` holds anything: a default yaml-cpp Node is a defined null, so `global`
  // itself tests true even when empty (and merging into it would clone every document).
  bool has_global = false;
  YAML::Node previous;  // the last rule document, for `action: repeat`
  for (size_t i = 0; i < docs.size(); ++i) {
    const YAML::Node& doc = docs[i];
    const std::string where = "document " + std::to_string(i + 1);
    try {
      if (doc.IsNull()) continue;  // empty document (e.g. trailing `---`)
      size_t budget = limits.max_yaml_nodes;
      std::string why;
      if (!checkShape(doc, 0, budget, limits, why)) {
        out.issues.push_back({file, scalarOr(doc.IsMap() ? doc["id"] : YAML::Node()),
                              "limit exceeded", where + ": " + why});
        continue;
      }
      if (!doc.IsMap()) {
        out.issues.push_back({file, "", "malformed rule", where + ": not a YAML map"});
        continue;
      }
      const std::string action = scalarOr(doc["action"]);
      if (action == "global") {
        YAML::Node body = YAML::Clone(doc);
        body.remove("action");
        // Node::reset rebinds; operator= would write through into the previous node.
        global.reset(has_global ? mergeInto(global, body) : body);
        has_global = true;
        continue;
      }
      if (action == "reset") {
        global.reset();
        has_global = false;
        continue;
      }
      YAML::Node merged;
      if (action == "repeat") {
        if (!previous) {
          out.issues.push_back(
              {file, "", "malformed rule", where + ": `action: repeat` without a previous rule"});
          continue;
        }
        YAML::Node body = YAML::Clone(doc);
        body.remove("action");
        merged.reset(mergeInto(previous, body));
      } else if (!action.empty()) {
        out.issues.push_back({file, scalarOr(doc["id"]), "malformed rule",
                              where + ": unknown collection action '" + action + "'"});
        continue;
      } else {
        // Without a global part the document is used as parsed (nothing writes to it).
        merged.reset(has_global ? mergeInto(global, doc) : doc);
      }
      previous.reset(merged);
      RuleDoc rd;
      rd.file = file;
      rd.index = i;
      rd.id = scalarOr(merged["id"]);
      rd.node = std::make_shared<const YAML::Node>(merged);
      out.docs.push_back(std::move(rd));
    } catch (const std::exception& e) {
      out.issues.push_back({file, "", "malformed rule", where + ": " + e.what()});
    }
  }
  return out;
}

std::optional<std::string> readRuleBytes(const std::filesystem::path& path,
                                         const RuleLimits& limits, RuleFileContents& out) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    out.issues.push_back({path.string(), "", "unreadable file", ec.message()});
    return std::nullopt;
  }
  if (size > limits.max_file_bytes) {
    out.issues.push_back(
        {path.string(), "", "file too large",
         std::to_string(size) + " bytes, limit " + std::to_string(limits.max_file_bytes)});
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    out.issues.push_back({path.string(), "", "unreadable file", "cannot open"});
    return std::nullopt;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return std::move(buf).str();
}

}  // namespace t0w
