#include "common/zlib/zlib_codec.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

namespace t0w {
namespace {

// windowBits: 15 = zlib wrapper, 15 + 16 = gzip wrapper.
int windowBits(ZFormat format) { return format == ZFormat::kGzip ? 15 + 16 : 15; }

const char* formatName(ZFormat format) { return format == ZFormat::kGzip ? "gzip" : "zlib"; }

constexpr size_t kMaxChunkIn = std::numeric_limits<uInt>::max();

}  // namespace

Result<std::string> zCompress(std::string_view data, ZFormat format, int level) {
  z_stream zs{};
  if (deflateInit2(&zs, std::clamp(level, 0, 9), Z_DEFLATED, windowBits(format), 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return makeError(Errc::kInternal, std::string(formatName(format)) + ": deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(std::min(data.size(), kMaxChunkIn))) + 64);
  size_t in_pos = 0;
  size_t out_pos = 0;
  int rc = Z_OK;
  do {
    const size_t in_chunk = std::min(data.size() - in_pos, kMaxChunkIn);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + in_pos));
    zs.avail_in = static_cast<uInt>(in_chunk);
    const bool last = in_pos + in_chunk == data.size();
    do {
      if (out_pos == out.size()) out.resize(out.size() * 2);
      zs.next_out = reinterpret_cast<Bytef*>(out.data() + out_pos);
      zs.avail_out = static_cast<uInt>(std::min(out.size() - out_pos, kMaxChunkIn));
      const uInt before = zs.avail_out;
      rc = deflate(&zs, last ? Z_FINISH : Z_NO_FLUSH);
      out_pos += before - zs.avail_out;
    } while (zs.avail_out == 0 || (last && rc == Z_OK));
    in_pos += in_chunk;
  } while (in_pos < data.size());
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    return makeError(Errc::kInternal, std::string(formatName(format)) + ": deflate failed");
  }
  out.resize(out_pos);
  return out;
}

Result<std::string> zDecompress(std::string_view data, ZFormat format, size_t max_output) {
  const std::string name = formatName(format);
  if (data.size() > kMaxChunkIn) {
    return makeError(Errc::kLimit, name + ": compressed input of " + std::to_string(data.size()) +
                                       " bytes is too large");
  }
  z_stream zs{};
  if (inflateInit2(&zs, windowBits(format)) != Z_OK) {
    return makeError(Errc::kInternal, name + ": inflateInit2 failed");
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  out.resize(std::min<size_t>(std::max<size_t>(data.size() * 4, 4096), max_output + 1));
  size_t out_pos = 0;
  int rc = Z_OK;
  for (;;) {
    if (out_pos == out.size()) {
      if (out.size() > max_output) break;  // one byte past the limit: over it
      out.resize(std::min(out.size() * 2, max_output + 1));
    }
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + out_pos);
    zs.avail_out = static_cast<uInt>(std::min(out.size() - out_pos, kMaxChunkIn));
    const uInt before = zs.avail_out;
    rc = inflate(&zs, Z_NO_FLUSH);
    out_pos += before - zs.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // input ended before the stream did
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
  }
  const size_t trailing = zs.avail_in;
  inflateEnd(&zs);
  if (out_pos > max_output) {
    return makeError(Errc::kLimit, name + ": decompressed size exceeds the limit of " +
                                       std::to_string(max_output) + " bytes");
  }
  if (rc != Z_STREAM_END) {
    return makeError(Errc::kCorrupt,
                     name + ": damaged or truncated stream (zlib code " + std::to_string(rc) + ")");
  }
  if (trailing != 0) {
    return makeError(Errc::kCorrupt,
                     name + ": " + std::to_string(trailing) + " bytes after the end of the stream");
  }
  out.resize(out_pos);
  return out;
}

}  // namespace t0w
