// The compiler of Sigma rules: rule documents and detection blocks into CompiledRule and
// Detection. Value transforms are in value_transforms.cpp, evaluation order in
// detection_order.cpp, evaluation in detection_eval.cpp.
#include "agent/rules/compiled_rule.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "agent/rules/condition_parser.h"
#include "agent/rules/detection_order.h"
#include "agent/rules/value_transforms.h"

namespace t0w {
namespace {

// Errors carry "<kind>: <detail>"; the kind is the summary class in `rules check`.
Error fail(Errc code, const std::string& kind, const std::string& detail) {
  return makeError(code, kind + ": " + detail);
}

// ---- field references ------------------------------------------------------------------------

FieldRef makeFieldRef(const std::string& sigma_name, const FieldMapping* mapping) {
  FieldRef r;
  r.sigma_name = sigma_name;
  std::string mapped(mapping ? mapping->map(sigma_name) : std::string_view(sigma_name));
  r.system = systemFieldByName(mapped);
  if (r.system) {
    switch (*r.system) {
      case SystemField::kEventId:
      case SystemField::kChannel:
      case SystemField::kProviderName:
      case SystemField::kComputer:
      case SystemField::kEventRecordId:
      case SystemField::kTimeCreated:
        r.data_first = false;
        break;
      default:
        r.data_first = true;  // e.g. "Version", "Level" also appear as EventData names
    }
  }
  r.key = FieldKey(std::move(mapped));
  return r;
}

// ---- modifiers ---------------------------------------------------------------------------------

struct Modifiers {
  bool contains = false, startswith = false, endswith = false, all = false, re = false,
       re_i = false, re_m = false, re_s = false, cidr = false, exists = false, cased = false,
       fieldref = false, expand = false, bit_and = false;
  std::optional<ValueMatcher::Kind> numeric;
  std::vector<std::string> transforms;  // base64, base64offset, utf16*, wide, windash: in order
};

Result<Modifiers> parseModifiers(const std::vector<std::string>& mods) {
  Modifiers m;
  for (const auto& mod : mods) {
    if (mod == "contains") {
      m.contains = true;
    } else if (mod == "startswith") {
      m.startswith = true;
    } else if (mod == "endswith") {
      m.endswith = true;
    } else if (mod == "all") {
      m.all = true;
    } else if (mod == "re") {
      m.re = true;
    } else if (mod == "i") {
      m.re_i = true;
    } else if (mod == "m") {
      m.re_m = true;
    } else if (mod == "s") {
      m.re_s = true;
    } else if (mod == "cidr") {
      m.cidr = true;
    } else if (mod == "exists") {
      m.exists = true;
    } else if (mod == "cased") {
      m.cased = true;
    } else if (mod == "fieldref") {
      m.fieldref = true;
    } else if (mod == "expand") {
      m.expand = true;
    } else if (mod == "bitand") {
      m.bit_and = true;
    } else if (mod == "lt") {
      m.numeric = ValueMatcher::Kind::kLt;
    } else if (mod == "lte") {
      m.numeric = ValueMatcher::Kind::kLte;
    } else if (mod == "gt") {
      m.numeric = ValueMatcher::Kind::kGt;
    } else if (mod == "gte") {
      m.numeric = ValueMatcher::Kind::kGte;
    } else if (mod == "base64" || mod == "base64offset" || mod == "utf16le" || mod == "utf16be" ||
               mod == "wide" || mod == "utf16" || mod == "windash") {
      m.transforms.push_back(mod);
    } else {
      return fail(Errc::kUnsupported, "unknown modifier", "'" + mod + "'");
    }
  }
  const int anchors = int{m.contains} + int{m.startswith} + int{m.endswith};
  if (anchors > 1)
    return fail(Errc::kParse, "conflicting modifiers", "only one of contains/startswith/endswith");
  if ((m.re_i || m.re_m || m.re_s) && !m.re)
    return fail(Errc::kParse, "conflicting modifiers", "i/m/s need the re modifier");
  const int kinds = int{m.re} + int{m.cidr} + int{m.exists} + int{m.fieldref} +
                    int{m.numeric.has_value()} + int{m.bit_and};
  if (kinds > 1)
    return fail(Errc::kParse, "conflicting modifiers",
                "re, cidr, exists, fieldref, bitand and lt/lte/gt/gte exclude each other");
  if (kinds == 1 && !m.transforms.empty())
    return fail(Errc::kParse, "conflicting modifiers",
                "encoding modifiers apply to plain string values only");
  if ((m.re || m.cidr || m.exists || m.numeric || m.bit_and) && anchors > 0)
    return fail(Errc::kParse, "conflicting modifiers",
                "contains/startswith/endswith apply to string values only");
  return m;
}

std::vector<SigmaString> expandPlaceholders(const SigmaString& s, const RuleCompileOptions& opt,
                                            Error& err, bool& empty_list) {
  // Splits on %name% and substitutes every configured value (cartesian product).
  std::vector<SigmaString> out{SigmaString{}};
  size_t i = 0;
  while (i < s.text.size()) {
    if (s.text[i] == '%' && !s.wild[i]) {
      size_t j = s.text.find('%', i + 1);
      if (j != std::string::npos) {
        std::string name = s.text.substr(i + 1, j - i - 1);
        auto it = opt.placeholders.find(name);
        if (it == opt.placeholders.end()) {
          err = fail(Errc::kNotFound, "unknown placeholder",
                     "'%" + name + "%' is not defined in the placeholder configuration");
          return {};
        }
        if (it->second.empty()) {
          empty_list = true;
          return {};
        }
        std::vector<SigmaString> next;
        for (const auto& prefix : out) {
          for (const auto& v : it->second) {
            SigmaString c = prefix;
            c.append(SigmaString::parse(v));
            next.push_back(std::move(c));
            if (next.size() > opt.limits.max_values_per_rule) {
              err = fail(Errc::kLimit, "limit exceeded", "placeholder expansion too large");
              return {};
            }
          }
        }
        out = std::move(next);
        i = j + 1;
        continue;
      }
    }
    for (auto& o : out) {
      o.text.push_back(s.text[i]);
      o.wild.push_back(s.wild[i]);
    }
    ++i;
  }
  return out;
}

class DetectionCompiler {
 public:
  DetectionCompiler(const FieldMapping* fields, const RuleCompileOptions& opt)
      : fields_(fields), opt_(opt) {}

