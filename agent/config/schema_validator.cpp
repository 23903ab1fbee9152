#include "agent/config/schema_validator.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <set>

namespace t0w {
namespace {

class Validator {
 public:
  std::vector<SchemaViolation> violations;

  void check(const YAML::Node& node, const nlohmann::json& schema, const std::string& path) {
    if (!schema.is_object()) return;
    if (auto it = schema.find("enum"); it != schema.end()) checkEnum(node, *it, path);
    if (auto it = schema.find("type"); it != schema.end() && it->is_string()) {
      if (!checkType(node, it->get<std::string>(), path)) return;
    }
    if (node.IsMap()) checkObject(node, schema, path);
    if (node.IsSequence()) checkArray(node, schema, path);
    if (node.IsScalar()) checkScalar(node, schema, path);
  }

 private:
  void add(const YAML::Node& node, const std::string& path, std::string message) {
    const YAML::Mark mark = node.Mark();
    const bool known = mark.line >= 0;
    violations.push_back(SchemaViolation{path.empty() ? "(document)" : path,
                                         known ? mark.line + 1 : 0, known ? mark.column + 1 : 0,
                                         std::move(message)});
  }

  static std::optional<long long> asInteger(const YAML::Node& node) {
    if (!node.IsScalar()) return std::nullopt;
    const std::string& s = node.Scalar();
    long long v = 0;
    const char* begin = s.data() + (s.starts_with('+') ? 1 : 0);
    auto [ptr, ec] = std::from_chars(begin, s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || begin == ptr) return std::nullopt;
    return v;
  }
  static std::optional<double> asNumber(const YAML::Node& node) {
    if (auto i = asInteger(node)) return static_cast<double>(*i);
    if (!node.IsScalar()) return std::nullopt;
    double v = 0;
    const std::string& s = node.Scalar();
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
  }
  static bool isBoolean(const YAML::Node& node) {
    if (!node.IsScalar()) return false;
    const std::string& s = node.Scalar();
    return s == "true" || s == "false" || s == "True" || s == "False" || s == "TRUE" ||
           s == "FALSE";
  }
  // A quoted or plain scalar that is not YAML null; numbers are accepted as text ("1234").
  static bool isString(const YAML::Node& node) { return node.IsScalar(); }

  static const char* kindName(const YAML::Node& node) {
    switch (node.Type()) {
      case YAML::NodeType::Map:
        return "a mapping";
      case YAML::NodeType::Sequence:
        return "a list";
      case YAML::NodeType::Null:
        return "empty (null)";
      case YAML::NodeType::Scalar:
        return "a scalar";
      default:
        return "undefined";
    }
  }

  bool checkType(const YAML::Node& node, const std::string& type, const std::string& path) {
    bool ok = false;
    if (type == "object")
      ok = node.IsMap();
    else if (type == "array")
      ok = node.IsSequence();
    else if (type == "string")
      ok = isString(node);
    else if (type == "integer")
      ok = asInteger(node).has_value();
    else if (type == "number")
      ok = asNumber(node).has_value();
    else if (type == "boolean")
      ok = isBoolean(node);
    else
      ok = true;  // a type this validator does not know: the schema test catches it
    if (!ok) {
      std::string shown = node.IsScalar() ? "\"" + node.Scalar() + "\"" : kindName(node);
      add(node, path, "expected " + type + ", found " + shown);
    }
    return ok;
  }

  void checkEnum(const YAML::Node& node, const nlohmann::json& values, const std::string& path) {
    std::string allowed;
    for (const auto& v : values) {
      if (v.is_string() && node.IsScalar() && node.Scalar() == v.get<std::string>()) return;
      allowed += (allowed.empty() ? "" : ", ") + v.dump();
    }
    std::string shown = node.IsScalar() ? "\"" + node.Scalar() + "\"" : kindName(node);
    add(node, path, shown + " is not one of " + allowed);
  }

  void checkObject(const YAML::Node& node, const nlohmann::json& schema, const std::string& path) {
    const nlohmann::json* properties = nullptr;
    if (auto it = schema.find("properties"); it != schema.end()) properties = &*it;
    const auto additional = schema.find("additionalProperties");
    std::set<std::string> seen;
    for (const auto& kv : node) {
      const YAML::Node& key = kv.first;
      if (!key.IsScalar()) {
        add(key, path, "keys must be plain names");
        continue;
      }
      const std::string name = key.Scalar();
      const std::string child = path.empty() ? name : path + "." + name;
      if (!seen.insert(name).second) add(key, child, "duplicate key");
      if (properties != nullptr && properties->contains(name)) {
        check(kv.second, (*properties)[name], child);
      } else if (additional != schema.end() && additional->is_boolean() &&
                 !additional->get<bool>()) {
        std::string known;
        if (properties != nullptr) {
          for (auto it = properties->begin(); it != properties->end(); ++it) {
            known += (known.empty() ? "" : ", ") + it.key();
          }
        }
        add(key, child,
            "unknown key \"" + name + "\"" + (known.empty() ? "" : " (known: " + known + ")"));
      } else if (additional != schema.end() && additional->is_object()) {
        check(kv.second, *additional, child);
      }
    }
    if (auto it = schema.find("required"); it != schema.end()) {
      for (const auto& r : *it) {
        const std::string name = r.get<std::string>();
        if (!seen.contains(name)) {
          add(node, path, "missing required key \"" + name + "\"");
        }
      }
    }
    if (auto it = schema.find("minProperties");
        it != schema.end() && seen.size() < it->get<size_t>()) {
      add(node, path, "needs at least " + std::to_string(it->get<size_t>()) + " key(s)");
    }
    if (auto it = schema.find("maxProperties");
        it != schema.end() && seen.size() > it->get<size_t>()) {
      add(node, path,
          "allows at most " + std::to_string(it->get<size_t>()) + " key(s), found " +
              std::to_string(seen.size()));
    }
  }

  void checkArray(const YAML::Node& node, const nlohmann::json& schema, const std::string& path) {
    if (auto it = schema.find("minItems"); it != schema.end() && node.size() < it->get<size_t>()) {
      add(node, path, "needs at least " + std::to_string(it->get<size_t>()) + " item(s)");
    }
    if (auto it = schema.find("items"); it != schema.end()) {
      for (size_t i = 0; i < node.size(); ++i) {
        check(node[i], *it, path + "[" + std::to_string(i) + "]");
      }
    }
  }

  void checkScalar(const YAML::Node& node, const nlohmann::json& schema, const std::string& path) {
    if (auto it = schema.find("minLength");
        it != schema.end() && node.Scalar().size() < it->get<size_t>()) {
      add(node, path, "must not be empty");
    }
    const auto number = asNumber(node);
    if (!number) return;
    if (auto it = schema.find("minimum"); it != schema.end() && *number < it->get<double>()) {
      add(node, path, node.Scalar() + " is below the minimum " + it->dump());
    }
    if (auto it = schema.find("maximum"); it != schema.end() && *number > it->get<double>()) {
      add(node, path, node.Scalar() + " is above the maximum " + it->dump());
    }
  }
};

}  // namespace

std::vector<SchemaViolation> validateYamlAgainstSchema(const YAML::Node& document,
                                                       const nlohmann::json& schema) {
  Validator v;
  try {
    v.check(document, schema, "");
  } catch (const std::exception& e) {
    v.violations.push_back(SchemaViolation{"(document)", 0, 0, e.what()});
  }
  return std::move(v.violations);
}

}  // namespace t0w
