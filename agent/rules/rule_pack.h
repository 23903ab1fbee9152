// RulePack: a directory of detection content that ships as one unit (the built-in `tier0` pack
// lives in packs/tier0). Layout:
//   pack.yaml      name, description, the Sigma placeholders its rules use (with defaults), the
//                  prerequisites its rules name by tag (tier0watch.prereq.<key>)
//   catalog.yaml   optional: the rows the pack answers (tier0watch.guide.<id> / .pack.<id> tags)
//   rules/         Sigma rules and correlations (*.yml, *.yaml, recursive)
// A directory without pack.yaml is a plain pack: all of it is Sigma rules, no metadata.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"

namespace t0w {

struct PackPlaceholder {
  std::string name;  // as rules write it between % signs
  std::string description;
  std::vector<std::string> defaults;  // may be empty: the rules using it stay silent until set
};

struct PackPrerequisite {
  std::string key;  // tier0watch.prereq.<key>
  std::string text;
};

// One row of what the pack claims to answer (a row of the guide's table, a supplementary entry
// of the detection catalog, or a detection of the pack's own).
struct CatalogRow {
  std::string id;       // "PTA-02", "SUP-MSOL", "T0-GROUPS"
  std::string kind;     // guide | supplementary | pack
  std::string section;  // the guide's section, or a group name
  std::string title;
  std::string risk;         // as the guide states it
  std::string local;        // yes | partial | no (cloud only)
  std::string cloud;        // the cloud or other log that covers what the server cannot see
  std::string tag() const;  // tier0watch.guide.pta-02, tier0watch.pack.t0-groups
};

struct RulePack {
  std::string name;  // directory name unless pack.yaml says otherwise
  std::filesystem::path dir;
  std::filesystem::path rules_dir;  // dir/rules, or dir itself for a plain pack
  std::string title;
  std::string description;
  std::vector<PackPlaceholder> placeholders;
  std::vector<PackPrerequisite> prerequisites;
  std::vector<CatalogRow> catalog;

  // Placeholder name -> default values, for RuleCompileOptions.
  std::map<std::string, std::vector<std::string>> placeholderDefaults() const;
  const PackPrerequisite* prerequisite(std::string_view key) const;
};

// Reads dir/pack.yaml and, with `read_catalog`, dir/catalog.yaml when present (only coverage
// needs the catalog; the agent and scans skip parsing it). Errors name the file and the key.
Result<RulePack> loadRulePack(const std::filesystem::path& dir, bool read_catalog = true);

// Where `--pack NAME` and `rules.packs` look for a pack, in order: beside the executable
// (<exe dir>/packs: the MSI layout), the Unix install layout (<exe dir>/../share/tier0watch/packs),
// then the source tree the executable was built from (packs/ at the project root).
std::vector<std::filesystem::path> packSearchDirs(const std::filesystem::path& executable);

// A pack by name (first search directory that has it) or by path (a value holding a directory
// separator, or "." / ".."). Errors list where it looked.
Result<std::filesystem::path> locatePack(std::string_view name_or_path,
                                         const std::vector<std::filesystem::path>& search_dirs);

}  // namespace t0w
