#include "agent/rules/rule_pack.h"

#include <yaml-cpp/yaml.h>

#include <system_error>

#include "agent/rules/rule_loader.h"
#include "agent/rules/value_matcher.h"

namespace t0w {
namespace {

namespace fs = std::filesystem;

Error packError(const fs::path& file, const std::string& what) {
  return makeError(Errc::kParse, file.string() + ": " + what);
}

std::vector<std::string> scalarList(const YAML::Node& n) {
  std::vector<std::string> out;
  if (!n || n.IsNull()) return out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
  } else if (n.IsSequence()) {
    for (const auto& v : n)
      if (v.IsScalar()) out.push_back(v.Scalar());
  }
  return out;
}

Status readPackFile(const fs::path& file, RulePack& pack) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const std::exception& e) {
    return packError(file, e.what());
  }
  if (!root.IsMap()) return packError(file, "expected a map");
  if (root["name"]) pack.name = scalarOr(root["name"]);
  pack.title = scalarOr(root["title"]);
  pack.description = scalarOr(root["description"]);
  if (const YAML::Node ph = root["placeholders"]) {
    if (!ph.IsMap()) return packError(file, "placeholders: expected a map of name: {...}");
    for (auto it = ph.begin(); it != ph.end(); ++it) {
      PackPlaceholder p;
      p.name = it->first.Scalar();
      const YAML::Node v = it->second;
      if (!v.IsMap()) return packError(file, "placeholders." + p.name + ": expected a map");
      p.description = scalarOr(v["description"]);
      p.defaults = scalarList(v["default"]);
      pack.placeholders.push_back(std::move(p));
    }
  }
  if (const YAML::Node pre = root["prerequisites"]) {
    if (!pre.IsMap()) return packError(file, "prerequisites: expected a map of key: text");
    for (auto it = pre.begin(); it != pre.end(); ++it)
      pack.prerequisites.push_back({it->first.Scalar(), scalarOr(it->second)});
  }
  return {};
}

Status readCatalogFile(const fs::path& file, RulePack& pack) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const std::exception& e) {
    return packError(file, e.what());
  }
  const YAML::Node rows = root["rows"];
  if (!rows || !rows.IsSequence()) return packError(file, "rows: expected a list");
  for (const auto& r : rows) {
    CatalogRow row;
    row.id = scalarOr(r["id"]);
    row.kind = scalarOr(r["kind"], "guide");
    row.section = scalarOr(r["section"]);
    row.title = scalarOr(r["title"]);
    row.risk = scalarOr(r["risk"]);
    row.local = scalarOr(r["local"]);
    row.cloud = scalarOr(r["cloud"]);
    if (row.id.empty()) return packError(file, "a row without id");
    if (row.kind != "guide" && row.kind != "supplementary" && row.kind != "pack")
      return packError(file, row.id + ": kind must be guide, supplementary or pack");
    if (row.local != "yes" && row.local != "partial" && row.local != "no")
      return packError(file, row.id + ": local must be yes, partial or no");
    pack.catalog.push_back(std::move(row));
  }
  return {};
}

bool looksLikePath(std::string_view v) {
  return v == "." || v == ".." || v.find('/') != std::string_view::npos ||
         v.find('\\') != std::string_view::npos;
}

}  // namespace

std::string CatalogRow::tag() const {
  return std::string(kind == "pack" ? "tier0watch.pack." : "tier0watch.guide.") + lowerAscii(id);
}

std::map<std::string, std::vector<std::string>> RulePack::placeholderDefaults() const {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& p : placeholders) out[p.name] = p.defaults;
  return out;
}

const PackPrerequisite* RulePack::prerequisite(std::string_view key) const {
  for (const auto& p : prerequisites)
    if (p.key == key) return &p;
  return nullptr;
}

Result<RulePack> loadRulePack(const fs::path& dir, bool read_catalog) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return makeError(Errc::kNotFound, dir.string() + ": no such pack directory");
  RulePack pack;
  pack.dir = dir;
  pack.name = dir.filename().string();
  if (pack.name.empty()) pack.name = dir.parent_path().filename().string();  // "packs/tier0/"
  const fs::path meta = dir / "pack.yaml";
  if (!fs::exists(meta, ec)) {
    pack.rules_dir = dir;
    return pack;
  }
  pack.rules_dir = dir / "rules";
  if (auto st = readPackFile(meta, pack); !st) return st.error();
  const fs::path catalog = dir / "catalog.yaml";
  if (read_catalog && fs::exists(catalog, ec)) {
    if (auto st = readCatalogFile(catalog, pack); !st) return st.error();
  }
  return pack;
}

std::vector<fs::path> packSearchDirs(const fs::path& executable) {
  std::vector<fs::path> out;
  if (!executable.empty()) {
    const fs::path bin = executable.parent_path();
    out.push_back(bin / "packs");
    out.push_back((bin / ".." / "share" / "tier0watch" / "packs").lexically_normal());
  }
#ifdef T0W_SOURCE_PACKS_DIR
  out.emplace_back(T0W_SOURCE_PACKS_DIR);
#endif
  return out;
}

Result<fs::path> locatePack(std::string_view name_or_path, const std::vector<fs::path>& dirs) {
  std::error_code ec;
  if (looksLikePath(name_or_path)) {
    const fs::path p(name_or_path);
    if (fs::is_directory(p, ec)) return p;
    return makeError(Errc::kNotFound, std::string(name_or_path) + ": no such pack directory");
  }
  if (name_or_path.empty()) return makeError(Errc::kInvalidArgument, "empty pack name");
  std::string looked;
  for (const auto& d : dirs) {
    const fs::path p = d / std::string(name_or_path);
    if (fs::is_directory(p, ec)) return p;
    looked += (looked.empty() ? "" : ", ") + p.string();
  }
  return makeError(Errc::kNotFound, "rule pack '" + std::string(name_or_path) +
                                        "' not found (looked in " +
                                        (looked.empty() ? "nothing" : looked) + ")");
}

}  // namespace t0w
