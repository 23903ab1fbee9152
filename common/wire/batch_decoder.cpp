#include "common/wire/batch_decoder.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iterator>

#include "common/core/agent_id.h"
#include "common/core/time.h"
#include "common/zlib/zlib_codec.h"
#include "common/zstd/zstd_codec.h"

namespace t0w {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kSchemaExpected =
    "schema is not \"tier0watch.batch/3\", \"tier0watch.batch/2\" or \"tier0watch.batch/1\"";

Error batchError(std::string_view what) {
  return makeError(Errc::kParse, "batch: " + std::string(what));
}

// 1, 2 or 3; 0 for any other schema string.
int schemaVersion(std::string_view schema) {
  if (schema == kBatchSchemaV3) return 3;
  if (schema == kBatchSchemaV2) return 2;
  if (schema == kBatchSchemaV1) return 1;
  return 0;
}

std::optional<RecordKind> kindByName(std::string_view name) {
  if (name == "event") return RecordKind::kEvent;
  if (name == "alert") return RecordKind::kAlert;
  if (name == "status") return RecordKind::kStatus;
  return std::nullopt;
}

bool isQueueEpoch(std::string_view s) {
  if (s.size() != 16) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The decoded key "<agent id>|<local key>" of a record (`prefix` is "<agent id>|"), or nullopt
// when the wire key is not what its version requires: v1/v2 the prefixed key with a non-empty
// local part, v3 a non-empty local key (prefixed here, whatever it contains: a v3 key naming
// another agent stays in this agent's key space).
std::optional<std::string> recordKey(int version, const std::string& prefix, std::string_view key) {
  if (version >= 3) {
    if (key.empty()) return std::nullopt;
    std::string out;
    out.reserve(prefix.size() + key.size());
    out += prefix;
    out += key;
    return out;
  }
  if (key.size() <= prefix.size() || key.substr(0, prefix.size()) != prefix) return std::nullopt;
  return std::string(key);
}

const char* keyExpected(int version) {
  return version >= 3 ? "key must be a non-empty string"
                      : "key must start with the agent id and '|'";
}

const Json* member(const Json& obj, const char* name, Json::value_t type) {
  auto it = obj.find(name);
  if (it == obj.end()) return nullptr;
  if (it->type() != type) return nullptr;
  return &*it;
}

}  // namespace

Result<DecodedBatch> parseBatchJson(std::string_view text, const JsonLimits& limits) {
  // Bounded while parsing: nothing below may recurse over a tree deeper than the limit.
  auto parsed = parseBoundedJson(text, limits);
  if (!parsed) {
    if (parsed.error().code == Errc::kLimit) {
      return makeError(Errc::kLimit, "batch: " + parsed.error().message);
    }
    return batchError("not valid JSON: " + parsed.error().message);
  }
  Json& doc = *parsed;
  if (!doc.is_object()) return batchError("document is not an object");
  const Json* schema = member(doc, "schema", Json::value_t::string);
  DecodedBatch out;
  out.version = schema != nullptr ? schemaVersion(schema->get<std::string>()) : 0;
  if (out.version == 0) return batchError(kSchemaExpected);
  const Json* agent = member(doc, "agent", Json::value_t::object);
  if (agent == nullptr) return batchError("missing agent");
  const Json* id = member(*agent, "id", Json::value_t::string);
  const Json* host = member(*agent, "hostname", Json::value_t::string);
  const Json* version = member(*agent, "version", Json::value_t::string);
  if (id == nullptr || host == nullptr || version == nullptr) {
    return batchError("agent needs id, hostname and version strings");
  }
  if (!isValidAgentId(id->get<std::string>())) {
    return batchError("agent id must be " + std::string(kAgentIdRule));
  }
  out.agent = {id->get<std::string>(), host->get<std::string>(), version->get<std::string>()};
  if (out.version >= 2) {
    const Json* epoch = member(doc, "queue_epoch", Json::value_t::string);
    if (epoch == nullptr || !isQueueEpoch(epoch->get<std::string>())) {
      return batchError("queue_epoch must be 16 lower-case hex digits");
    }
    out.queue_epoch = epoch->get<std::string>();
  }
  const Json* batch_id = member(doc, "batch_id", Json::value_t::string);
  if (batch_id == nullptr) return batchError("missing batch_id");
  out.batch_id = batch_id->get<std::string>();
  auto seq = doc.find("sequence");
  if (seq == doc.end() || !seq->is_number_integer()) return batchError("missing sequence");
  out.sequence = seq->get<int64_t>();
  if (out.batch_id != BatchEncoder::batchId(out.agent.id, out.queue_epoch, out.sequence)) {
    return batchError("batch_id " + out.batch_id +
                      " does not match agent id, queue epoch and sequence");
  }
  auto records_it = doc.find("records");
  Json* records = records_it != doc.end() && records_it->is_array() ? &*records_it : nullptr;
  if (records == nullptr) return batchError("missing records");
  const std::string prefix = out.agent.id + "|";
  out.records.reserve(records->size());
  for (size_t i = 0; i < records->size(); ++i) {
    Json& r = (*records)[i];
    const std::string where = "record " + std::to_string(i) + ": ";
    if (!r.is_object()) return batchError(where + "not an object");
    const Json* kind = member(r, "kind", Json::value_t::string);
    const auto k = kind != nullptr ? kindByName(kind->get<std::string>()) : std::nullopt;
    if (!k) return batchError(where + "kind must be event, alert or status");
    const Json* key = member(r, "key", Json::value_t::string);
    auto wire_key =
        key != nullptr ? recordKey(out.version, prefix, key->get<std::string>()) : std::nullopt;
    if (!wire_key) return batchError(where + keyExpected(out.version));
    auto body = r.find("body");
    if (body == r.end() || !body->is_object()) return batchError(where + "body must be an object");
    // Moved, not copied: the document is ours and bodies are most of it.
    DecodedRecord d{*k, std::move(*wire_key), std::nullopt, std::move(*body)};
    if (auto t = r.find("time"); t != r.end()) {
      if (!t->is_string() || !parseFiletime(t->get<std::string>())) {
        return batchError(where + "time must be an ISO 8601 UTC string");
      }
      d.time = t->get<std::string>();
    }
    out.records.push_back(std::move(d));
  }
  return out;
}

Result<DecodedBatch> decodeBatch(std::string_view gzip, size_t max_decompressed,
                                 const JsonLimits& limits) {
  return decodeBatch(gzip, WireEncoding::kGzip, max_decompressed, limits);
}

std::optional<WireEncoding> wireEncodingByName(std::string_view name) {
  if (name == "identity") return WireEncoding::kIdentity;
  if (name == "gzip") return WireEncoding::kGzip;
  if (name == "zstd") return WireEncoding::kZstd;
  return std::nullopt;
}

Result<std::string> decodeWireBody(std::string_view body, WireEncoding encoding,
                                   size_t max_decompressed) {
  Result<std::string> json = std::string();
  switch (encoding) {
    case WireEncoding::kIdentity:
      return std::string(body);
    case WireEncoding::kGzip:
      json = zDecompress(body, ZFormat::kGzip, max_decompressed);
      break;
    case WireEncoding::kZstd:
      json = zstdDecompress(body, max_decompressed);
      break;
  }
  if (!json) {
    // Only the size limit is kLimit; any other failure is damage (a 400, not a 413).
    const Errc code = json.error().code == Errc::kLimit ? Errc::kLimit : Errc::kCorrupt;
    return makeError(code, "batch: " + json.error().message);
  }
  return json;
}

Result<DecodedBatch> decodeBatch(std::string_view body, WireEncoding encoding,
                                 size_t max_decompressed, const JsonLimits& limits) {
  auto json = decodeWireBody(body, encoding, max_decompressed);
  if (!json) return json.error();
  return parseBatchJson(*json, limits);
}

}  // namespace t0w

