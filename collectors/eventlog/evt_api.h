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
inline constexpr uint32_t kInvalidHandle = 6;  // a handle of a restarted Event Log service
inline constexpr uint32_t kInvalidParameter = 87;
inline constexpr uint32_t kCallNotImplemented = 120;
inline constexpr uint32_t kNoMoreItems = 259;
inline constexpr uint32_t kInsufficientBuffer = 122;
inline constexpr uint32_t kNotFound = 1168;  // EvtSubscribeStrict: the bookmarked event is gone
inline constexpr uint32_t kTimeout = 1460;
inline constexpr uint32_t kRpcServerUnavailable = 1722;  // Event Log service stopped/restarting
inline constexpr uint32_t kRpcCallFailed = 1726;
inline constexpr uint32_t kRpcInvalidBound = 1734;  // EvtNext: the batch is too large for RPC
inline constexpr uint32_t kRpcEndpointNotRegistered = 1753;
inline constexpr uint32_t kInvalidChannelPath = 15000;
inline constexpr uint32_t kInvalidQuery = 15001;
inline constexpr uint32_t kChannelNotFound = 15007;
inline constexpr uint32_t kQueryResultStale = 15011;            // log cleared or rolled over
inline constexpr uint32_t kQueryResultInvalidPosition = 15012;  // cursor points nowhere valid
inline constexpr uint32_t kPublisherMetadataNotFound = 15002;
inline constexpr uint32_t kMessageNotFound = 15027;
inline constexpr uint32_t kMessageIdNotFound = 15028;
inline constexpr uint32_t kUnresolvedValueInsert = 15029;  // the message is formatted partially
inline constexpr uint32_t kMessageLocaleNotFound = 15033;
inline constexpr uint32_t kPublisherDisabled = 15037;
}  // namespace evt_errc

// EvtGetLogInfo of a channel (EVT_LOG_PROPERTY_ID). oldest_record is 0 when the log is empty.
struct EvtLogInfo {
  uint64_t oldest_record = 0;  // EvtLogOldestRecordNumber
  uint64_t record_count = 0;   // EvtLogNumberOfLogRecords
  uint64_t file_size = 0;      // EvtLogFileSize, bytes
  bool full = false;           // EvtLogFull: a sequential log that cannot take another event
  // Record id of the newest record, assuming ids are consecutive within the file.
  uint64_t newestRecord() const { return record_count == 0 ? 0 : oldest_record + record_count - 1; }
};

// EvtOpenChannelConfig + EvtGetChannelConfigProperty (EVT_CHANNEL_CONFIG_PROPERTY_ID).
struct EvtChannelConfig {
  bool enabled = true;       // EvtChannelConfigEnabled
  bool retention = false;    // EvtChannelLoggingConfigRetention: true = never overwrite
  bool auto_backup = false;  // EvtChannelLoggingConfigAutoBackup: archive when full
  uint64_t max_size = 0;     // EvtChannelLoggingConfigMaxSize, bytes
};

// A bounded read of a channel's history (EvtQuery over a structured XML query): the records the
// XPath selects with first_record <= EventRecordID <= last_record and, when from_filetime is not
// 0, TimeCreated >= from_filetime (FILETIME, 100 ns since 1601).
struct EvtHistoryRange {
  uint64_t first_record = 0;
  uint64_t last_record = 0;
  int64_t from_filetime = 0;
};

// The structured query of a history read: <QueryList><Query><Select Path=channel>xpath</Select>
// <Suppress Path=channel>outside the range</Suppress></Query></QueryList>. Suppress keeps the
// configured XPath as it is (no rewriting of an expression we did not write).
std::string historyQueryXml(std::string_view channel, std::string_view xpath,
                            const EvtHistoryRange& range);

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
  // EvtSeek(results, 1, bookmark, 0, EvtSeekRelativeToBookmark | EvtSeekStrict): the next
  // EvtNext returns the event after the bookmarked one.
  virtual uint32_t seekAfterBookmark(Handle results, Handle bookmark) {
    (void)results;
    (void)bookmark;
    return evt_errc::kCallNotImplemented;
  }
  // EvtQuery(NULL, NULL, historyQueryXml(...), EvtQueryChannelPath | EvtQueryForwardDirection).
  virtual uint32_t queryHistory(std::string_view channel, std::string_view xpath,
                                const EvtHistoryRange& range, Handle& out) {
    (void)channel;
    (void)xpath;
    (void)range;
    (void)out;
    return evt_errc::kCallNotImplemented;
  }
  // EvtOpenLog(EvtOpenChannelPath) + EvtGetLogInfo of each EvtLogInfo field.
  virtual uint32_t logInfo(std::string_view channel, EvtLogInfo& out) {
    (void)channel;
    (void)out;
    return evt_errc::kCallNotImplemented;
  }
  // EvtOpenChannelConfig + EvtGetChannelConfigProperty; kChannelNotFound when it does not exist.
  virtual uint32_t channelConfig(std::string_view channel, EvtChannelConfig& out) {
    (void)channel;
    (void)out;
    return evt_errc::kCallNotImplemented;
  }
  // EvtOpenPublisherMetadata(NULL, publisher, NULL, locale, 0): `locale` is an LCID (1033 en-US).
  virtual uint32_t openPublisherMetadata(std::string_view publisher, uint32_t locale, Handle& out) {
    (void)publisher;
    (void)locale;
    (void)out;
    return evt_errc::kCallNotImplemented;
  }
  // EvtFormatMessage(metadata, event, 0, 0, NULL, EvtFormatMessageEvent, ...), UTF-8. On
  // kUnresolvedValueInsert `utf8` holds the partially formatted message.
  virtual uint32_t formatEventMessage(Handle publisher_metadata, Handle event, std::string& utf8) {
    (void)publisher_metadata;
    (void)event;
    (void)utf8;
    return evt_errc::kCallNotImplemented;
  }
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
