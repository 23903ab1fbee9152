// installer/admx/Tier0Watch.admx and en-US/Tier0Watch.adml against each other and against the
// values the agent reads (policyValueInfos): the structure the Group Policy editor requires
// (policyDefinitions / policyDefinitionResources in the PolicyDefinitions namespace, every
// $(string.X) and $(presentation.X) defined, every element shown by exactly one control of the
// matching kind), and the registry values both ways.
#include <gtest/gtest.h>

#include <map>
#include <pugixml.hpp>
#include <set>
#include <string>

#include "agent/config/policy_overlay.h"

namespace t0w {
namespace {

constexpr const char* kNs = "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions";
constexpr const char* kRoot = "Software\\Policies\\Tier0Watch";

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class AdmxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = std::string(T0W_SOURCE_DIR) + "/installer/admx/";
    auto a = admx_.load_file((dir + "Tier0Watch.admx").c_str());
    ASSERT_TRUE(a) << "Tier0Watch.admx: " << a.description() << " at offset " << a.offset;
    auto l = adml_.load_file((dir + "en-US/Tier0Watch.adml").c_str());
    ASSERT_TRUE(l) << "Tier0Watch.adml: " << l.description() << " at offset " << l.offset;
    for (auto s : adml_.select_nodes("/policyDefinitionResources/resources/stringTable/string")) {
      const std::string id = s.node().attribute("id").value();
      EXPECT_TRUE(strings_.insert(id).second) << "duplicate string id " << id;
    }
    for (auto p : adml_.select_nodes(
             "/policyDefinitionResources/resources/presentationTable/presentation")) {
      const std::string id = p.node().attribute("id").value();
      EXPECT_TRUE(presentations_.emplace(id, p.node()).second) << "duplicate presentation " << id;
    }
  }

  // "$(string.X)" -> X, checking the form and that X is defined.
  void expectRef(const std::string& ref, const char* kind, const std::string& where) {
    const std::string prefix = std::string("$(") + kind + ".";
    ASSERT_TRUE(ref.starts_with(prefix) && ref.ends_with(")"))
        << where << ": bad reference " << ref;
    const std::string id = ref.substr(prefix.size(), ref.size() - prefix.size() - 1);
    if (std::string(kind) == "string") {
      EXPECT_TRUE(strings_.count(id)) << where << ": string " << id << " not in the ADML";
      used_strings_.insert(id);
    } else {
      EXPECT_TRUE(presentations_.count(id)) << where << ": presentation " << id << " missing";
    }
  }

  pugi::xml_document admx_, adml_;
  std::set<std::string> strings_, used_strings_;
  std::map<std::string, pugi::xml_node> presentations_;
};

TEST_F(AdmxTest, RootsNamespacesAndRevisions) {
  const auto root = admx_.document_element();
  EXPECT_STREQ(root.name(), "policyDefinitions");
  EXPECT_STREQ(root.attribute("xmlns").value(), kNs);
  EXPECT_STREQ(root.attribute("revision").value(), "1.0");
  EXPECT_STREQ(root.attribute("schemaVersion").value(), "1.0");
  EXPECT_FALSE(root.select_node("policyNamespaces/target[@prefix and @namespace]").node().empty());
  EXPECT_FALSE(root.select_node("resources[@minRequiredRevision]").node().empty());
  const auto res = adml_.document_element();
  EXPECT_STREQ(res.name(), "policyDefinitionResources");
  EXPECT_STREQ(res.attribute("xmlns").value(), kNs);
  EXPECT_STREQ(res.attribute("revision").value(), "1.0");
  // Element order the ADMX schema prescribes.
  std::vector<std::string> order;
  for (auto c : root.children()) {
    if (c.type() == pugi::node_element) order.push_back(c.name());
  }
  const std::vector<std::string> want = {"policyNamespaces", "resources", "supportedOn",
                                         "categories", "policies"};
  EXPECT_EQ(order, want);
}