// ---- One pass, no tree ----------------------------------------------------------------------

namespace t0w {
namespace {

// A char iterator that publishes how far nlohmann's lexer has read, so that the handler knows
// the byte offset of the '{' and '}' it is told about (the lexer reads at most one character
// ahead, and never past a '}' or '{' before reporting it).
class CountingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  CountingIterator(const char* p, const char** read) : p_(p), read_(read) {}
  char operator*() const { return *p_; }
  CountingIterator& operator++() {
    *read_ = ++p_;
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator old = *this;
    ++*this;
    return old;
  }
  bool operator==(const CountingIterator& o) const { return p_ == o.p_; }
  bool operator!=(const CountingIterator& o) const { return p_ != o.p_; }

 private:
  const char* p_;
  const char** read_;
};

// A strict JSON reader (RFC 8259, as nlohmann's lexer reads it: UTF-8 checked, no comments, an
// optional BOM, non-finite numbers refused) that drives a SAX handler in the order nlohmann's
// parser would, each token read whole before the handler hears of it, so that the handler's
// limits trip at the same point. It keeps no token buffer and copies a string only when it has
// escapes. On a syntax error it stops and says so (syntaxError()): the caller then asks nlohmann,
// whose messages (and judgement) stand.
template <typename Handler>
class FastJsonReader {
 public:
  FastJsonReader(std::string_view text, Handler& handler, const char** read)
      : begin_(text.data()),
        p_(text.data()),
        end_(text.data() + text.size()),
        h_(handler),
        read_(read) {}

