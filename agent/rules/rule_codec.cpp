#include "agent/rules/rule_codec.h"

#include <cstring>
#include <stdexcept>

#include "agent/rules/detection_order.h"

namespace t0w {
namespace {

// Fixed-width little-endian-as-stored numbers (the cache never leaves the machine that wrote it).
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  template <typename T>
  void num(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out_.append(b, sizeof(T));
  }
  void flag(bool b) { num<uint8_t>(b ? 1 : 0); }
  void str(std::string_view s) {
    num<uint32_t>(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  void strs(const std::vector<std::string>& v) {
    num<uint32_t>(static_cast<uint32_t>(v.size()));
    for (const auto& s : v) str(s);
  }
  void u32s(const std::vector<uint32_t>& v) {
    num<uint32_t>(static_cast<uint32_t>(v.size()));
    for (uint32_t x : v) num(x);
  }

 private:
  std::string& out_;
};

struct Damaged : std::runtime_error {
  Damaged() : std::runtime_error("damaged rule cache entry") {}
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  T num() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  bool flag() {
    const auto b = num<uint8_t>();
    if (b > 1) throw Damaged();
    return b == 1;
  }
  std::string str() {
    const auto n = num<uint32_t>();
    need(n);
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  // A count of items that take at least `min_bytes` each: bounded by what is left.
  uint32_t count(size_t min_bytes = 1) {
    const auto n = num<uint32_t>();
    if (n > (in_.size() - pos_) / min_bytes) throw Damaged();
    return n;
  }
  std::vector<std::string> strs() {
    std::vector<std::string> v(count(4));
    for (auto& s : v) s = str();
    return v;
  }
  std::vector<uint32_t> u32s() {
    std::vector<uint32_t> v(count(4));
    for (auto& x : v) x = num<uint32_t>();
    return v;
  }
  template <typename E>
  E enumOf(E last) {
    const auto v = num<uint8_t>();
    if (v > static_cast<uint8_t>(last)) throw Damaged();
    return static_cast<E>(v);
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  void need(size_t n) const {
    if (n > in_.size() - pos_) throw Damaged();
  }
  std::string_view in_;
  size_t pos_ = 0;
};

void putIssue(Writer& w, const RuleIssue& i) {
  w.str(i.file);
  w.str(i.rule_id);
  w.str(i.kind);
  w.str(i.message);
}

RuleIssue getIssue(Reader& r) {
  RuleIssue i;
  i.file = r.str();
  i.rule_id = r.str();
  i.kind = r.str();
  i.message = r.str();
  return i;
}

void putField(Writer& w, const FieldRef& f) {
  w.str(f.sigma_name);
  w.str(f.key.name());
  w.flag(f.system.has_value());
  if (f.system) w.num<uint8_t>(static_cast<uint8_t>(*f.system));
  w.flag(f.data_first);
}

FieldRef getField(Reader& r) {
  FieldRef f;
  f.sigma_name = r.str();
  f.key = FieldKey(r.str());
  if (r.flag()) {
    const auto v = r.num<uint8_t>();
    // Only a name that still maps to that System field is taken back.
    auto sys = systemFieldByName(f.key.name());
    if (!sys || static_cast<uint8_t>(*sys) != v) throw Damaged();
    f.system = sys;
  }
  f.data_first = r.flag();
  return f;
}

void putExpr(Writer& w, const CondExpr& e) {
  w.num<uint8_t>(static_cast<uint8_t>(e.kind));
  w.num<uint32_t>(e.sel);
  w.num<uint32_t>(static_cast<uint32_t>(e.children.size()));
  for (const auto& c : e.children) putExpr(w, c);
}

void getExpr(Reader& r, CondExpr& e, size_t selections, size_t depth) {
  if (depth > 256) throw Damaged();
  e.kind = r.enumOf(CondExpr::Kind::kSel);
  e.sel = r.num<uint32_t>();
  if (e.kind == CondExpr::Kind::kSel && e.sel >= selections) throw Damaged();
  e.children.resize(r.count(9));
  for (auto& c : e.children) getExpr(r, c, selections, depth + 1);
  if (e.kind == CondExpr::Kind::kNot && e.children.size() != 1) throw Damaged();
}

}  // namespace

// Friend of ValueMatcher: its private state in and out.
struct RuleCodecAccess {
  static void put(Writer& w, const ValueMatcher& m) {
    w.num<uint8_t>(static_cast<uint8_t>(m.kind_));
    w.flag(m.cased_);
    w.flag(m.multiline_);
    w.flag(m.dotall_);
    w.str(m.needle_);
    w.num<uint32_t>(static_cast<uint32_t>(m.wild_.size()));
    for (bool b : m.wild_) w.flag(b);
    w.flag(m.cidr_.v6);
    for (uint8_t b : m.cidr_.addr) w.num(b);
    w.num<int32_t>(m.cidr_.prefix);
    w.num<double>(m.number_);
    w.num<uint64_t>(m.mask_);
  }

  static ValueMatcher get(Reader& r, const RuleLimits& limits) {
    ValueMatcher m;
    m.kind_ = r.enumOf(ValueMatcher::Kind::kNull);
    m.cased_ = r.flag();
    m.multiline_ = r.flag();
    m.dotall_ = r.flag();
    m.needle_ = r.str();
    m.wild_.resize(r.count());
    for (size_t i = 0; i < m.wild_.size(); ++i) m.wild_[i] = r.flag();
    if (m.kind_ == ValueMatcher::Kind::kGlob && m.wild_.size() != m.needle_.size()) throw Damaged();
    m.cidr_.v6 = r.flag();
    for (auto& b : m.cidr_.addr) b = r.num<uint8_t>();
    m.cidr_.prefix = r.num<int32_t>();
    if (m.cidr_.prefix < 0 || m.cidr_.prefix > (m.cidr_.v6 ? 128 : 32)) throw Damaged();
    m.number_ = r.num<double>();
    m.mask_ = r.num<uint64_t>();
    if (m.kind_ == ValueMatcher::Kind::kRegex) {
      auto re = ValueMatcher::regex(m.needle_, !m.cased_, m.multiline_, m.dotall_,
                                    limits.max_regex_memory, limits.max_regex_program_size);
      if (!re.ok()) throw Damaged();
      return std::move(re.value());
    }
    return m;
  }
};

namespace {

void putCondition(Writer& w, const FieldCondition& c) {
  w.num<uint8_t>(static_cast<uint8_t>(c.mode));
  putField(w, c.field);
  w.flag(c.all);
  w.flag(c.exists);
  w.num<uint32_t>(static_cast<uint32_t>(c.matchers.size()));
  for (const auto& m : c.matchers) RuleCodecAccess::put(w, m);
  w.u32s(c.group_ends);
  putField(w, c.other);
  w.num<uint8_t>(static_cast<uint8_t>(c.ref_kind));
  w.flag(c.ref_cased);
}

FieldCondition getCondition(Reader& r, const RuleLimits& limits) {
  FieldCondition c;
  c.mode = r.enumOf(FieldCondition::Mode::kFieldRef);
  c.field = getField(r);
  c.all = r.flag();
  c.exists = r.flag();
  c.matchers.reserve(r.count(40));
  const size_t n = c.matchers.capacity();
  for (size_t i = 0; i < n; ++i) c.matchers.push_back(RuleCodecAccess::get(r, limits));
  c.group_ends = r.u32s();
  for (uint32_t end : c.group_ends)
    if (end > c.matchers.size()) throw Damaged();
  c.other = getField(r);
  c.ref_kind = r.enumOf(ValueMatcher::Kind::kNull);
  c.ref_cased = r.flag();
  return c;
}

void putRule(Writer& w, const CompiledRule& rule) {
  const RuleInfo& i = rule.info;
  for (const std::string* s :
       {&i.id, &i.name, &i.title, &i.status, &i.level, &i.description, &i.author, &i.file,
        &i.logsource.product, &i.logsource.category, &i.logsource.service})
    w.str(*s);
  w.strs(i.tags);
  w.strs(i.falsepositives);
  w.strs(i.fields);
  w.num<uint32_t>(static_cast<uint32_t>(rule.variants.size()));
  for (const auto& v : rule.variants) {
    w.str(v.target.name);
    w.strs(v.target.channels);
    w.strs(v.target.providers);
    w.u32s(v.target.event_ids);
    w.u32s(v.event_ids);
    const Detection& d = v.detection;
    w.num<uint32_t>(static_cast<uint32_t>(d.selections.size()));
    for (const auto& s : d.selections) {
      w.str(s.name);
      w.num<uint32_t>(static_cast<uint32_t>(s.alternatives.size()));
      for (const auto& alt : s.alternatives) {
        w.num<uint32_t>(static_cast<uint32_t>(alt.size()));
        for (const auto& c : alt) putCondition(w, c);
      }
    }
    putExpr(w, d.root);
    w.strs(d.placeholders);
  }
}

CompiledRule getRule(Reader& r, const RuleCompileOptions& options) {
  CompiledRule rule;
  RuleInfo& i = rule.info;
  for (std::string* s :
       {&i.id, &i.name, &i.title, &i.status, &i.level, &i.description, &i.author, &i.file,
        &i.logsource.product, &i.logsource.category, &i.logsource.service})
    *s = r.str();
  i.tags = r.strs();
  i.falsepositives = r.strs();
  i.fields = r.strs();
  // The field maps are static tables: found again through the log source, by target name.
  auto targets = resolveLogSource(i.logsource);
  if (!targets.ok()) throw Damaged();
  rule.variants.resize(r.count(20));
  for (auto& v : rule.variants) {
    v.target.name = r.str();
    const LogSourceTarget* known = nullptr;
    for (const auto& t : *targets)
      if (t.name == v.target.name) known = &t;
    if (known == nullptr) throw Damaged();
    v.target.fields = known->fields;
    v.target.channels = r.strs();
    v.target.providers = r.strs();
    v.target.event_ids = r.u32s();
    v.event_ids = r.u32s();
    Detection& d = v.detection;
    d.selections.resize(r.count(8));
    for (auto& s : d.selections) {
      s.name = r.str();
      s.alternatives.resize(r.count(4));
      for (auto& alt : s.alternatives) {
        const uint32_t n = r.count(20);
        alt.reserve(n);
        for (uint32_t k = 0; k < n; ++k) alt.push_back(getCondition(r, options.limits));
      }
    }
    getExpr(r, d.root, d.selections.size(), 0);
    d.placeholders = r.strs();
    if (options.literal_sets) useLiteralSets(d);
  }
  return rule;
}

}  // namespace

void encodeRule(std::string& out, const CompiledRule& rule) {
  Writer w(out);
  w.num<uint8_t>(static_cast<uint8_t>(RuleOutcome::Kind::kRule));
  putRule(w, rule);
}

void encodeIssue(std::string& out, RuleOutcome::Kind kind, const RuleIssue& issue) {
  Writer w(out);
  w.num<uint8_t>(static_cast<uint8_t>(kind));
  putIssue(w, issue);
}

bool decodeOutcomes(std::string_view bytes, const RuleCompileOptions& options,
                    std::vector<RuleOutcome>& out) {
  std::vector<RuleOutcome> got;
  try {
    Reader r(bytes);
    while (!r.done()) {
      RuleOutcome o;
      o.kind = r.enumOf(RuleOutcome::Kind::kRejected);
      if (o.kind == RuleOutcome::Kind::kRule) {
        o.rule = getRule(r, options);
      } else {
        o.issue = getIssue(r);
      }
      got.push_back(std::move(o));
    }
  } catch (const std::exception&) {
    return false;
  }
  for (auto& o : got) out.push_back(std::move(o));
  return true;
}

}  // namespace t0w