TEST_F(AdmxTest, EveryReferenceResolves) {
  const auto root = admx_.document_element();
  std::set<std::string> categories, supported;
  for (auto d : root.select_nodes("supportedOn/definitions/definition")) {
    supported.insert(d.node().attribute("name").value());
    expectRef(d.node().attribute("displayName").value(), "string", "supportedOn");
  }
  for (auto c : root.select_nodes("categories/category")) {
    categories.insert(c.node().attribute("name").value());
  }
  for (auto c : root.select_nodes("categories/category")) {
    const std::string name = c.node().attribute("name").value();
    expectRef(c.node().attribute("displayName").value(), "string", "category " + name);
    if (!c.node().attribute("explainText").empty()) {
      expectRef(c.node().attribute("explainText").value(), "string", "category " + name);
    }
    if (auto parent = c.node().child("parentCategory")) {
      EXPECT_TRUE(categories.count(parent.attribute("ref").value())) << "category " << name;
    }
  }
  std::set<std::string> names;
  for (auto p : root.select_nodes("policies/policy")) {
    const pugi::xml_node policy = p.node();
    const std::string name = policy.attribute("name").value();
    const std::string where = "policy " + name;
    EXPECT_TRUE(names.insert(name).second) << "duplicate " << where;
    EXPECT_STREQ(policy.attribute("class").value(), "Machine") << where;
    EXPECT_TRUE(lower(policy.attribute("key").value()).starts_with(lower(kRoot))) << where;
    expectRef(policy.attribute("displayName").value(), "string", where);
    expectRef(policy.attribute("explainText").value(), "string", where);
    EXPECT_TRUE(categories.count(policy.child("parentCategory").attribute("ref").value())) << where;
    EXPECT_TRUE(supported.count(policy.child("supportedOn").attribute("ref").value())) << where;

    // Elements and the controls that show them: one control each, of the matching kind.
    const pugi::xml_node elements = policy.child("elements");
    const std::string pres_ref = policy.attribute("presentation").value();
    if (elements.empty()) {
      EXPECT_TRUE(pres_ref.empty()) << where << ": presentation without elements";
      EXPECT_FALSE(policy.attribute("valueName").empty()) << where << ": writes nothing";
      continue;
    }
    expectRef(pres_ref, "presentation", where);
    const std::string pres_id = pres_ref.substr(15, pres_ref.size() - 16);
    const auto pres_it = presentations_.find(pres_id);
    if (pres_it == presentations_.end()) continue;
    std::map<std::string, std::string> controls;  // refId -> control
    for (auto ctl : pres_it->second.children()) {
      if (ctl.type() != pugi::node_element || std::string(ctl.name()) == "text") continue;
      EXPECT_TRUE(controls.emplace(ctl.attribute("refId").value(), ctl.name()).second)
          << where << ": two controls for " << ctl.attribute("refId").value();
    }
    const std::map<std::string, std::set<std::string>> kinds = {
        {"text", {"textBox", "comboBox"}}, {"decimal", {"decimalTextBox"}},
        {"enum", {"dropdownList"}},        {"list", {"listBox"}},
        {"boolean", {"checkBox"}},         {"longDecimal", {"longDecimalTextBox"}}};
    size_t n = 0;
    for (auto e : elements.children()) {
      if (e.type() != pugi::node_element) continue;
      ++n;
      const std::string id = e.attribute("id").value();
      const auto ctl = controls.find(id);
      ASSERT_NE(ctl, controls.end()) << where << ": element " << id << " has no control";
      ASSERT_TRUE(kinds.count(e.name())) << where << ": unknown element kind " << e.name();
      EXPECT_TRUE(kinds.at(e.name()).count(ctl->second))
          << where << ": " << e.name() << " " << id << " shown by a " << ctl->second;
      for (auto item : e.children("item")) {
        expectRef(item.attribute("displayName").value(), "string", where + " item");
      }
    }
    EXPECT_EQ(n, controls.size()) << where << ": a control without an element";
  }
  // Nothing in the ADML that nothing uses (a renamed policy leaves its strings behind).
  for (const auto& id : strings_) {
    EXPECT_TRUE(used_strings_.count(id)) << "string " << id << " is not used by the ADMX";
  }
}

// Every registry value the ADMX writes is read by the agent, and every value the agent reads
// has a policy.
TEST_F(AdmxTest, RegistryValuesMatchWhatTheAgentReads) {
  std::set<std::pair<std::string, std::string>> admx;  // (subkey, value name or "*"), lower case
  const auto subkey = [](const std::string& key) {
    std::string k = key.substr(std::string(kRoot).size());
    if (!k.empty() && k[0] == '\\') k.erase(0, 1);
    return lower(k);
  };
  for (auto p : admx_.select_nodes("/policyDefinitions/policies/policy")) {
    const pugi::xml_node policy = p.node();
    const std::string key = policy.attribute("key").value();
    if (!policy.attribute("valueName").empty()) {
      admx.insert({subkey(key), lower(policy.attribute("valueName").value())});
    }
    for (auto e : policy.child("elements").children()) {
      if (e.type() != pugi::node_element) continue;
      const std::string ekey = e.attribute("key").empty() ? key : e.attribute("key").value();
      if (std::string(e.name()) == "list") {
        admx.insert({subkey(ekey), "*"});
      } else {
        ASSERT_FALSE(e.attribute("valueName").empty()) << e.attribute("id").value();
        admx.insert({subkey(ekey), lower(e.attribute("valueName").value())});
      }
    }
  }
  std::set<std::pair<std::string, std::string>> agent;
  for (const auto& info : policyValueInfos()) agent.insert({lower(info.subkey), lower(info.name)});
  for (const auto& v : admx) {
    EXPECT_TRUE(agent.count(v)) << "the ADMX writes " << v.first << "\\" << v.second
                                << " which the agent does not read";
  }
  for (const auto& v : agent) {
    EXPECT_TRUE(admx.count(v)) << "the agent reads " << v.first << "\\" << v.second
                               << " which no policy sets";
  }
  EXPECT_EQ(admx.size(), policyValueInfos().size());
}

}  // namespace
}  // namespace t0w
