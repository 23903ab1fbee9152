#include "collectors/eventlog/xml_file_collector.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace t0w {
namespace {

enum class Encoding { kUtf8, kUtf16Le, kUtf16Be };

void appendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | cp >> 6));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | cp >> 12));
    out.push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | cp >> 18));
    out.push_back(static_cast<char>(0x80 | (cp >> 12 & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

constexpr uint32_t kReplacement = 0xFFFD;

// Converts UTF-16 to UTF-8 across chunk boundaries (a code unit or a surrogate pair may be
// split between reads). Records the file offset of every '<' so that element offsets can be
// reported in file bytes, which differ from UTF-8 positions.
class Utf16Decoder {
 public:
  explicit Utf16Decoder(bool big_endian) : big_endian_(big_endian) {}

  // `file_offset` is the file position of data[0].
  void feed(const unsigned char* data, size_t size, uint64_t file_offset, std::string& out,
            uint64_t out_base, std::deque<std::pair<uint64_t, uint64_t>>& lt_marks) {
    size_t i = 0;
    if (has_odd_) {  // complete the code unit split across reads
      if (size == 0) return;
      unit(pair(odd_, data[0]), file_offset - 1, out, out_base, lt_marks);
      has_odd_ = false;
      i = 1;
    }
    for (; i + 1 < size; i += 2) {
      unit(pair(data[i], data[i + 1]), file_offset + i, out, out_base, lt_marks);
    }
    if (i < size) {
      odd_ = data[i];
      has_odd_ = true;
    }
  }

  void finish(std::string& out) {
    if (high_) appendUtf8(out, kReplacement);
    high_ = 0;
    if (has_odd_) appendUtf8(out, kReplacement);
    has_odd_ = false;
  }

 private:
  uint16_t pair(unsigned char a, unsigned char b) const {
    return big_endian_ ? static_cast<uint16_t>(a << 8 | b) : static_cast<uint16_t>(b << 8 | a);
  }

  void unit(uint16_t u, uint64_t offset, std::string& out, uint64_t out_base,
            std::deque<std::pair<uint64_t, uint64_t>>& lt_marks) {
    if (u >= 0xD800 && u <= 0xDBFF) {
      if (high_) appendUtf8(out, kReplacement);  // unpaired high surrogate
      high_ = u;
      return;
    }
    if (u >= 0xDC00 && u <= 0xDFFF) {
      if (high_) {
        appendUtf8(out, 0x10000 + ((uint32_t{high_} - 0xD800) << 10) + (u - 0xDC00));
        high_ = 0;
      } else {
        appendUtf8(out, kReplacement);  // unpaired low surrogate
      }
      return;
    }
    if (high_) {
      appendUtf8(out, kReplacement);
      high_ = 0;
    }
    if (u == '<') lt_marks.emplace_back(out_base + out.size(), offset);
    appendUtf8(out, u);
  }

  bool big_endian_;
  uint16_t high_ = 0;
  unsigned char odd_ = 0;
  bool has_odd_ = false;
};

// Finds <Event> elements in a UTF-8 stream fed in pieces. A small lexer, not an XML parser:
// it knows just enough (comments, CDATA, processing instructions, declarations, quoted
// attribute values) to never mistake text for a tag, counts nested <Event> elements, and
// hands each complete top-level element to the parser.
class ElementSplitter {
 public:
  struct Handler {
    virtual ~Handler() = default;
    // The element's bytes (parsed in place, so mutable); `offset` is its file offset.
    virtual void onElement(char* data, size_t size, uint64_t offset) = 0;
    virtual void onProblem(uint64_t offset, Error error) = 0;
    // Offered each <Event> element outside any other before it is lexed: `data` holds its
    // bytes from its '<' on, and maybe what follows (`size` bytes in all). A handler that can
    // take the element whole from them delivers it and returns its length, sparing a second
    // pass over its bytes; 0 leaves it to the lexer and onElement().
    virtual size_t onElementStart(const char* data, size_t size, uint64_t offset) = 0;
  };

  ElementSplitter(const XmlParseLimits& limits, Handler& handler)
      : limits_(limits), handler_(handler) {}

  std::string& buffer() { return buf_; }
  uint64_t bufferBase() const { return base_; }
  // File offset of a '<' at a UTF-8 stream position: the position plus `offset_bias` (the
  // BOM), or map_offset's answer when set (UTF-16 input, where the two differ).
  uint64_t offset_bias = 0;
  std::function<uint64_t(uint64_t)> map_offset;

  // Lexes everything appended to buffer() since the last call.
  void process(const std::atomic<bool>& stop) {
    while (pos_ < buf_.size() && !stop.load(std::memory_order_relaxed)) step();
    if (elem_active_ && !skipping_ && base_ + buf_.size() - elem_start_ > limits_.max_event_bytes) {
      handler_.onProblem(
          elem_file_, makeError(Errc::kLimit,
                                "<Event> element is larger than the "
                                "limit of " +
                                    std::to_string(limits_.max_event_bytes) + " bytes; skipped"));
      skipping_ = true;
    }
    compact();
  }

  // End of input: reports an element cut off by the end of the file.
  void finish() {
    if (elem_active_ && !skipping_) {
      handler_.onProblem(elem_file_, makeError(Errc::kParse,
                                               "file ends inside this <Event> element "
                                               "(truncated)"));
    }
    elem_active_ = false;
  }

  uint64_t elements() const { return elements_; }

 private:
  enum class State { kText, kTagOpen, kTagName, kInTag, kBang, kComment, kCData, kPI, kDecl };

  void step() {
    const char c = buf_[pos_];
    switch (state_) {
      case State::kText: {
        const void* lt = std::memchr(buf_.data() + pos_, '<', buf_.size() - pos_);
        if (!lt) {
          pos_ = buf_.size();
          return;
        }
        pos_ = static_cast<size_t>(static_cast<const char*>(lt) - buf_.data());
        tag_start_ = base_ + pos_;
        tag_file_ = map_offset ? map_offset(tag_start_) : tag_start_ + offset_bias;
        if (depth_ == 0 && offerElement()) return;
        ++pos_;
        state_ = State::kTagOpen;
        if (pos_ == buf_.size()) return;
        // A tag goes from state to state without returning to process() while its bytes are
        // in the buffer: each return costs more than the work of most states.
        [[fallthrough]];
      }
      case State::kTagOpen: {
        const char open = buf_[pos_];  // not `c`: this state may be reached by fall-through
        name_.clear();
        name_too_long_ = false;
        is_close_ = false;
        if (open == '/') {
          is_close_ = true;
          ++pos_;
        } else if (open == '!') {
          ++pos_;
          state_ = State::kBang;
          return;
        } else if (open == '?') {
          ++pos_;
          prev_ = 0;
          state_ = State::kPI;
          return;
        }
        state_ = State::kTagName;
        if (pos_ == buf_.size()) return;
        [[fallthrough]];
      }
      case State::kTagName: {
        // Most of the input is tags: their names and attributes are scanned in tight loops
        // here rather than one step() per byte.
        const size_t end = buf_.size();
        size_t i = pos_;
        while (i < end && !kNameEnd[static_cast<unsigned char>(buf_[i])]) ++i;
        std::string_view name;
        if (i < end && name_.empty()) {  // the whole name in this read: no copy
          name = std::string_view(buf_).substr(pos_, i - pos_);
          if (name.size() > kMaxName) name_too_long_ = true;
        } else {
          const size_t room = kMaxName - name_.size();
          if (i - pos_ > room) name_too_long_ = true;
          name_.append(buf_, pos_, std::min(i - pos_, room));
          name = name_;
        }
        pos_ = i;
        if (i == end) return;  // the name goes on in the next read
        tagNameDone(name);
        state_ = State::kInTag;
        quote_ = 0;
        last_slash_ = false;
        [[fallthrough]];  // the terminator is handled in kInTag
      }
      case State::kInTag: {
        const char* const data = buf_.data();
        const size_t end = buf_.size();
        size_t i = pos_;
        while (i < end) {
          if (quote_) {  // an attribute value: straight to its closing quote
            const void* q = std::memchr(data + i, quote_, end - i);
            if (!q) {
              i = end;
              break;
            }
            i = static_cast<size_t>(static_cast<const char*>(q) - data) + 1;
            quote_ = 0;
            continue;
          }
          const char ch = data[i++];
          if (ch == '"' || ch == '\'') {
            quote_ = ch;
            last_slash_ = false;
          } else if (ch == '>') {
            pos_ = i;
            state_ = State::kText;
            tagDone();
            return;
          } else {
            last_slash_ = ch == '/';
          }
        }
        pos_ = i;
        return;
      }
      case State::kBang:
        // Decide between "<!--", "<![CDATA[" and a declaration ("<!DOCTYPE", "<!ENTITY").
        name_.push_back(c);
        ++pos_;
        if (name_ == "--") {
          state_ = State::kComment;
          dashes_ = 0;
        } else if (name_ == "[CDATA[") {
          state_ = State::kCData;
          dashes_ = 0;
        } else if (std::string_view("--").substr(0, name_.size()) != name_ &&
                   std::string_view("[CDATA[").substr(0, name_.size()) != name_) {
          state_ = State::kDecl;
          quote_ = 0;
          brackets_ = 0;
          for (char x : name_) {
            if (x == '[') ++brackets_;
          }
          if (c == '>' && brackets_ == 0) declDone();
        }
        return;
      case State::kComment:
      case State::kCData: {
        const char closer = state_ == State::kComment ? '-' : ']';
        ++pos_;
        if (c == '>' && dashes_ >= 2) {
          state_ = State::kText;
        } else {
          dashes_ = c == closer ? dashes_ + 1 : 0;
        }
        return;
      }
      case State::kPI:
        ++pos_;
        if (c == '>' && prev_ == '?') state_ = State::kText;
        prev_ = c;
        return;
      case State::kDecl:
        ++pos_;
        if (name_.size() < kMaxName) name_.push_back(c);
        if (quote_) {
          if (c == quote_) quote_ = 0;
        } else if (c == '"' || c == '\'') {
          quote_ = c;
        } else if (c == '[') {
          ++brackets_;
        } else if (c == ']') {
          --brackets_;
        } else if (c == '>' && brackets_ <= 0) {
          declDone();
        }
        return;
    }
  }

  // Bytes that end a tag name.
  static constexpr std::array<bool, 256> kNameEnd = [] {
    std::array<bool, 256> t{};
    for (unsigned char c : {' ', '\t', '\r', '\n', '>', '/'}) t[c] = true;
    return t;
  }();

  // At a '<' (pos_) outside any element: offers the element it opens, if it is an <Event>
  // by the rules of tagNameDone(), to the handler. True when the handler took it.
  bool offerElement() {
    const char* const tag = buf_.data() + pos_;
    const size_t size = buf_.size() - pos_;
    const size_t name_end = std::min(size, kMaxName + 2);  // a longer name is no <Event>
    size_t i = 1;
    while (i < name_end && !kNameEnd[static_cast<unsigned char>(tag[i])]) ++i;
    if (i == name_end || !isEventName(std::string_view(tag + 1, i - 1))) return false;
    const size_t taken = handler_.onElementStart(tag, size, tag_file_);
    if (taken == 0) return false;
    pos_ += taken;
    ++elements_;
    return true;
  }

  // "Event" after the last ':', if any.
  static bool isEventName(std::string_view name) {
    constexpr std::string_view kEvent = "Event";
    if (name.size() < kEvent.size() || name.substr(name.size() - kEvent.size()) != kEvent) {
      return false;
    }
    return name.size() == kEvent.size() || name[name.size() - kEvent.size() - 1] == ':';
  }

  void tagNameDone(std::string_view name) {
    tag_is_event_ = !name_too_long_ && isEventName(name);
    if (tag_is_event_ && !is_close_) {
      if (depth_ == 0) {
        elem_active_ = true;
        skipping_ = false;
        elem_start_ = tag_start_;
        elem_file_ = tag_file_;
      }
      ++depth_;
    }
  }

  void tagDone() {
    if (!tag_is_event_) return;
    if (is_close_ || last_slash_) {  // "</Event>" or a self-closing "<Event/>"
      if (depth_ == 0) return;       // a stray end tag outside any element
      if (--depth_ == 0 && elem_active_) {
        elem_active_ = false;
        ++elements_;
        if (skipping_) {
          skipping_ = false;  // already reported as too large
        } else {
          const size_t begin = static_cast<size_t>(elem_start_ - base_);
          handler_.onElement(buf_.data() + begin, pos_ - begin, elem_file_);
        }
      }
    }
  }

  void declDone() {
    state_ = State::kText;
    if (depth_ > 0) return;  // inside an element the parser rejects it with the element
    const bool doctype = name_.rfind("DOCTYPE", 0) == 0;
    handler_.onProblem(tag_file_, makeError(Errc::kParse, doctype ? "DOCTYPE not allowed; ignored"
                                                                  : "markup declaration not "
                                                                    "allowed; ignored"));
  }

  // Drops bytes no longer needed: everything before the current element, or before a tag
  // whose name is still being read (it may turn out to start an element).
  void compact() {
    uint64_t keep = base_ + pos_;
    if (elem_active_ && !skipping_) {
      keep = elem_start_;
    } else if (state_ == State::kTagOpen || state_ == State::kTagName) {
      keep = tag_start_;
    }
    const size_t drop = static_cast<size_t>(keep - base_);
    if (drop == 0) return;
    buf_.erase(0, drop);
    base_ += drop;
    pos_ -= drop;
  }

  static constexpr size_t kMaxName = 256;

  const XmlParseLimits& limits_;
  Handler& handler_;
  std::string buf_;
  uint64_t base_ = 0;  // stream position of buf_[0]
  size_t pos_ = 0;     // next byte to lex in buf_
  State state_ = State::kText;
  std::string name_;
  bool name_too_long_ = false;
  bool is_close_ = false;
  bool tag_is_event_ = false;
  bool last_slash_ = false;
  char quote_ = 0;
  char prev_ = 0;
  int dashes_ = 0;
  int brackets_ = 0;
  uint64_t tag_start_ = 0;
  uint64_t tag_file_ = 0;
  size_t depth_ = 0;  // open <Event> elements
  bool elem_active_ = false;
  bool skipping_ = false;
  uint64_t elem_start_ = 0;
  uint64_t elem_file_ = 0;
  uint64_t elements_ = 0;
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

class Delivery : public ElementSplitter::Handler {
 public:
  Delivery(const std::string& source, const XmlParseLimits& limits, EventSink& sink,
           SourceSummary& summary)
      : source_(source), parser_(limits), sink_(sink), summary_(summary) {}

  void onElement(char* data, size_t size, uint64_t offset) override {
    deliver(parser_.parseInPlace(data, size, event_), offset);
  }

  size_t onElementStart(const char* data, size_t size, uint64_t offset) override {
    const size_t taken = parser_.scanElement(std::string_view(data, size));
    if (taken != 0) deliver(parser_.parseScanned(event_), offset);
    return taken;
  }

  void onProblem(uint64_t offset, Error error) override {
    error.message = source_ + ": offset " + std::to_string(offset) + ": " + error.message;
    ++summary_.errors;
    sink_.onError(InputError{source_, offset, std::move(error)});
  }

 private:
  void deliver(const Status& st, uint64_t offset) {
    if (!st) {
      onProblem(offset, st.error());
      return;
    }
    event_.origin.source = source_;
    event_.origin.position = offset;
    ++summary_.records;
    // A sink that keeps the event takes it; one that only reads it leaves its storage to the
    // next event (the parser clears it first either way).
    sink_.onEvent(std::move(event_));
  }

  const std::string& source_;
  EventXmlParser parser_;
  Event event_;  // refilled for every element
  EventSink& sink_;
  SourceSummary& summary_;
};

}  // namespace

XmlFileCollector::XmlFileCollector(std::filesystem::path path, XmlParseLimits limits)
    : path_(std::move(path)), name_(path_.string()), limits_(limits) {}

SourceSummary XmlFileCollector::run(EventSink& sink) {
  SourceSummary summary;
  Delivery delivery(name_, limits_, sink, summary);

  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(name_.c_str(), "rb"));
  if (!file) {
    delivery.onProblem(0,
                       makeError(Errc::kIo, std::string("cannot open: ") + std::strerror(errno)));
    return summary;
  }

  std::vector<unsigned char> chunk(std::max<size_t>(chunk_bytes_, 4));
  ElementSplitter splitter(limits_, delivery);
  std::deque<std::pair<uint64_t, uint64_t>> lt_marks;  // UTF-16 only: (UTF-8 pos, file offset)
  std::unique_ptr<Utf16Decoder> utf16;
  uint64_t bom_bytes = 0;
  uint64_t file_offset = 0;  // of the next byte read
  bool first = true;

  // UTF-8: a '<' is at its stream position plus the BOM (offset_bias, set below).
  const auto utf16_offset = [&](uint64_t utf8_pos) -> uint64_t {
    while (!lt_marks.empty() && lt_marks.front().first < utf8_pos) lt_marks.pop_front();
    return lt_marks.empty() ? file_offset : lt_marks.front().second;
  };

  for (;;) {
    if (stop_.load(std::memory_order_relaxed)) return summary;
    // UTF-8 after the first read (which detects the encoding) goes straight into the
    // splitter's buffer: no copy of every byte from `chunk`.
    std::string& buf = splitter.buffer();
    const bool direct = !first && !utf16;
    const size_t held = buf.size();
    if (direct) buf.resize(held + chunk_bytes_);
    unsigned char* const target =
        direct ? reinterpret_cast<unsigned char*>(buf.data() + held) : chunk.data();
    size_t n = std::fread(target, 1, chunk_bytes_, file.get());
    if (direct) buf.resize(held + n);
    if (first) {
      // Encoding detection needs the first bytes even when the chunk size is tiny.
      while (n < 4 && !std::feof(file.get()) && !std::ferror(file.get())) {
        n += std::fread(chunk.data() + n, 1, 4 - n, file.get());
      }
    }
    if (n == 0 && std::ferror(file.get())) {
      delivery.onProblem(file_offset,
                         makeError(Errc::kIo, std::string("read failed: ") + std::strerror(errno)));
      return summary;
    }
    const unsigned char* data = target;
    if (first) {
      first = false;
      if (n == 0) {
        delivery.onProblem(0, makeError(Errc::kParse, "empty file: no <Event> element"));
        return summary;
      }
      Encoding enc = Encoding::kUtf8;
      if (n >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF) {
        bom_bytes = 3;
      } else if (n >= 2 && data[0] == 0xFF && data[1] == 0xFE) {
        enc = Encoding::kUtf16Le;
        bom_bytes = 2;
      } else if (n >= 2 && data[0] == 0xFE && data[1] == 0xFF) {
        enc = Encoding::kUtf16Be;
        bom_bytes = 2;
      } else if (n >= 2 && data[0] != 0 && data[1] == 0) {
        enc = Encoding::kUtf16Le;  // XML text never holds NUL bytes in UTF-8
      } else if (n >= 2 && data[0] == 0 && data[1] != 0) {
        enc = Encoding::kUtf16Be;
      }
      if (enc != Encoding::kUtf8) {
        utf16 = std::make_unique<Utf16Decoder>(enc == Encoding::kUtf16Be);
        splitter.map_offset = utf16_offset;
      } else {
        splitter.offset_bias = bom_bytes;
      }
      data += bom_bytes;
      n -= bom_bytes;
      file_offset = bom_bytes;
    }
    if (n == 0 && std::feof(file.get())) break;
    if (utf16) {
      utf16->feed(data, n, file_offset, buf, splitter.bufferBase(), lt_marks);
    } else if (!direct) {
      buf.append(reinterpret_cast<const char*>(data), n);
    }
    file_offset += n;
    splitter.process(stop_);
    if (std::feof(file.get())) break;
  }
  if (utf16) utf16->finish(splitter.buffer());
  splitter.process(stop_);
  splitter.finish();
  if (splitter.elements() == 0 && summary.errors == 0) {
    delivery.onProblem(0, makeError(Errc::kParse, "no <Event> element found"));
  }
  return summary;
}

}  // namespace t0w