  Result<Detection> compile(const YAML::Node& det) {
    if (!det || !det.IsMap())
      return fail(Errc::kParse, "malformed rule", "'detection' must be a map");
    Detection d;
    YAML::Node condition;
    for (auto it = det.begin(); it != det.end(); ++it) {
      const std::string name = it->first.as<std::string>("");
      if (name == "condition") {
        condition = it->second;
        continue;
      }
      if (name == "timeframe") continue;  // Sigma v1 aggregation window: meaningless here
      auto sel = compileSelection(name, it->second);
      if (!sel.ok()) return sel.error();
      d.selections.push_back(std::move(sel.value()));
    }
    if (!condition) return fail(Errc::kParse, "malformed rule", "detection has no 'condition'");
    std::vector<std::string> texts;
    if (condition.IsScalar()) {
      texts.push_back(condition.Scalar());
    } else if (condition.IsSequence()) {
      for (const auto& c : condition) {
        if (!c.IsScalar()) return fail(Errc::kParse, "malformed rule", "condition list item");
        texts.push_back(c.Scalar());
      }
    } else {
      return fail(Errc::kParse, "malformed rule", "'condition' must be a string or a list");
    }
    if (texts.empty()) return fail(Errc::kParse, "malformed rule", "empty condition list");
    // A list of conditions is their disjunction (Sigma v1).
    CondExpr root;
    root.kind = CondExpr::Kind::kOr;
    for (const auto& t : texts) {
      auto ast = parseCondition(t, opt_.limits);
      if (!ast.ok()) return fail(ast.error().code, "invalid condition", ast.error().message);
      CondExpr e;
      size_t nodes = 0;
      if (auto st = resolve(*ast, d, e, nodes); !st.ok()) return st.error();
      root.children.push_back(std::move(e));
    }
    d.root = root.children.size() == 1 ? std::move(root.children[0]) : std::move(root);
    orderDetectionByCost(d);
    if (opt_.literal_sets) useLiteralSets(d);
    d.placeholders.assign(used_placeholders_.begin(), used_placeholders_.end());
    return d;
  }

