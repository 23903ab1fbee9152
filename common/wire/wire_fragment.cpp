#include "common/wire/wire_fragment.h"

#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/core/time.h"
#include "common/text/json_string.h"

namespace t0w {
namespace {

Error corrupt(size_t at, std::string_view what) {
  return makeError(Errc::kCorrupt,
                   "wire fragment: " + std::string(what) + " at byte " + std::to_string(at));
}

// The fragment is our own output, so the reader expects exactly what the writer writes: literal
// member names in order, a string key, an optional time, the body's length and the body.
class FragmentReader {
 public:
  explicit FragmentReader(std::string_view s) : s_(s) {}

  Result<std::vector<QueueRecord>> read() {
    std::vector<QueueRecord> out;
    if (s_.empty()) return out;
    for (;;) {
      auto r = record();
      if (!r) return r.error();
      out.push_back(std::move(*r));
      if (pos_ == s_.size()) return out;
      if (s_[pos_] != ',') return corrupt(pos_, "expected ',' between records");
      ++pos_;
    }
  }

 private:
  bool literal(std::string_view text) {
    if (s_.substr(pos_, text.size()) != text) return false;
    pos_ += text.size();
    return true;
  }

  // A JSON string token starting at pos_; its end, past the closing quote.
  std::optional<size_t> stringEnd(size_t from) const {
    if (from >= s_.size() || s_[from] != '"') return std::nullopt;
    for (size_t i = from + 1; i < s_.size(); ++i) {
      if (s_[i] == '\\') {
        ++i;
      } else if (s_[i] == '"') {
        return i + 1;
      }
    }
    return std::nullopt;
  }

  Result<std::string> string() {
    const size_t at = pos_;
    auto end = stringEnd(pos_);
    if (!end) return corrupt(at, "unterminated string");
    const std::string_view token = s_.substr(pos_, *end - pos_);
    pos_ = *end;
    if (token.find('\\') == std::string_view::npos) {
      return std::string(token.substr(1, token.size() - 2));
    }
    const auto j = nlohmann::json::parse(token, nullptr, false);
    if (!j.is_string()) return corrupt(at, "malformed string");
    return j.get<std::string>();
  }

  // The body is taken by its length ("len", written just before it), not by parsing it: a
  // body that is not balanced JSON (the queue checks only its shape) cannot shift the records
  // after it.
  Result<std::string> body(size_t len) {
    const size_t at = pos_;
    if (len < 2 || len > s_.size() - pos_ || s_[pos_] != '{' || s_[pos_ + len - 1] != '}') {
      return corrupt(at, "body length " + std::to_string(len) + " does not fit");
    }
    std::string out(s_.substr(pos_, len));
    pos_ += len;
    return out;
  }

  std::optional<size_t> number() {
    size_t v = 0;
    const auto [end, ec] = std::from_chars(s_.data() + pos_, s_.data() + s_.size(), v);
    if (ec != std::errc() || end == s_.data() + pos_) return std::nullopt;
    pos_ = static_cast<size_t>(end - s_.data());
    return v;
  }

  Result<QueueRecord> record() {
    const size_t at = pos_;
    QueueRecord r;
    if (literal("{\"kind\":\"event\"")) {
      r.kind = RecordKind::kEvent;
    } else if (literal("{\"kind\":\"alert\"")) {
      r.kind = RecordKind::kAlert;
    } else if (literal("{\"kind\":\"status\"")) {
      r.kind = RecordKind::kStatus;
    } else {
      return corrupt(at, "expected a record");
    }
    if (!literal(",\"key\":")) return corrupt(pos_, "expected the key");
    auto key = string();
    if (!key) return key.error();
    r.key = std::move(*key);
    if (literal(",\"time\":")) {
      const size_t t_at = pos_;
      auto t = string();
      if (!t) return t.error();
      r.time = parseFiletime(*t);
      if (!r.time) return corrupt(t_at, "malformed time");
    }
    if (!literal(",\"len\":")) return corrupt(pos_, "expected the body's length");
    const size_t len_at = pos_;
    const std::optional<size_t> len = number();
    if (!len) return corrupt(len_at, "malformed body length");
    if (!literal(",\"body\":")) return corrupt(pos_, "expected the body");
    auto b = body(*len);
    if (!b) return b.error();
    r.body = std::move(*b);
    if (!literal("}")) return corrupt(pos_, "expected the end of the record");
    return r;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// 1601-01-01 to 9999-12-31T23:59:59.9999999: what ISO 8601 with four-digit years can say. A time
// outside is left out (the record still ships; the collector treats it as unknown).
constexpr int64_t kMaxWireTicks = 2'650'467'743'999'999'999;

}  // namespace

// The record's head is written into a buffer on the stack and appended once, instead of eleven
// appends; a key that needs escaping, or is longer than this, is escaped straight into `out`.
constexpr size_t kMaxStackKey = 256;

void appendWireRecord(std::string& out, const QueueRecord& r) {
  // {"kind":"status","key":"<key>","time":"<time>","len":<20 digits>,"body":
  char head[kMaxStackKey + kMaxFiletimeText + 80];
  char* w = head;
  const auto put = [&w](std::string_view s) {
    std::memcpy(w, s.data(), s.size());
    w += s.size();
  };
  put("{\"kind\":\"");
  put(recordKindName(r.kind));
  put("\",\"key\":");
  if (r.key.size() <= kMaxStackKey && isVerbatimJsonString(r.key)) {
    *w++ = '"';
    put(r.key);
    *w++ = '"';
  } else {
    out.append(head, static_cast<size_t>(w - head));
    w = head;
    appendJsonString(out, r.key);
  }
  if (r.time && *r.time >= 0 && *r.time <= kMaxWireTicks) {
    put(",\"time\":\"");
    w += writeFiletime(w, *r.time);
    *w++ = '"';
  }
  put(",\"len\":");
  w = std::to_chars(w, w + 20, r.body.size()).ptr;
  put(",\"body\":");
  out.append(head, static_cast<size_t>(w - head));
  out += r.body;
  out += '}';
}

namespace {

const QueueRecord& deref(const QueueRecord& r) { return r; }
const QueueRecord& deref(const QueueRecord* r) { return *r; }

template <typename Records>
std::string encodeFragment(const Records& records) {
  // What appendWireRecord adds around key and body: the field names, quotes and separators
  // (46 bytes), the time (at most 38) and the length (at most 20 digits). An estimate that
  // is short by a byte makes the last append copy the whole fragment into a buffer twice as big.
  constexpr size_t kOverhead = 46 + 38 + 20;
  size_t estimate = 0;
  for (const auto& r : records) estimate += deref(r).key.size() + deref(r).body.size() + kOverhead;
  std::string out;
  out.reserve(estimate);
  for (const auto& r : records) {
    if (!out.empty()) out += ',';
    appendWireRecord(out, deref(r));
  }
  return out;
}

}  // namespace

std::string encodeWireFragment(std::span<const QueueRecord> records) {
  return encodeFragment(records);
}

std::string encodeWireFragment(std::span<const QueueRecord* const> records) {
  return encodeFragment(records);
}

Result<std::vector<QueueRecord>> decodeWireFragment(std::string_view fragment) {
  return FragmentReader(fragment).read();
}

}  // namespace t0w
