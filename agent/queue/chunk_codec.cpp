#include "agent/queue/chunk_codec.h"

#include <zlib.h>

#include <cstring>

#include "common/text/utf8.h"
#include "common/wire/wire_fragment.h"
#include "common/zlib/zlib_codec.h"
#include "common/zstd/zstd_codec.h"

namespace t0w {
namespace {

constexpr char kFormatV1 = 1;

void putVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ == data_.size(); }
  bool byte(uint8_t& b) {
    if (pos_ >= data_.size()) return false;
    b = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }
  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b = 0;
      if (!byte(b)) return false;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool bytes(size_t n, std::string& out) {
    if (data_.size() - pos_ < n) return false;
    out.assign(data_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool fixed64(int64_t& v) {
    if (data_.size() - pos_ < 8) return false;
    uint64_t u = 0;
    for (int i = 0; i < 8; ++i)
      u |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    pos_ += 8;
    v = static_cast<int64_t>(u);
    return true;
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

}  // namespace

Status validateRecord(const QueueRecord& record) {
  if (record.key.empty()) return makeError(Errc::kInvalidArgument, "record without a key");
  // The wire carries keys as JSON strings; a key that is not UTF-8 would reach the collector
  // changed, and two such keys could become one.
  if (!isValidUtf8(record.key)) {
    std::string shown;
    appendValidUtf8(shown, record.key);
    return makeError(Errc::kInvalidArgument, "record " + shown + ": key is not UTF-8");
  }
  const std::string_view b = record.body;
  if (b.size() < 2 || b.front() != '{' || b.back() != '}') {
    return makeError(Errc::kInvalidArgument,
                     "record " + record.key + ": body is not a JSON object");
  }
  if (b.find('\n') != std::string_view::npos) {
    return makeError(Errc::kInvalidArgument, "record " + record.key + ": body spans lines");
  }
  return {};
}

namespace {

Result<EncodedChunk> compressFragment(const std::string& fragment, size_t count, int level) {
  auto z = zstdCompress(fragment, level);
  if (!z) return z.error();
  return EncodedChunk{std::move(*z), fragment.size(), count};
}

}  // namespace

Result<EncodedChunk> encodeChunk(std::span<const QueueRecord> records, int level) {
  return compressFragment(encodeWireFragment(records), records.size(), level);
}

Result<EncodedChunk> encodeChunk(std::span<const QueueRecord* const> records, int level) {
  return compressFragment(encodeWireFragment(records), records.size(), level);
}

Result<EncodedChunk> encodeChunkV1(std::span<const QueueRecord> records, int level) {
  std::string raw;
  size_t estimate = 1;
  for (const auto& r : records) estimate += r.key.size() + r.body.size() + 24;
  raw.reserve(estimate);
  raw.push_back(kFormatV1);
  for (const auto& r : records) {
    raw.push_back(static_cast<char>(r.kind));
    putVarint(raw, r.key.size());
    raw += r.key;
    raw.push_back(r.time ? 1 : 0);
    if (r.time) {
      const auto u = static_cast<uint64_t>(*r.time);
      for (int i = 0; i < 8; ++i) raw.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
    }
    putVarint(raw, r.body.size());
    raw += r.body;
  }
  auto z = zCompress(raw, ZFormat::kZlib, level);
  if (!z) return z.error();
  return EncodedChunk{std::move(*z), raw.size(), records.size()};
}

bool isWireChunk(std::string_view payload) { return isZstdFrame(payload); }

uint32_t payloadChecksum(std::string_view payload) {
  return static_cast<uint32_t>(
      crc32_z(0, reinterpret_cast<const Bytef*>(payload.data()), payload.size()));
}

Status verifyWireChunk(std::string_view payload, size_t raw_bytes) {
  auto size = zstdDecodedSize(payload, raw_bytes);
  if (!size) return size.error();
  if (*size != raw_bytes) {
    return makeError(Errc::kCorrupt, "chunk: " + std::to_string(*size) +
                                         " bytes decoded, the row says " +
                                         std::to_string(raw_bytes));
  }
  return {};
}

Result<std::vector<QueueRecord>> decodeChunk(std::string_view payload, size_t max_raw) {
  if (isWireChunk(payload)) {
    auto fragment = zstdDecompress(payload, max_raw);
    if (!fragment) return fragment.error();
    return decodeWireFragment(*fragment);
  }
  auto raw = zDecompress(payload, ZFormat::kZlib, max_raw);
  if (!raw) return raw.error();
  Reader in(*raw);
  uint8_t format = 0;
  if (!in.byte(format) || format != kFormatV1) {
    return makeError(Errc::kCorrupt, "chunk: unknown format byte " + std::to_string(format));
  }
  std::vector<QueueRecord> out;
  while (!in.done()) {
    const size_t at = in.pos();
    QueueRecord r;
    uint8_t kind = 0;
    uint8_t has_time = 0;
    uint64_t len = 0;
    bool ok = in.byte(kind) && kind <= static_cast<uint8_t>(RecordKind::kStatus) &&
              in.varint(len) && in.bytes(len, r.key) && in.byte(has_time) && has_time <= 1;
    if (ok && has_time == 1) {
      int64_t t = 0;
      ok = in.fixed64(t);
      r.time = t;
    }
    ok = ok && in.varint(len) && in.bytes(len, r.body);
    if (!ok) {
      return makeError(Errc::kCorrupt,
                       "chunk: malformed record frame at byte " + std::to_string(at));
    }
    r.kind = static_cast<RecordKind>(kind);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace t0w
