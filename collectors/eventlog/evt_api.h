// EvtApi: the few Windows Event Log (wevtapi) calls the event sources make, behind an interface
// so that the read loop, bookmark and gap logic run in tests with a scripted double (Wine only
// stubs the Event Log API). One implementation calls wevtapi.dll (evt_api_windows.cpp, WIN32).
// The header is portable: handles are opaque numbers and errors are Win32 codes.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace t0w {

// Win32 codes the read loop tells apart (values of winerror.h; the Windows implementation
// checks them at compile time).
namespace evt_errc {
inline constexpr uint32_t kOk = 0;
inline constexpr uint32_t kFileNotFound = 2;
inline constexpr uint32_t kAccessDenied = 5;
inline constexpr uint32_t kInvalidParameter = 87;
inline constexpr uint32_t kCallNotImplemented = 120;
inline constexpr uint32_t kNoMoreItems = 259;
inline constexpr uint32_t kNotFound = 1168;  // EvtSubscribeStrict: the bookmarked event is gone
inline constexpr uint32_t kTimeout = 1460;
inline constexpr uint32_t kInvalidChannelPath = 15000;
inline constexpr uint32_t kInvalidQuery = 15001;
inline constexpr uint32_t kChannelNotFound = 15007;
inline constexpr uint32_t kQueryResultStale = 15011;            // log cleared or rolled over
inline constexpr uint32_t kQueryResultInvalidPosition = 15012;  // cursor points nowhere valid
}  // namespace evt_errc

class EvtApi {
 public:
  using Handle = uint64_t;  // 0: no handle
  static constexpr Handle kNoHandle = 0;

  // EVT_SUBSCRIBE_FLAGS.
  enum SubscribeFlags : uint32_t {
    kToFutureEvents = 1,
    kStartAtOldestRecord = 2,
    kStartAfterBookmark = 3,
    kStrict = 0x10000,
  };

  enum class Wait { kSignalled, kTimeout, kInterrupted };

  virtual ~EvtApi() = default;

  // EvtCreateBookmark: from a rendered bookmark, or a new empty one when `xml` is empty.
  virtual uint32_t createBookmark(std::string_view xml, Handle& out) = 0;
  // EvtSubscribe (pull model) on the local machine with a signal event the implementation owns.
  virtual uint32_t subscribe(std::string_view channel, std::string_view query, Handle bookmark,
                             uint32_t flags, Handle& out) = 0;
  // Blocks until the subscription's signal event is set, the timeout passes, or interrupt().
  virtual Wait waitForEvents(Handle subscription, std::chrono::milliseconds timeout) = 0;
  // Wakes every waitForEvents (now or the next one) with kInterrupted; safe from any thread.
  virtual void interrupt() = 0;
  // EvtNext: up to `max` event handles (appended to `out`); kNoMoreItems when none are left.
  virtual uint32_t next(Handle results, uint32_t max, std::chrono::milliseconds timeout,
                        std::vector<Handle>& out) = 0;
  // EvtRender(EvtRenderEventXml) / EvtRender(EvtRenderBookmark), converted to UTF-8.
  virtual uint32_t renderEventXml(Handle event, std::string& utf8) = 0;
  virtual uint32_t renderBookmark(Handle bookmark, std::string& utf8) = 0;
  virtual uint32_t updateBookmark(Handle bookmark, Handle event) = 0;
  // EvtOpenLog(EvtOpenChannelPath) + EvtGetLogInfo(EvtLogOldestRecordNumber). An empty channel
  // has no oldest record: `out` is 0 then.
  virtual uint32_t oldestRecordNumber(std::string_view channel, uint64_t& out) = 0;
  // EvtQuery(NULL, path, query, EvtQueryFilePath | EvtQueryForwardDirection).
  virtual uint32_t queryFile(std::string_view path, std::string_view query, Handle& out) = 0;
  // EvtClose; closing kNoHandle does nothing.
  virtual void close(Handle h) = 0;
  // "Access is denied. (Win32 error 5)".
  virtual std::string errorText(uint32_t code) const = 0;
};

// Closes a handle on scope exit.
class EvtHandle {
 public:
  EvtHandle() = default;
  EvtHandle(EvtApi& api, EvtApi::Handle h) : api_(&api), h_(h) {}
  ~EvtHandle() { reset(); }
  EvtHandle(EvtHandle&& o) noexcept : api_(o.api_), h_(o.h_) { o.h_ = EvtApi::kNoHandle; }
  EvtHandle& operator=(EvtHandle&& o) noexcept {
    if (this != &o) {
      reset();
      api_ = o.api_;
      h_ = o.h_;
      o.h_ = EvtApi::kNoHandle;
    }
    return *this;
  }
  EvtHandle(const EvtHandle&) = delete;
  EvtHandle& operator=(const EvtHandle&) = delete;

  EvtApi::Handle get() const { return h_; }
  explicit operator bool() const { return h_ != EvtApi::kNoHandle; }
  void reset() {
    if (api_ != nullptr && h_ != EvtApi::kNoHandle) api_->close(h_);
    h_ = EvtApi::kNoHandle;
  }

 private:
  EvtApi* api_ = nullptr;
  EvtApi::Handle h_ = EvtApi::kNoHandle;
};

#ifdef _WIN32
// The wevtapi.dll implementation (collectors/eventlog/evt_api_windows.cpp).
std::unique_ptr<EvtApi> makeWindowsEvtApi();
#endif

}  // namespace t0w
