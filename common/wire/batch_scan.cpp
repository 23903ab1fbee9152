// The collector's one-pass batch scan (scanBatchJson, decodeWireBatch; declared in
// batch_decoder.h): a SAX handler, BatchScanner, that checks the document as parseBatchJson does
// and keeps the envelope, each record's kind, key, time, body span and the requested body fields,
// driven by FastJsonReader (fast_json_reader.h), or by nlohmann's lexer when that reader finds
// the document malformed. The tree (scanBatchJsonWithTree) is the reference and the fallback.
#include <algorithm>
#include <atomic>
#include <bit>

#include "common/core/agent_id.h"
#include "common/core/time.h"
#include "common/wire/batch_checks.h"
#include "common/wire/batch_decoder.h"
#include "common/wire/fast_json_reader.h"

namespace t0w {

using namespace batch_checks;  // the checks shared with the other decoder (batch_checks.h)

namespace {

using Json = nlohmann::json;

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

// What the scan saw of one element of "records" (checked after the pass, in parseBatchJson's
// order, so that the same document gets the same error).
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
