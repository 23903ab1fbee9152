// Evaluation of compiled detections against events (FieldCondition, Selection, Detection) and the
// EventIDs a detection requires; compiled_rule.cpp builds the detections.
#include <algorithm>
#include <charconv>
#include <optional>
#include <string_view>
#include <vector>

#include "agent/rules/compiled_rule.h"

namespace t0w {
namespace {

void record(EvalContext& ctx, const std::string& name, std::string_view value) {
  if (ctx.matched) ctx.matched->push_back(MatchedField{name, std::string(value)});
}

}  // namespace

bool FieldCondition::matchesAny(std::string_view value) const {
  if (literals) {
    if (literals->containsAny(value)) return true;
    for (uint32_t i : others)
      if (matchers[i].match(value)) return true;
    return false;
  }
  for (const auto& m : matchers)
    if (m.match(value)) return true;
  return false;
}

bool FieldCondition::evaluate(const Event& event, EvalContext& ctx) const {
  switch (mode) {
    case Mode::kKeywords: {
      // Keywords: anywhere in any data field value.
      if (!all) {
        for (const auto& f : event.fields()) {
          if (matchesAny(f.value)) {
            record(ctx, f.name, f.value);
            return true;
          }
        }
        return false;
      }
      for (const auto& m : matchers) {
        bool hit = false;
        for (const auto& f : event.fields()) {
          if (m.match(f.value)) {
            record(ctx, f.name, f.value);
            hit = true;
            break;
          }
        }
        if (!hit) return false;
      }
      return true;
    }
    case Mode::kExists: {
      bool present = false;
      forEachFieldValueOf(field, event, ctx, [&](std::string_view) { present = true; });
      return present == exists;
    }
    case Mode::kFieldRef: {
      bool has_other = false;
      // The other field's value must outlive the scan of this field's values (System fields are
      // rendered into ctx.buf, which the scan reuses).
      forEachFieldValueOf(other, event, ctx, [&](std::string_view v) {
        if (!has_other) {
          ctx.ref_buf.assign(v);
          has_other = true;
        }
      });
      if (!has_other) return false;
      const std::string_view other_value = ctx.ref_buf;
      bool hit = false;
      forEachFieldValueOf(field, event, ctx, [&](std::string_view v) {
        if (hit) return;
        auto eq = [&](std::string_view a, std::string_view b) {
          if (a.size() != b.size()) return false;
          if (ref_cased) return a == b;
          for (size_t i = 0; i < a.size(); ++i)
            if (foldAscii(a[i]) != foldAscii(b[i])) return false;
          return true;
        };
        switch (ref_kind) {
          case ValueMatcher::Kind::kPrefix:
            hit =
                v.size() >= other_value.size() && eq(v.substr(0, other_value.size()), other_value);
            break;
          case ValueMatcher::Kind::kSuffix:
            hit = v.size() >= other_value.size() &&
                  eq(v.substr(v.size() - other_value.size()), other_value);
            break;
          case ValueMatcher::Kind::kContains: {
            if (ref_cased) {
              hit = v.find(other_value) != std::string_view::npos;
            } else {
              for (size_t i = 0; !hit && i + other_value.size() <= v.size(); ++i)
                hit = eq(v.substr(i, other_value.size()), other_value);
            }
            break;
          }
          default:
            hit = eq(v, other_value);
        }
        if (hit) record(ctx, field.sigma_name, v);
      });
      return hit;
    }
    case Mode::kValues:
      break;
  }
  if (!all) {
    bool hit = false;
    const size_t n = forEachFieldValueOf(field, event, ctx, [&](std::string_view v) {
      if (hit || !matchesAny(v)) return;
      hit = true;
      record(ctx, field.sigma_name, v);
    });
    if (n == 0) {
      for (const auto& m : matchers)
        if (m.matchesAbsent()) return true;
    }
    return hit;
  }
  uint32_t begin = 0;
  for (uint32_t end : group_ends) {
    bool hit = false;
    const size_t n = forEachFieldValueOf(field, event, ctx, [&](std::string_view v) {
      if (hit) return;
      for (uint32_t i = begin; i < end; ++i) {
        if (matchers[i].match(v)) {
          hit = true;
          record(ctx, field.sigma_name, v);
          return;
        }
      }
    });
    if (!hit && n == 0) {
      for (uint32_t i = begin; i < end; ++i)
        if (matchers[i].matchesAbsent()) hit = true;
    }
    if (!hit) return false;
    begin = end;
  }
  return true;
}

bool Selection::evaluate(const Event& event, EvalContext& ctx) const {
  for (const auto& alt : alternatives) {
    const size_t mark = ctx.matched ? ctx.matched->size() : 0;
    bool ok = true;
    for (const auto& c : alt) {
      if (!c.evaluate(event, ctx)) {
        ok = false;
        break;
      }
    }
    if (ok) return true;
    if (ctx.matched) ctx.matched->resize(mark);
  }
  return false;
}

bool Detection::eval(const CondExpr& e, const Event& event, EvalContext& ctx) const {
  switch (e.kind) {
    case CondExpr::Kind::kSel:
      return selections[e.sel].evaluate(event, ctx);
    case CondExpr::Kind::kNot: {
      // Fields under a negation never explain a match: do not record them.
      auto* saved = ctx.matched;
      ctx.matched = nullptr;
      const bool r = !eval(e.children[0], event, ctx);
      ctx.matched = saved;
      return r;
    }
    case CondExpr::Kind::kAnd: {
      const size_t mark = ctx.matched ? ctx.matched->size() : 0;
      for (const auto& c : e.children) {
        if (!eval(c, event, ctx)) {
          if (ctx.matched) ctx.matched->resize(mark);
          return false;
        }
      }
      return true;
    }
    case CondExpr::Kind::kOr:
      for (const auto& c : e.children) {
        if (eval(c, event, ctx)) return true;
      }
      return false;
  }
  return false;
}

bool Detection::evaluate(const Event& event, EvalContext& ctx) const {
  return eval(root, event, ctx);
}

namespace {

std::optional<std::vector<uint32_t>> idsOf(const Detection& d, const CondExpr& e) {
  switch (e.kind) {
    case CondExpr::Kind::kSel: {
      const Selection& s = d.selections[e.sel];
      if (s.alternatives.size() != 1) return std::nullopt;
      for (const auto& c : s.alternatives[0]) {
        if (c.mode != FieldCondition::Mode::kValues || c.all || !c.field.system ||
            *c.field.system != SystemField::kEventId)
          continue;
        std::vector<uint32_t> ids;
        for (const auto& m : c.matchers) {
          if (m.kind() != ValueMatcher::Kind::kExact) return std::nullopt;
          uint32_t id = 0;
          auto [p, ec] =
              std::from_chars(m.needle().data(), m.needle().data() + m.needle().size(), id);
          if (ec != std::errc() || p != m.needle().data() + m.needle().size()) return std::nullopt;
          ids.push_back(id);
        }
        return ids;
      }
      return std::nullopt;
    }
    case CondExpr::Kind::kAnd: {
      std::optional<std::vector<uint32_t>> acc;
      for (const auto& c : e.children) {
        auto ids = idsOf(d, c);
        if (!ids) continue;
        if (!acc) {
          acc = std::move(ids);
        } else {
          std::vector<uint32_t> keep;
          for (uint32_t id : *acc)
            if (std::find(ids->begin(), ids->end(), id) != ids->end()) keep.push_back(id);
          acc = std::move(keep);
        }
      }
      return acc;
    }
    case CondExpr::Kind::kOr: {
      std::vector<uint32_t> all;
      for (const auto& c : e.children) {
        auto ids = idsOf(d, c);
        if (!ids) return std::nullopt;
        all.insert(all.end(), ids->begin(), ids->end());
      }
      return all;
    }
    case CondExpr::Kind::kNot:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::vector<uint32_t> Detection::requiredEventIds() const {
  auto ids = idsOf(*this, root);
  if (!ids) return {};
  std::sort(ids->begin(), ids->end());
  ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
  if (ids->empty()) return {0xFFFFFFFFu};  // contradictory: no EventID can match
  return *ids;
}

}  // namespace t0w