 private:
  Status resolve(const ConditionNode& n, const Detection& d, CondExpr& out, size_t& nodes) {
    if (++nodes > opt_.limits.max_condition_nodes)
      return fail(Errc::kLimit, "limit exceeded",
                  "condition expands to more than " +
                      std::to_string(opt_.limits.max_condition_nodes) + " terms");
    switch (n.kind) {
      case ConditionNode::Kind::kName: {
        for (uint32_t i = 0; i < d.selections.size(); ++i) {
          if (d.selections[i].name == n.name) {
            out.kind = CondExpr::Kind::kSel;
            out.sel = i;
            return {};
          }
        }
        return fail(Errc::kParse, "invalid condition",
                    "condition references undefined selection '" + n.name + "'");
      }
      case ConditionNode::Kind::kOneOf:
      case ConditionNode::Kind::kAllOf: {
        out.kind =
            n.kind == ConditionNode::Kind::kOneOf ? CondExpr::Kind::kOr : CondExpr::Kind::kAnd;
        for (uint32_t i = 0; i < d.selections.size(); ++i) {
          const std::string& name = d.selections[i].name;
          const bool hit =
              n.name == "them" ? (name.empty() || name[0] != '_') : matchNamePattern(n.name, name);
          if (!hit) continue;
          if (++nodes > opt_.limits.max_condition_nodes)
            return fail(Errc::kLimit, "limit exceeded", "condition expands to too many terms");
          CondExpr s;
          s.kind = CondExpr::Kind::kSel;
          s.sel = i;
          out.children.push_back(std::move(s));
        }
        if (out.children.empty())
          return fail(Errc::kParse, "invalid condition", "'" + n.name + "' matches no selection");
        return {};
      }
      case ConditionNode::Kind::kNot:
      case ConditionNode::Kind::kAnd:
      case ConditionNode::Kind::kOr: {
        out.kind = n.kind == ConditionNode::Kind::kNot   ? CondExpr::Kind::kNot
                   : n.kind == ConditionNode::Kind::kAnd ? CondExpr::Kind::kAnd
                                                         : CondExpr::Kind::kOr;
        for (const auto& c : n.children) {
          CondExpr e;
          if (auto st = resolve(c, d, e, nodes); !st.ok()) return st;
          out.children.push_back(std::move(e));
        }
        return {};
      }
    }
    return {};
  }

  Result<Selection> compileSelection(const std::string& name, const YAML::Node& node) {
    Selection s;
    s.name = name;
    const std::string where = "selection '" + name + "'";
    if (node.IsMap()) {
      auto alt = compileMap(where, node);
      if (!alt.ok()) return alt.error();
      s.alternatives.push_back(std::move(alt.value()));
    } else if (node.IsSequence() || node.IsScalar()) {
      // A list of maps (OR) and/or keywords.
      std::vector<YAML::Node> keywords;
      if (node.IsScalar()) {
        keywords.push_back(node);
      } else {
        for (const auto& item : node) {
          if (item.IsMap()) {
            auto alt = compileMap(where, item);
            if (!alt.ok()) return alt.error();
            s.alternatives.push_back(std::move(alt.value()));
          } else if (item.IsScalar()) {
            keywords.push_back(item);
          } else {
            return fail(Errc::kParse, "malformed rule", where + ": unsupported list item");
          }
        }
      }
      if (!keywords.empty()) {
        auto kw = compileCondition(where, "", {}, keywords, /*keywords=*/true);
        if (!kw.ok()) return kw.error();
        s.alternatives.push_back({std::move(kw.value())});
      }
    } else {
      return fail(Errc::kParse, "malformed rule", where + " is empty");
    }
    if (s.alternatives.empty()) return fail(Errc::kParse, "malformed rule", where + " is empty");
    return s;
  }