  // True when the whole text was one valid value and the handler took all of it.
  bool run() {
    if (p_ != end_ && static_cast<unsigned char>(*p_) == 0xEF) {
      if (end_ - p_ < 3 || static_cast<unsigned char>(p_[1]) != 0xBB ||
          static_cast<unsigned char>(p_[2]) != 0xBF) {
        return syntax();
      }
      p_ += 3;
    }
    bool want_value = true;
    for (;;) {
      if (want_value) {
        skipWs();
        if (p_ == end_) return syntax();
        switch (*p_) {
          case '{':
            *read_ = p_ + 1;
            if (!h_.start_object(static_cast<std::size_t>(-1))) return false;
            ++p_;
            skipWs();
            if (p_ != end_ && *p_ == '}') {
              *read_ = p_ + 1;
              if (!h_.end_object()) return false;
              ++p_;
              want_value = false;
              break;
            }
            if (!member()) return false;
            stack_.push_back(true);
            continue;
          case '[':
            *read_ = p_ + 1;
            if (!h_.start_array(static_cast<std::size_t>(-1))) return false;
            ++p_;
            skipWs();
            if (p_ != end_ && *p_ == ']') {
              if (!h_.end_array()) return false;
              ++p_;
              want_value = false;
              break;
            }
            stack_.push_back(false);
            continue;
          case '"': {
            std::string_view s;
            if (!string(s)) return syntax();
            if (!h_.stringValue(s)) return false;
            want_value = false;
            break;
          }
          case 't':
            if (!literal("true") || !h_.boolean(true)) return false;
            want_value = false;
            break;
          case 'f':
            if (!literal("false") || !h_.boolean(false)) return false;
            want_value = false;
            break;
          case 'n':
            if (!literal("null") || !h_.null()) return false;
            want_value = false;
            break;
          default:
            if (!number()) return false;
            want_value = false;
            break;
        }
        continue;
      }
      // After a value.
      if (stack_.empty()) {
        skipWs();
        return p_ == end_ ? true : syntax();
      }
      skipWs();
      if (p_ == end_) return syntax();
      const char c = *p_;
      if (c == ',') {
        ++p_;
        if (stack_.back() && !member()) return false;
        want_value = true;
      } else if (c == (stack_.back() ? '}' : ']')) {
        *read_ = p_ + 1;
        if (!(stack_.back() ? h_.end_object() : h_.end_array())) return false;
        ++p_;
        stack_.pop_back();
      } else {
        return syntax();
      }
    }
  }

  bool syntaxError() const { return syntax_error_; }

