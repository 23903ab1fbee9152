// A validator for the subset of JSON Schema that schemas/config.schema.json uses, applied to a
// YAML document directly so that every error can name the key and its line in the file.
// Keywords: type (object, array, string, integer, number, boolean), properties,
// additionalProperties (false or a schema), required, enum, minimum, maximum, minLength, items,
// minItems, minProperties, maxProperties. Others are ignored (description, default, $id, ...).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace YAML {
class Node;
}

namespace t0w {

struct SchemaViolation {
  std::string path;  // "collector.url", "sources[2].xml"
  int line = 0;      // 1-based, 0 when unknown
  int column = 0;
  std::string message;
};

// Returns every violation found (empty: valid). Never throws.
std::vector<SchemaViolation> validateYamlAgainstSchema(const YAML::Node& document,
                                                       const nlohmann::json& schema);

}  // namespace t0w
