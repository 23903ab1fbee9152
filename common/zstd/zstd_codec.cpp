#include "common/zstd/zstd_codec.h"

#include <zstd.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace t0w {
namespace {

// Contexts are reused: making one per chunk would cost more than compressing a small chunk.
// They live in a process-wide pool, not in thread_local objects: under mingw-w64's emulated TLS
// a thread_local's destructor can run after its storage is freed, and the agent crashed at the
// exit of a shipping thread under Wine (ZSTD_freeCCtx called through freed memory).
template <typename Ctx, Ctx* (*Create)(), size_t (*Free)(Ctx*)>
class ContextPool {
 public:
  class Lease {
   public:
    Lease(ContextPool& pool, Ctx* ctx) : pool_(pool), ctx_(ctx) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (ctx_ != nullptr) pool_.give(ctx_);
    }
    Ctx* get() const { return ctx_; }

   private:
    ContextPool& pool_;
    Ctx* ctx_;
  };

  // Never destroyed: a thread still compressing during static destruction keeps a valid pool.
  static ContextPool& instance() {
    static auto* pool = new ContextPool;
    return *pool;
  }

  Lease take() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        Ctx* c = idle_.back();
        idle_.pop_back();
        return Lease(*this, c);
      }
    }
    return Lease(*this, Create());
  }

 private:
  // More idle contexts than this are freed: a burst of threads does not pin their memory.
  static constexpr size_t kMaxIdle = 8;

  void give(Ctx* c) {
    {
      std::lock_guard lock(mu_);
      if (idle_.size() < kMaxIdle) {
        idle_.push_back(c);
        return;
      }
    }
    Free(c);
  }

  std::mutex mu_;
  std::vector<Ctx*> idle_;
};

using CCtxPool = ContextPool<ZSTD_CCtx, &ZSTD_createCCtx, &ZSTD_freeCCtx>;
using DCtxPool = ContextPool<ZSTD_DCtx, &ZSTD_createDCtx, &ZSTD_freeDCtx>;

Error zstdError(Errc code, std::string_view what, size_t rc) {
  return makeError(code, "zstd: " + std::string(what) + ": " + ZSTD_getErrorName(rc));
}

// The sum of the content sizes all frames declare; nullopt when one does not, or the input is not
// a clean run of whole frames (the decoder then says what is wrong).
std::optional<unsigned long long> declaredSize(std::string_view data) {
  unsigned long long total = 0;
  while (!data.empty()) {
    const unsigned long long size = ZSTD_getFrameContentSize(data.data(), data.size());
    const size_t frame = ZSTD_findFrameCompressedSize(data.data(), data.size());
    if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR || ZSTD_isError(frame) ||
        frame > data.size() || total + size < total) {
      return std::nullopt;
    }
    total += size;
    data.remove_prefix(frame);
  }
  return total;
}

}  // namespace

Status zstdAppendFrame(std::string& out, std::string_view data, int level) {
  const auto lease = CCtxPool::instance().take();
  ZSTD_CCtx* c = lease.get();
  if (c == nullptr) return makeError(Errc::kInternal, "zstd: cannot allocate a context");
  ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
  const int lvl = std::clamp(level, ZSTD_minCLevel(), ZSTD_maxCLevel());
  if (size_t rc = ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, lvl); ZSTD_isError(rc)) {
    return zstdError(Errc::kInternal, "level", rc);
  }
  if (lvl <= 1) {
    // zstd's fast levels hash into 2^14 entries for inputs this size; 2^12 (16 KiB, within L1)
    // compresses a chunk of event JSON 10-15 % faster for the same ratio (15.75 against 15.76).
    ZSTD_CCtx_setParameter(c, ZSTD_c_hashLog, 12);
  }
  ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
  ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1);
  // Into an uninitialised buffer, then only the frame's bytes into `out`: growing `out` by the
  // bound zero-filled it first (a chunk's bound is its raw size, about 1 MiB, and its frame a
  // tenth of that), which with the page faults of fresh memory cost more than the copy.
  const size_t bound = ZSTD_compressBound(data.size());
  const std::unique_ptr<char[]> frame(new char[bound]);
  const size_t rc = ZSTD_compress2(c, frame.get(), bound, data.data(), data.size());
  if (ZSTD_isError(rc)) return zstdError(Errc::kInternal, "compress", rc);
  out.append(frame.get(), rc);
  return {};
}