 private:
  bool syntax() {
    syntax_error_ = true;
    return false;
  }
  void skipWs() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  // A member's name and its ':'.
  bool member() {
    skipWs();
    if (p_ == end_ || *p_ != '"') return syntax();
    std::string_view k;
    if (!string(k)) return syntax();
    if (!h_.keyValue(k)) return false;
    skipWs();
    if (p_ == end_ || *p_ != ':') return syntax();
    ++p_;
    return true;
  }
  bool literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) {
      return syntax();
    }
    p_ += word.size();
    return true;
  }
  static bool digit(char c) { return c >= '0' && c <= '9'; }
  bool number() {
    const char* start = p_;
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    if (p_ == end_ || !digit(*p_)) return syntax();
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ != end_ && digit(*p_)) ++p_;
    }
    const char* int_end = p_;
    bool is_float = false;
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (p_ == end_ || !digit(*p_)) return syntax();
      while (p_ != end_ && digit(*p_)) ++p_;
      is_float = true;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !digit(*p_)) return syntax();
      while (p_ != end_ && digit(*p_)) ++p_;
      is_float = true;
    }
    if (!is_float) {
      // Integers as nlohmann reads them: int64 when negative, uint64 otherwise, a float when
      // they do not fit.
      uint64_t magnitude = 0;
      bool fits = true;
      for (const char* d = start + (negative ? 1 : 0); d != int_end; ++d) {
        const auto v = static_cast<uint64_t>(*d - '0');
        if (magnitude > (UINT64_MAX - v) / 10) {
          fits = false;
          break;
        }
        magnitude = magnitude * 10 + v;
      }
      if (fits && !negative) return h_.number_unsigned(magnitude);
      if (fits && magnitude <= uint64_t{1} << 63) {
        return h_.number_integer(magnitude == uint64_t{1} << 63 ? INT64_MIN
                                                                : -static_cast<int64_t>(magnitude));
      }
    }
    // nlohmann refuses a number that overflows a double.
    const std::string token(start, p_);
    const double v = std::strtod(token.c_str(), nullptr);
    if (!std::isfinite(v)) return syntax();
    return h_.floatValue();
  }
  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool hex4(uint32_t& out) {
    if (end_ - p_ < 4) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const int v = hex(p_[i]);
      if (v < 0) return false;
      out = out * 16 + static_cast<uint32_t>(v);
    }
    p_ += 4;
    return true;
  }
  void appendUtf8(uint32_t cp) {
    if (cp < 0x80) {
      scratch_ += static_cast<char>(cp);
    } else if (cp < 0x800) {
      scratch_ += static_cast<char>(0xC0 | (cp >> 6));
      scratch_ += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      scratch_ += static_cast<char>(0xE0 | (cp >> 12));
      scratch_ += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      scratch_ += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      scratch_ += static_cast<char>(0xF0 | (cp >> 18));
      scratch_ += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      scratch_ += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      scratch_ += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  // One multi-byte UTF-8 sequence at p_ (well-formed per Unicode table 3-7), or false.
  bool utf8() {
    const auto b = [&](ptrdiff_t i) { return static_cast<unsigned char>(p_[i]); };
    const auto in = [](unsigned char c, unsigned char lo, unsigned char hi) {
      return c >= lo && c <= hi;
    };
    const unsigned char c = b(0);
    const ptrdiff_t left = end_ - p_;
    int n = 0;
    if (in(c, 0xC2, 0xDF)) {
      n = left >= 2 && in(b(1), 0x80, 0xBF) ? 2 : 0;
    } else if (c == 0xE0) {
      n = left >= 3 && in(b(1), 0xA0, 0xBF) && in(b(2), 0x80, 0xBF) ? 3 : 0;
    } else if (in(c, 0xE1, 0xEC) || in(c, 0xEE, 0xEF)) {
      n = left >= 3 && in(b(1), 0x80, 0xBF) && in(b(2), 0x80, 0xBF) ? 3 : 0;
    } else if (c == 0xED) {
      n = left >= 3 && in(b(1), 0x80, 0x9F) && in(b(2), 0x80, 0xBF) ? 3 : 0;
    } else if (c == 0xF0) {
      n = left >= 4 && in(b(1), 0x90, 0xBF) && in(b(2), 0x80, 0xBF) && in(b(3), 0x80, 0xBF) ? 4 : 0;
    } else if (in(c, 0xF1, 0xF3)) {
      n = left >= 4 && in(b(1), 0x80, 0xBF) && in(b(2), 0x80, 0xBF) && in(b(3), 0x80, 0xBF) ? 4 : 0;
    } else if (c == 0xF4) {
      n = left >= 4 && in(b(1), 0x80, 0x8F) && in(b(2), 0x80, 0xBF) && in(b(3), 0x80, 0xBF) ? 4 : 0;
    }
    if (n == 0) return false;
    if (escaped_) scratch_.append(p_, static_cast<size_t>(n));
    p_ += n;
    return true;
  }
  // Whether any of the eight bytes in `w` ends a plain ASCII run: '"', '\\', a control
  // character (< 0x20) or a byte of a multi-byte UTF-8 sequence (>= 0x80).
  static bool special(uint64_t w) {
    constexpr uint64_t kOnes = 0x0101010101010101ull;
    constexpr uint64_t kHigh = 0x8080808080808080ull;
    const auto zero_byte = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
    return ((w | zero_byte(w ^ (kOnes * '"')) | zero_byte(w ^ (kOnes * '\\')) |
             ((w - kOnes * 0x20) & ~w)) &
            kHigh) != 0;
  }
  // A string token at p_ ('"'); `out` is its text, unescaped (a view of the document when it
  // has no escapes, else of scratch_).
  bool string(std::string_view& out) {
    ++p_;
    const char* start = p_;
    escaped_ = false;
    for (;;) {
      // Plain ASCII runs first, eight bytes at a time: most of any event.
      while (end_ - p_ >= 8) {
        uint64_t w = 0;
        std::memcpy(&w, p_, 8);
        if (special(w)) break;
        if (escaped_) scratch_.append(p_, 8);
        p_ += 8;
      }
      while (p_ != end_) {
        const auto c = static_cast<unsigned char>(*p_);
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
        if (escaped_) scratch_ += static_cast<char>(c);
        ++p_;
      }
      if (p_ == end_) return false;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out = escaped_ ? std::string_view(scratch_) : std::string_view(start, p_);
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) {
        if (!utf8()) return false;
        continue;
      }
      // A backslash.
      if (!escaped_) {
        escaped_ = true;
        scratch_.assign(start, p_);
      }
      ++p_;
      if (p_ == end_) return false;
      const char e = *p_++;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          scratch_ += e;
          break;
        case 'b':
          scratch_ += '\b';
          break;
        case 'f':
          scratch_ += '\f';
          break;
        case 'n':
          scratch_ += '\n';
          break;
        case 'r':
          scratch_ += '\r';
          break;
        case 't':
          scratch_ += '\t';
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low = 0;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          appendUtf8(cp);
          break;
        }
        default:
          return false;
      }
    }
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  Handler& h_;
  const char** read_;
  std::vector<bool> stack_;  // open containers: true an object, false an array
  std::string scratch_;
  bool escaped_ = false;
  bool syntax_error_ = false;
};

// What the scan saw of one element of "records" (checked after the pass, in parseBatchJson's
// order, so that the same document gets the same error).
// A string member's text: where it is in the document when the reader saw it there (no escapes),
// else a copy.
struct TextRef {
  bool present = false;
  bool in_document = false;
  size_t offset = 0;
  size_t size = 0;
  std::string copy;

  void set(std::string_view v, const std::string& doc) {
    present = true;
    in_document = v.data() >= doc.data() && v.data() + v.size() <= doc.data() + doc.size();
    if (in_document) {
      offset = static_cast<size_t>(v.data() - doc.data());
      size = v.size();
    } else {
      copy.assign(v);
    }
  }
  std::string_view get(std::string_view doc) const {
    return in_document ? doc.substr(offset, size) : std::string_view(copy);
  }
};

