#include "collectors/tracefile/trace_text.h"

#include <cstring>

namespace t0w {

const char* traceEncodingName(TraceEncoding encoding) {
  return encoding == TraceEncoding::kUtf16Le ? "utf-16le" : "utf-8";
}

std::optional<DetectedEncoding> detectEncoding(std::string_view head, bool final) {
  static constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
  static constexpr std::string_view kUtf16Bom = "\xFF\xFE";
  if (head.starts_with(kUtf8Bom)) return DetectedEncoding{TraceEncoding::kUtf8, 3};
  if (head.starts_with(kUtf16Bom)) return DetectedEncoding{TraceEncoding::kUtf16Le, 2};
  if (!final && head.size() < 3 && kUtf8Bom.starts_with(head)) return std::nullopt;
  if (!final && head.size() < 2 && kUtf16Bom.starts_with(head)) return std::nullopt;
  return DetectedEncoding{TraceEncoding::kUtf8, 0};
}

namespace {

void appendCodePoint(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

bool appendUtf16LeAsUtf8(std::string& out, std::string_view s) {
  bool invalid = false;
  const size_t units = s.size() / 2;
  auto unit = [&](size_t k) {
    return static_cast<uint32_t>(static_cast<unsigned char>(s[2 * k])) |
           (static_cast<uint32_t>(static_cast<unsigned char>(s[2 * k + 1])) << 8);
  };
  for (size_t k = 0; k < units; ++k) {
    const uint32_t u = unit(k);
    if (u >= 0xD800 && u <= 0xDBFF && k + 1 < units) {
      const uint32_t lo = unit(k + 1);
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        appendCodePoint(out, 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
        ++k;
        continue;
      }
    }
    if (u >= 0xD800 && u <= 0xDFFF) {
      out += kUtf8Replacement;
      invalid = true;
      continue;
    }
    appendCodePoint(out, u);
  }
  if (s.size() % 2 != 0) {
    out += kUtf8Replacement;
    invalid = true;
  }
  return invalid;
}

TraceLineReader::TraceLineReader(TraceEncoding encoding, uint64_t offset, size_t max_line)
    : encoding_(encoding), max_line_(max_line), offset_(offset), line_start_(offset) {}

size_t TraceLineReader::scan(std::string_view bytes) {
  complete_ = false;
  if (encoding_ == TraceEncoding::kUtf8) {
    const void* nl = std::memchr(bytes.data(), '\n', bytes.size());
    if (nl == nullptr) return bytes.size();
    complete_ = true;
    return static_cast<size_t>(static_cast<const char*>(nl) - bytes.data()) + 1;
  }
  // UTF-16LE: LF is the unit 0A 00 at an even distance from the line start.
  size_t i = 0;
  if (odd_) {
    if (odd_byte_ == '\n' && bytes[0] == '\0') complete_ = true;
    i = 1;
    if (complete_) return 1;
  }
  for (; i + 1 < bytes.size(); i += 2) {
    if (bytes[i] == '\n' && bytes[i + 1] == '\0') {
      complete_ = true;
      return i + 2;
    }
  }
  return bytes.size();
}

void TraceLineReader::append(std::string_view bytes) {
  // Parity of the UTF-16 stream after these bytes.
  if (encoding_ == TraceEncoding::kUtf16Le) {
    const size_t total = (odd_ ? 1 : 0) + bytes.size();
    if (total % 2 == 1) odd_byte_ = bytes.back();
    odd_ = total % 2 == 1;
  }
  raw_total_ += bytes.size();
  if (raw_.size() < max_line_ + 4) {
    const size_t room = max_line_ + 4 - raw_.size();  // +4: the line break fits, kept whole
    raw_.append(bytes.substr(0, room));
  }
}

TraceLine TraceLineReader::takeLine() {
  TraceLine line;
  line.offset = line_start_;
  line.end = offset_;
  const bool utf16 = encoding_ == TraceEncoding::kUtf16Le;
  const size_t unit = utf16 ? 2 : 1;
  uint64_t content = raw_total_;
  // Drop the line feed (and a CR before it) when they are in the kept bytes.
  if (complete_) content -= unit;
  std::string_view kept(raw_.data(), std::min<uint64_t>(raw_.size(), content));
  line.truncated = content > max_line_;
  if (line.truncated) {
    kept = kept.substr(0, max_line_);
    if (utf16) {
      kept = kept.substr(0, kept.size() & ~size_t{1});
      if (kept.size() >= 2) {
        const auto hi = static_cast<unsigned char>(kept[kept.size() - 1]);
        if (hi >= 0xD8 && hi <= 0xDB) kept.remove_suffix(2);  // half a surrogate pair
      }
    } else {
      // Cut at a character boundary: drop a trailing incomplete UTF-8 sequence.
      size_t k = kept.size();
      size_t back = 0;
      while (k > 0 && back < 3 && (static_cast<unsigned char>(kept[k - 1]) & 0xC0) == 0x80) {
        --k;
        ++back;
      }
      if (k > 0 && static_cast<unsigned char>(kept[k - 1]) >= 0xC0) kept = kept.substr(0, k - 1);
    }
  } else {
    if (utf16 && kept.size() >= 2 && kept[kept.size() - 2] == '\r' && kept.back() == '\0') {
      kept.remove_suffix(2);
      --content;
      --content;
    } else if (!utf16 && !kept.empty() && kept.back() == '\r') {
      kept.remove_suffix(1);
      --content;
    }
  }
  line.raw_bytes = content;
  line.text.reserve(kept.size());
  line.invalid = utf16 ? appendUtf16LeAsUtf8(line.text, kept) : appendValidUtf8(line.text, kept);
  raw_.clear();
  raw_total_ = 0;
  odd_ = false;
  complete_ = false;
  line_start_ = offset_;
  return line;
}

std::optional<TraceLine> TraceLineReader::takePartial() {
  if (!hasPartial()) return std::nullopt;
  complete_ = false;
  return takeLine();
}

}  // namespace t0w