Result<std::string> zstdCompress(std::string_view data, int level) {
  std::string out;
  if (Status s = zstdAppendFrame(out, data, level); !s) return s.error();
  return out;
}

namespace {

// Decodes every frame of `data`. With `keep`, the output accumulates there; without, it passes
// through a small scratch buffer and only its size is counted (checking a stored chunk's
// checksum needs no copy of its content). Returns the decoded size.
Result<size_t> decodeFrames(std::string_view data, size_t max_output, std::string* keep) {
  if (data.empty()) return makeError(Errc::kCorrupt, "zstd: empty input");
  const auto lease = DCtxPool::instance().take();
  ZSTD_DCtx* d = lease.get();
  if (d == nullptr) return makeError(Errc::kInternal, "zstd: cannot allocate a context");
  ZSTD_DCtx_reset(d, ZSTD_reset_session_and_parameters);
  // A hostile frame may ask for a huge window; the wire and the queue never need more than 8 MiB.
  ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, 23);
  std::string scratch;
  std::string& out = keep != nullptr ? *keep : scratch;
  if (keep != nullptr) {
    // Frames that declare their sizes (ours do: a wire body is a header frame, chunk frames and
    // a trailer frame) let the first allocation be the right one; only for a plausible ratio,
    // so that a few hostile bytes declaring a huge size cannot make the collector allocate up
    // to its limit at once (then the buffer grows with what really decodes).
    size_t initial = std::max<size_t>(data.size() * 4, 4096);
    if (auto declared = declaredSize(data);
        declared && *declared <= std::max<unsigned long long>(data.size() * 256ull, 1ull << 20)) {
      initial = static_cast<size_t>(std::min<unsigned long long>(*declared, max_output)) + 1;
    }
    out.resize(std::min(initial, max_output + 1));
  } else {
    out.resize(ZSTD_DStreamOutSize());
  }
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  size_t out_pos = 0;  // in `out`
  size_t total = 0;    // decoded so far, `out_pos` included
  size_t rc = 0;
  while (in.pos < in.size || rc != 0) {
    if (out_pos == out.size()) {
      if (total > max_output) break;
      if (keep != nullptr) {
        out.resize(std::min(out.size() * 2, max_output + 1));
      } else {
        out_pos = 0;  // counted already: the scratch is reused
      }
    }
    ZSTD_outBuffer ob{out.data(), out.size(), out_pos};
    const size_t before_in = in.pos;
    rc = ZSTD_decompressStream(d, &ob, &in);
    total += ob.pos - out_pos;
    out_pos = ob.pos;
    if (ZSTD_isError(rc)) return zstdError(Errc::kCorrupt, "damaged stream", rc);
    // No progress with input left and room to write: the stream is cut short.
    if (in.pos == before_in && ob.pos < ob.size && in.pos == in.size && rc != 0) break;
  }
  if (total > max_output) {
    return makeError(Errc::kLimit, "zstd: decompressed size exceeds the limit of " +
                                       std::to_string(max_output) + " bytes");
  }
  if (rc != 0) return makeError(Errc::kCorrupt, "zstd: truncated stream (a frame is cut short)");
  if (keep != nullptr) out.resize(out_pos);
  return total;
}

}  // namespace

Result<std::string> zstdDecompress(std::string_view data, size_t max_output) {
  std::string out;
  auto size = decodeFrames(data, max_output, &out);
  if (!size) return size.error();
  return out;
}

Result<size_t> zstdDecodedSize(std::string_view data, size_t max_output) {
  return decodeFrames(data, max_output, nullptr);
}

bool isZstdFrame(std::string_view data) {
  return data.size() >= 4 && static_cast<unsigned char>(data[0]) == 0x28 &&
         static_cast<unsigned char>(data[1]) == 0xB5 &&
         static_cast<unsigned char>(data[2]) == 0x2F && static_cast<unsigned char>(data[3]) == 0xFD;
}

}  // namespace t0w