struct RecordScan {
  bool is_object = false;
  std::optional<std::string> kind;
  TextRef key;
  enum class Time : uint8_t { kAbsent, kString, kOther } time_state = Time::kAbsent;
  TextRef time;
  bool body_is_object = false;
  size_t body_begin = 0;
  size_t body_end = 0;
};

class BatchScanner {
 public:
  BatchScanner(const std::string& doc, const JsonLimits& limits, std::span<const BodyPath> paths)
      : doc_(doc), limits_(limits), paths_(paths) {
    for (size_t i = 0; i < paths_.size() && i < 32; ++i) {
      if (!paths_[i].empty()) all_paths_ |= 1u << i;
    }
    stack_.reserve(std::min<size_t>(limits.max_depth, 256) + 1);
  }

  // nlohmann SAX interface.
  bool null() { return scalar(BodyField::Type::kOther); }
  bool boolean(bool) { return scalar(BodyField::Type::kOther); }
  bool number_integer(nlohmann::json::number_integer_t v) { return integer(v); }
  bool number_unsigned(nlohmann::json::number_unsigned_t v) {
    return integer(static_cast<int64_t>(v));
  }
  bool number_float(nlohmann::json::number_float_t, const std::string&) { return floatValue(); }
  bool floatValue() { return scalar(BodyField::Type::kOther); }
  bool string(std::string& v) { return stringValue(v); }
  bool stringValue(std::string_view v) {
    if (!checkString(v) || !count()) return false;
    if (!consumeSlotString(v)) bodyValue(BodyField::Type::kString, &v, 0);
    return true;
  }
  bool binary(nlohmann::json::binary_t&) {
    return fail(Errc::kParse, "binary values are not JSON");
  }
  bool start_object(std::size_t) { return open(true); }
  bool start_array(std::size_t) { return open(false); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(std::string& k) { return keyValue(k); }
  bool keyValue(std::string_view k) {
    if (!checkString(k) || !count()) return false;
    if (stack_.empty()) return true;
    Frame& f = stack_.back();
    slot_ = Slot::kNone;
    pending_ = 0;
    switch (f.ctx) {
      case Ctx::kTop:
        if (k == "schema") {
          slot_ = Slot::kSchema;
          schema_.reset();
        } else if (k == "agent") {
          slot_ = Slot::kAgent;
          agent_is_object_ = false;
          id_.reset();
          host_.reset();
          version_.reset();
        } else if (k == "queue_epoch") {
          slot_ = Slot::kEpoch;
          epoch_.reset();
        } else if (k == "batch_id") {
          slot_ = Slot::kBatchId;
          batch_id_.reset();
        } else if (k == "sequence") {
          slot_ = Slot::kSequence;
          sequence_.reset();
        } else if (k == "records") {
          slot_ = Slot::kRecords;
          records_is_array_ = false;
          records_.clear();
          fields_.clear();
        }
        break;
      case Ctx::kAgent:
        if (k == "id") {
          slot_ = Slot::kAgentId;
          id_.reset();
        } else if (k == "hostname") {
          slot_ = Slot::kAgentHost;
          host_.reset();
        } else if (k == "version") {
          slot_ = Slot::kAgentVersion;
          version_.reset();
        }
        break;
      case Ctx::kRecord: {
        RecordScan& r = records_.back();
        if (k == "kind") {
          slot_ = Slot::kKind;
          r.kind.reset();
        } else if (k == "key") {
          slot_ = Slot::kKey;
          r.key.present = false;
        } else if (k == "time") {
          slot_ = Slot::kTime;
          r.time_state = RecordScan::Time::kOther;
        } else if (k == "body") {
          slot_ = Slot::kBody;
          r.body_is_object = false;
          std::fill_n(fields_.end() - static_cast<std::ptrdiff_t>(paths_.size()), paths_.size(),
                      BodyField{});
        }
        break;
      }
      case Ctx::kBody:
        if (f.mask != 0) {
          for (uint32_t m = f.mask; m != 0; m &= m - 1) {
            const int p = std::countr_zero(m);
            if (paths_[p][f.body_depth] == k) {
              pending_ |= 1u << p;
              // The last member of a name counts: what an earlier one gave is forgotten.
              field(p) = BodyField{};
            }
          }
        }
        break;
      default:
        break;
    }
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    if (!error_) {
      error_ = makeError(Errc::kParse,
                         "byte " + std::to_string(position) + ": " + std::string(e.what()));
    }
    return false;
  }

  const char* read_ = nullptr;  // past the character read last (CountingIterator, FastJsonReader)

  Result<WireBatch> finish(std::string document) &&;
  const std::optional<Error>& error() const { return error_; }
  bool spansOk() const { return spans_ok_; }

 private:
  enum class Ctx : uint8_t { kTop, kAgent, kRecords, kRecord, kBody, kIgnored };
  enum class Slot : uint8_t {
    kNone,
    kSchema,
    kAgent,
    kAgentId,
    kAgentHost,
    kAgentVersion,
    kEpoch,
    kBatchId,
    kSequence,
    kRecords,
    kKind,
    kKey,
    kTime,
    kBody,
  };
  struct Frame {
    Ctx ctx;
    uint32_t mask = 0;        // kBody: the paths still possible below this object
    uint32_t body_depth = 0;  // kBody: 0 for the body itself
  };

  bool fail(Errc code, std::string message) {
    if (!error_) error_ = makeError(code, std::move(message));
    return false;
  }
  bool count() {
    if (++values_ > limits_.max_values) {
      return fail(Errc::kLimit, "more than " + std::to_string(limits_.max_values) + " JSON values");
    }
    return true;
  }
  bool checkString(std::string_view s) {
    if (s.size() > limits_.max_string_bytes) {
      return fail(Errc::kLimit, "a JSON string of " + std::to_string(s.size()) + " bytes (limit " +
                                    std::to_string(limits_.max_string_bytes) + ")");
    }
    return true;
  }
  // The current record's value at path `p`.
  BodyField& field(size_t p) { return fields_[fields_.size() - paths_.size() + p]; }
  // Byte offset of the character the lexer read last.
  size_t lastRead() const { return static_cast<size_t>(read_ - doc_.data()) - 1; }

  // A value arrives in the current frame: which record is it the start of (in "records").
  void elementStart(bool is_object) {
    if (!stack_.empty() && stack_.back().ctx == Ctx::kRecords) {
      records_.emplace_back();
      records_.back().is_object = is_object;
      fields_.resize(fields_.size() + paths_.size());
    }
  }
  // Envelope members that are strings or integers; true when the value was one of them.
  bool consumeSlotString(std::string_view v) {
    elementStart(false);
    const Slot s = slot_;
    slot_ = Slot::kNone;
    switch (s) {
      case Slot::kSchema:
        schema_ = std::string(v);
        return true;
      case Slot::kAgentId:
        id_ = std::string(v);
        return true;
      case Slot::kAgentHost:
        host_ = std::string(v);
        return true;
      case Slot::kAgentVersion:
        version_ = std::string(v);
        return true;
      case Slot::kEpoch:
        epoch_ = std::string(v);
        return true;
      case Slot::kBatchId:
        batch_id_ = std::string(v);
        return true;
      case Slot::kKind:
        records_.back().kind = std::string(v);
        return true;
      case Slot::kKey:
        records_.back().key.set(v, doc_);
        return true;
      case Slot::kTime:
        records_.back().time_state = RecordScan::Time::kString;
        records_.back().time.set(v, doc_);
        return true;
      default:
        return false;
    }
  }
  bool integer(int64_t v) {
    if (!count()) return false;
    elementStart(false);
    if (slot_ == Slot::kSequence) sequence_ = v;
    slot_ = Slot::kNone;
    bodyValue(BodyField::Type::kInteger, nullptr, v);
    return true;
  }
  bool scalar(BodyField::Type type) {
    if (!count()) return false;
    elementStart(false);
    slot_ = Slot::kNone;
    bodyValue(type, nullptr, 0);
    return true;
  }
  // A scalar inside a body: the paths it completes take it.
  void bodyValue(BodyField::Type type, const std::string_view* text, int64_t integer) {
    if (pending_ == 0) return;
    const Frame& f = stack_.back();
    for (uint32_t m = pending_; m != 0; m &= m - 1) {
      const int p = std::countr_zero(m);
      if (paths_[p].size() != f.body_depth + 1) continue;  // a longer path: not an object
      BodyField& field = this->field(p);
      field.type = type;
      if (text != nullptr) field.text = *text;
      field.integer = integer;
    }
    pending_ = 0;
  }

  bool open(bool object) {
    if (stack_.size() >= limits_.max_depth) {
      return fail(Errc::kLimit, "JSON nested deeper than " + std::to_string(limits_.max_depth));
    }
    if (!count()) return false;
    elementStart(object);
    Frame f{Ctx::kIgnored};
    const Slot s = slot_;
    slot_ = Slot::kNone;
    if (stack_.empty()) {
      root_is_object_ = object;
      if (object) f.ctx = Ctx::kTop;
    } else {
      const Frame& parent = stack_.back();
      if (parent.ctx == Ctx::kRecords) {
        if (object) f.ctx = Ctx::kRecord;
      } else if (s == Slot::kAgent) {
        agent_is_object_ = object;
        if (object) f.ctx = Ctx::kAgent;
      } else if (s == Slot::kRecords) {
        records_is_array_ = !object;
        if (!object) f.ctx = Ctx::kRecords;
      } else if (s == Slot::kBody) {
        RecordScan& r = records_.back();
        r.body_is_object = object;
        if (object) {
          f.ctx = Ctx::kBody;
          f.mask = all_paths_;
          r.body_begin = lastRead();
          if (doc_[r.body_begin] != '{') spans_ok_ = false;
        }
      } else if (parent.ctx == Ctx::kBody) {
        // A member of a body that is an object or an array: paths ending here see kOther,
        // longer ones go on below an object.
        uint32_t deeper = 0;
        for (uint32_t m = pending_; m != 0; m &= m - 1) {
          const int p = std::countr_zero(m);
          if (paths_[p].size() == parent.body_depth + 1) {
            field(p).type = BodyField::Type::kOther;
          } else {
            deeper |= 1u << p;
          }
        }
        if (object) {
          f.ctx = Ctx::kBody;
          f.mask = deeper;
          f.body_depth = parent.body_depth + 1;
        }
      }
    }
    pending_ = 0;
    stack_.push_back(f);
    return true;
  }
  bool close() {
    const Frame f = stack_.back();
    stack_.pop_back();
    if (f.ctx == Ctx::kBody && f.body_depth == 0) {
      RecordScan& r = records_.back();
      r.body_end = lastRead() + 1;
      if (doc_[r.body_end - 1] != '}') spans_ok_ = false;
    }
    return true;
  }

  const std::string& doc_;
  const JsonLimits& limits_;
  std::span<const BodyPath> paths_;
  uint32_t all_paths_ = 0;
  std::vector<Frame> stack_;
  Slot slot_ = Slot::kNone;
  uint32_t pending_ = 0;  // body paths the next value may complete or lead to
  size_t values_ = 0;
  std::optional<Error> error_;
  bool spans_ok_ = true;

  bool root_is_object_ = false;
  std::optional<std::string> schema_;
  bool agent_is_object_ = false;
  std::optional<std::string> id_, host_, version_, epoch_, batch_id_;
  std::optional<int64_t> sequence_;
  bool records_is_array_ = false;
  std::vector<RecordScan> records_;
  std::vector<BodyField> fields_;  // paths_.size() per record, in records_' order
};

Result<WireBatch> BatchScanner::finish(std::string document) && {
  if (!root_is_object_) return batchError("document is not an object");
  WireBatch out;
  out.version = schema_ ? schemaVersion(*schema_) : 0;
  if (out.version == 0) return batchError(kSchemaExpected);
  if (!agent_is_object_) return batchError("missing agent");
  if (!id_ || !host_ || !version_)
    return batchError("agent needs id, hostname and version strings");
  if (!isValidAgentId(*id_)) return batchError("agent id must be " + std::string(kAgentIdRule));
  out.agent = {std::move(*id_), std::move(*host_), std::move(*version_)};
  if (out.version >= 2) {
    if (!epoch_ || !isQueueEpoch(*epoch_)) {
      return batchError("queue_epoch must be 16 lower-case hex digits");
    }
    out.queue_epoch = std::move(*epoch_);
  }
  if (!batch_id_) return batchError("missing batch_id");
  out.batch_id = std::move(*batch_id_);
  if (!sequence_) return batchError("missing sequence");
  out.sequence = *sequence_;
  if (out.batch_id != BatchEncoder::batchId(out.agent.id, out.queue_epoch, out.sequence)) {
    return batchError("batch_id " + out.batch_id +
                      " does not match agent id, queue epoch and sequence");
  }
  if (!records_is_array_) return batchError("missing records");
  out.document = std::move(document);  // the bodies are views of it from here on
  const std::string prefix = out.agent.id + "|";
  out.records.reserve(records_.size());
  for (size_t i = 0; i < records_.size(); ++i) {
    RecordScan& r = records_[i];
    auto where = [i] { return "record " + std::to_string(i) + ": "; };
    if (!r.is_object) return batchError(where() + "not an object");
    const auto k = r.kind ? kindByName(*r.kind) : std::nullopt;
    if (!k) return batchError(where() + "kind must be event, alert or status");
    auto wire_key =
        r.key.present ? recordKey(out.version, prefix, r.key.get(out.document)) : std::nullopt;
    if (!wire_key) return batchError(where() + keyExpected(out.version));
    if (!r.body_is_object) return batchError(where() + "body must be an object");
    WireRecord w;
    w.kind = *k;
    w.key = std::move(*wire_key);
    if (r.time_state != RecordScan::Time::kAbsent) {
      const std::string_view time = r.time.get(out.document);
      if (r.time_state != RecordScan::Time::kString || !parseFiletime(time)) {
        return batchError(where() + "time must be an ISO 8601 UTC string");
      }
      w.time = std::string(time);
    }
    w.body = std::string_view(out.document).substr(r.body_begin, r.body_end - r.body_begin);
    out.records.push_back(std::move(w));
  }
  out.fields = std::move(fields_);
  for (size_t i = 0; i < out.records.size(); ++i) {
    out.records[i].fields =
        std::span<const BodyField>(out.fields).subspan(i * paths_.size(), paths_.size());
  }
  return out;
}

// The value at `path` of a tree, read as the scan reads it.
BodyField fieldAt(const Json& body, const BodyPath& path) {
  const Json* cur = &body;
  for (const std::string& k : path) {
    if (!cur->is_object()) return {};
    auto it = cur->find(k);
    if (it == cur->end()) return {};
    cur = &*it;
  }
  BodyField f;
  if (cur->is_string()) {
    f.type = BodyField::Type::kString;
    f.text = cur->get<std::string>();
  } else if (cur->is_number_integer()) {
    f.type = BodyField::Type::kInteger;
    f.integer = cur->get<int64_t>();
  } else {
    f.type = BodyField::Type::kOther;
  }
  return f;
}

}  // namespace