  Result<std::vector<FieldCondition>> compileMap(const std::string& where, const YAML::Node& m) {
    std::vector<FieldCondition> out;
    if (m.size() == 0) return fail(Errc::kParse, "malformed rule", where + " has an empty map");
    for (auto it = m.begin(); it != m.end(); ++it) {
      const std::string key = it->first.as<std::string>("");
      std::vector<std::string> parts;
      size_t start = 0;
      while (true) {
        size_t bar = key.find('|', start);
        parts.push_back(
            key.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
        if (bar == std::string::npos) break;
        start = bar + 1;
      }
      std::string field = parts[0];
      parts.erase(parts.begin());
      std::vector<YAML::Node> values;
      // A named copy: iterating `it->second` directly would walk a destroyed temporary.
      const YAML::Node value = it->second;
      if (value.IsSequence()) {
        for (const auto& v : value) values.push_back(v);
        if (values.empty())
          return fail(Errc::kParse, "malformed rule", where + ": '" + key + "' has no values");
      } else {
        values.push_back(value);
      }
      auto c = compileCondition(where, field, parts, values, field.empty());
      if (!c.ok()) return c.error();
      out.push_back(std::move(c.value()));
    }
    return out;
  }

  Result<FieldCondition> compileCondition(const std::string& where, const std::string& field,
                                          const std::vector<std::string>& mods,
                                          const std::vector<YAML::Node>& values, bool keywords) {
    auto parsed = parseModifiers(mods);
    if (!parsed.ok()) {
      return makeError(parsed.error().code,
                       parsed.error().message + " in " + where + " field '" + field + "'");
    }
    const Modifiers& m = *parsed;
    FieldCondition c;
    c.mode = keywords ? FieldCondition::Mode::kKeywords : FieldCondition::Mode::kValues;
    c.field = makeFieldRef(field, fields_);
    c.all = m.all;
    const std::string ctx = where + " field '" + field + "'";
    if (m.exists) {
      if (values.size() != 1 || !values[0].IsScalar())
        return fail(Errc::kParse, "invalid value", ctx + ": exists takes one boolean");
      const std::string v = lowerAscii(values[0].Scalar());
      if (v != "true" && v != "false" && v != "yes" && v != "no")
        return fail(Errc::kParse, "invalid value", ctx + ": exists takes true or false");
      c.mode = FieldCondition::Mode::kExists;
      c.exists = v == "true" || v == "yes";
      return c;
    }
    if (m.fieldref) {
      if (values.size() != 1 || !values[0].IsScalar())
        return fail(Errc::kUnsupported, "invalid value", ctx + ": fieldref takes one field name");
      c.mode = FieldCondition::Mode::kFieldRef;
      c.other = makeFieldRef(values[0].Scalar(), fields_);
      c.ref_cased = m.cased;
      c.ref_kind = m.contains     ? ValueMatcher::Kind::kContains
                   : m.startswith ? ValueMatcher::Kind::kPrefix
                   : m.endswith   ? ValueMatcher::Kind::kSuffix
                                  : ValueMatcher::Kind::kExact;
      return c;
    }
    for (const auto& v : values) {
      const uint32_t before = static_cast<uint32_t>(c.matchers.size());
      if (v.IsNull()) {
        if (m.re || m.cidr || m.numeric || m.bit_and || !m.transforms.empty())
          return fail(Errc::kParse, "invalid value", ctx + ": null with a value modifier");
        c.matchers.push_back(ValueMatcher::null());
      } else if (!v.IsScalar()) {
        return fail(Errc::kParse, "invalid value", ctx + ": values must be scalars");
      } else if (m.re) {
        auto r =
            ValueMatcher::regex(v.Scalar(), m.re_i, m.re_m, m.re_s, opt_.limits.max_regex_memory,
                                opt_.limits.max_regex_program_size);
        if (!r.ok())
          return fail(r.error().code,
                      r.error().code == Errc::kLimit ? "limit exceeded" : "unsupported regex",
                      ctx + ": " + r.error().message);
        c.matchers.push_back(std::move(r.value()));
      } else if (m.cidr) {
        auto r = parseCidr(v.Scalar());
        if (!r.ok()) return fail(Errc::kParse, "invalid value", ctx + ": " + r.error().message);
        c.matchers.push_back(ValueMatcher::cidr(*r));
      } else if (m.bit_and) {
        // Flags as Windows renders them: decimal (5136 AttributeValue) or 0x-hex (4742
        // NewUacValue); the mask may be written either way too.
        const auto mask = parseFlagValue(v.Scalar());
        if (!mask || *mask == 0)
          return fail(Errc::kParse, "invalid value",
                      ctx + ": bitand takes a non-zero integer mask, not '" + v.Scalar() + "'");
        c.matchers.push_back(ValueMatcher::bitAnd(*mask));
      } else if (m.numeric) {
        double d = 0;
        const std::string& t = v.Scalar();
        auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
        if (ec != std::errc() || p != t.data() + t.size())
          return fail(Errc::kParse, "invalid value", ctx + ": '" + t + "' is not a number");
        c.matchers.push_back(ValueMatcher::numeric(*m.numeric, d));
      } else {
        auto st = addStrings(ctx, m, v.Scalar(), keywords, c.matchers);
        if (!st.ok()) return st.error();
      }
      if (c.all) c.group_ends.push_back(static_cast<uint32_t>(c.matchers.size()));
      (void)before;
      total_values_ += c.matchers.size() - before;
      if (total_values_ > opt_.limits.max_values_per_rule)
        return fail(
            Errc::kLimit, "limit exceeded",
            "more than " + std::to_string(opt_.limits.max_values_per_rule) + " values in the rule");
    }
    return c;
  }

  Status addStrings(const std::string& ctx, const Modifiers& m, const std::string& raw,
                    bool keywords, std::vector<ValueMatcher>& out) {
    std::vector<SigmaString> vals{SigmaString::parse(raw)};
    if (m.expand) {
      for (size_t p = raw.find('%'); p != std::string::npos;) {
        const size_t q = raw.find('%', p + 1);
        if (q == std::string::npos) break;
        used_placeholders_.insert(raw.substr(p + 1, q - p - 1));
        p = raw.find('%', q + 1);
      }
      Error err;
      bool empty_list = false;
      vals = expandPlaceholders(vals[0], opt_, err, empty_list);
      // A placeholder configured with no values adds no value: the condition cannot match
      // through it (and a filter built on it excludes nothing).
      if (vals.empty() && !empty_list) return makeError(err.code, err.message + " (" + ctx + ")");
    }
    for (const auto& t : m.transforms) {
      std::vector<SigmaString> next;
      for (const auto& s : vals) {
        if (t == "windash") {
          auto w = sigma::windash(s, opt_.limits.max_windash_dashes);
          next.insert(next.end(), w.begin(), w.end());
        } else if (t == "utf16le" || t == "wide") {
          next.push_back(sigma::toUtf16(s, false, false));
        } else if (t == "utf16be") {
          next.push_back(sigma::toUtf16(s, true, false));
        } else if (t == "utf16") {
          next.push_back(sigma::toUtf16(s, false, true));
        } else {
          if (s.hasWildcards())
            return fail(Errc::kUnsupported, "invalid value",
                        ctx + ": " + t + " cannot encode a value with wildcards");
          if (t == "base64") {
            next.push_back(SigmaString::literal(sigma::base64Encode(s.text)));
          } else {  // base64offset: the three alignments, without the edge characters that
                    // depend on neighbouring bytes
            static constexpr size_t kStart[3] = {0, 2, 3};
            static constexpr size_t kEndTrim[3] = {0, 3, 2};
            for (size_t i = 0; i < 3; ++i) {
              const std::string enc = sigma::base64Encode(std::string(i, ' ') + s.text);
              const size_t trim = kEndTrim[(s.text.size() + i) % 3];
              if (enc.size() < kStart[i] + trim) continue;
              next.push_back(
                  SigmaString::literal(enc.substr(kStart[i], enc.size() - kStart[i] - trim)));
            }
          }
        }
        if (next.size() > opt_.limits.max_values_per_rule)
          return fail(Errc::kLimit, "limit exceeded", ctx + ": value expansion too large");
      }
      vals = std::move(next);
    }
    for (auto& s : vals) {
      if (m.contains || keywords) {
        s.prependStar();
        s.appendStar();
      } else if (m.startswith) {
        s.appendStar();
      } else if (m.endswith) {
        s.prependStar();
      }
      out.push_back(ValueMatcher::fromString(s, m.cased));
    }
    return {};
  }

  const FieldMapping* fields_;
  const RuleCompileOptions& opt_;
  size_t total_values_ = 0;
  std::set<std::string> used_placeholders_;
};

std::vector<std::string> stringList(const YAML::Node& n) {
  std::vector<std::string> out;
  if (!n) return out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
  } else if (n.IsSequence()) {
    for (const auto& v : n)
      if (v.IsScalar()) out.push_back(v.Scalar());
  }
  return out;
}

}  // namespace

Result<Detection> compileDetection(const YAML::Node& detection, const FieldMapping* fields,
                                   const RuleCompileOptions& options) {
  try {
    DetectionCompiler c(fields, options);
    return c.compile(detection);
  } catch (const std::exception& e) {
    return fail(Errc::kParse, "malformed rule", e.what());
  }
}

RuleCompileResult compileRule(const RuleDoc& doc, const RuleCompileOptions& options) {
  RuleCompileResult r;
  r.issue.file = doc.file;
  r.issue.rule_id = doc.id;
  auto reject = [&](const std::string& kind, const std::string& msg) {
    r.issue.kind = kind;
    r.issue.message = msg;
    return r;
  };
  try {
    const YAML::Node& n = *doc.node;
    CompiledRule rule;
    RuleInfo& info = rule.info;
    info.file = doc.file;
    info.id = doc.id;
    info.name = scalarOr(n["name"]);
    info.title = scalarOr(n["title"]);
    info.status = scalarOr(n["status"]);
    info.level = scalarOr(n["level"]);
    info.description = scalarOr(n["description"]);
    info.author = scalarOr(n["author"]);
    info.tags = stringList(n["tags"]);
    info.falsepositives = stringList(n["falsepositives"]);
    info.fields = stringList(n["fields"]);
    if (info.title.empty()) return reject("malformed rule", "missing 'title'");
    if (n["id"] && !n["id"].IsScalar()) return reject("malformed rule", "'id' must be a string");
    if (!info.level.empty()) {
      static const std::set<std::string> kLevels = {"informational", "low", "medium", "high",
                                                    "critical"};
      if (!kLevels.count(info.level))
        return reject("malformed rule", "unknown level '" + info.level + "'");
    }
    const YAML::Node ls = n["logsource"];
    if (!ls || !ls.IsMap()) return reject("malformed rule", "missing 'logsource' map");
    info.logsource.product = scalarOr(ls["product"]);
    info.logsource.category = scalarOr(ls["category"]);
    info.logsource.service = scalarOr(ls["service"]);
    if (!n["detection"]) return reject("malformed rule", "missing 'detection'");

    auto targets = resolveLogSource(info.logsource);
    if (!targets.ok()) {
      r.out_of_scope = targets.error().code == Errc::kUnsupported;
      return reject(r.out_of_scope ? "out of scope" : "unknown logsource", targets.error().message);
    }
    for (auto& t : *targets) {
      auto det = compileDetection(n["detection"], t.fields, options);
      if (!det.ok()) {
        const std::string& msg = det.error().message;
        const size_t colon = msg.find(": ");
        return reject(msg.substr(0, colon),
                      colon == std::string::npos ? msg : msg.substr(colon + 2));
      }
      RuleVariant v;
      v.target = std::move(t);
      v.detection = std::move(det.value());
      const auto det_ids = v.detection.requiredEventIds();
      if (v.target.event_ids.empty()) {
        v.event_ids = det_ids;
      } else if (det_ids.empty()) {
        v.event_ids = v.target.event_ids;
      } else {
        for (uint32_t id : v.target.event_ids)
          if (std::find(det_ids.begin(), det_ids.end(), id) != det_ids.end())
            v.event_ids.push_back(id);
        if (v.event_ids.empty()) continue;  // this variant can never match
      }
      rule.variants.push_back(std::move(v));
    }
    if (rule.variants.empty())
      return reject("invalid condition",
                    "the detection's EventIDs contradict the logsource's EventIDs");
    r.rule = std::move(rule);
    return r;
  } catch (const std::exception& e) {
    return reject("malformed rule", e.what());
  }
}

}  // namespace t0w