Result<WireBatch> scanBatchJsonWithTree(std::string document, const JsonLimits& limits,
                                        std::span<const BodyPath> paths) {
  auto tree = parseBatchJson(document, limits);
  if (!tree) return tree.error();
  WireBatch out;
  out.version = tree->version;
  out.agent = std::move(tree->agent);
  out.queue_epoch = std::move(tree->queue_epoch);
  out.batch_id = std::move(tree->batch_id);
  out.sequence = tree->sequence;
  out.tree_fallback = true;
  out.reserialised.reserve(tree->records.size());
  for (DecodedRecord& d : tree->records) {
    out.reserialised.push_back(d.body.dump(-1, ' ', false, Json::error_handler_t::replace));
  }
  out.records.reserve(tree->records.size());
  out.fields.reserve(tree->records.size() * paths.size());
  for (size_t i = 0; i < tree->records.size(); ++i) {
    DecodedRecord& d = tree->records[i];
    WireRecord w;
    w.kind = d.kind;
    w.key = std::move(d.key);
    w.time = std::move(d.time);
    w.body = out.reserialised[i];
    for (const BodyPath& p : paths) out.fields.push_back(fieldAt(d.body, p));
    out.records.push_back(std::move(w));
  }
  for (size_t i = 0; i < out.records.size(); ++i) {
    out.records[i].fields =
        std::span<const BodyField>(out.fields).subspan(i * paths.size(), paths.size());
  }
  out.document = std::move(document);
  return out;
}

namespace {

std::atomic<uint64_t> g_handed_to_nlohmann{0};

// The same scan with nlohmann's lexer: the judge of what FastJsonReader calls a syntax error.
Result<WireBatch> scanWithNlohmann(std::string document, const JsonLimits& limits,
                                   std::span<const BodyPath> paths) {
  BatchScanner scanner(document, limits, paths);
  const char* begin = document.data();
  const char* end = begin + document.size();
  scanner.read_ = begin;
  const bool ok = Json::sax_parse(CountingIterator(begin, &scanner.read_),
                                  CountingIterator(end, &scanner.read_), &scanner);
  if (scanner.error()) {
    const Error& e = *scanner.error();
    if (e.code == Errc::kLimit) return makeError(Errc::kLimit, "batch: " + e.message);
    return batchError("not valid JSON: " + e.message);
  }
  if (!ok) return batchError("not valid JSON: not valid JSON");
  // The spans rest on how nlohmann's lexer reads ahead; should that ever change, the batch is
  // decoded through a tree rather than stored wrong.
  if (!scanner.spansOk()) return scanBatchJsonWithTree(std::move(document), limits, paths);
  return std::move(scanner).finish(std::move(document));
}

}  // namespace

Result<WireBatch> scanBatchJson(std::string document, const JsonLimits& limits,
                                std::span<const BodyPath> paths) {
  if (paths.size() > 32) return makeError(Errc::kInvalidArgument, "batch: more than 32 body paths");
  BatchScanner scanner(document, limits, paths);
  FastJsonReader<BatchScanner> reader(document, scanner, &scanner.read_);
  const bool ok = reader.run();
  if (scanner.error()) {
    const Error& e = *scanner.error();
    if (e.code == Errc::kLimit) return makeError(Errc::kLimit, "batch: " + e.message);
    return batchError("not valid JSON: " + e.message);
  }
  // Malformed: nlohmann says why (and, should the two readers ever disagree, decides).
  if (!ok || reader.syntaxError()) {
    g_handed_to_nlohmann.fetch_add(1, std::memory_order_relaxed);
    return scanWithNlohmann(std::move(document), limits, paths);
  }
  if (!scanner.spansOk()) return scanBatchJsonWithTree(std::move(document), limits, paths);
  return std::move(scanner).finish(std::move(document));
}

uint64_t scanDocumentsHandedToNlohmann() {
  return g_handed_to_nlohmann.load(std::memory_order_relaxed);
}

// For the tests: the nlohmann-lexed scan on its own.
Result<WireBatch> scanBatchJsonNlohmann(std::string document, const JsonLimits& limits,
                                        std::span<const BodyPath> paths) {
  if (paths.size() > 32) return makeError(Errc::kInvalidArgument, "batch: more than 32 body paths");
  return scanWithNlohmann(std::move(document), limits, paths);
}

Result<WireBatch> decodeWireBatch(std::string_view body, WireEncoding encoding,
                                  size_t max_decompressed, const JsonLimits& limits,
                                  std::span<const BodyPath> paths) {
  auto json = decodeWireBody(body, encoding, max_decompressed);
  if (!json) return json.error();
  return scanBatchJson(std::move(*json), limits, paths);
}

}  // namespace t0w
