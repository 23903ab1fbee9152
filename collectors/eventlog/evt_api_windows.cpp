// EvtApi over wevtapi.dll. Each call is the documented Win32 call with its last error returned.
#include <windows.h>
// windows.h first: winevt.h needs its types.
#include <winevt.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "agent/platform/windows/error_text.h"
#include "agent/platform/windows/handle.h"
#include "agent/platform/windows/utf.h"
#include "collectors/eventlog/evt_api.h"

namespace t0w {
namespace {

static_assert(evt_errc::kFileNotFound == ERROR_FILE_NOT_FOUND);
static_assert(evt_errc::kAccessDenied == ERROR_ACCESS_DENIED);
static_assert(evt_errc::kInvalidParameter == ERROR_INVALID_PARAMETER);
static_assert(evt_errc::kCallNotImplemented == ERROR_CALL_NOT_IMPLEMENTED);
static_assert(evt_errc::kNoMoreItems == ERROR_NO_MORE_ITEMS);
static_assert(evt_errc::kNotFound == ERROR_NOT_FOUND);
static_assert(evt_errc::kTimeout == ERROR_TIMEOUT);
static_assert(evt_errc::kInvalidChannelPath == ERROR_EVT_INVALID_CHANNEL_PATH);
static_assert(evt_errc::kInvalidQuery == ERROR_EVT_INVALID_QUERY);
static_assert(evt_errc::kChannelNotFound == ERROR_EVT_CHANNEL_NOT_FOUND);
static_assert(evt_errc::kQueryResultStale == ERROR_EVT_QUERY_RESULT_STALE);
static_assert(evt_errc::kQueryResultInvalidPosition == ERROR_EVT_QUERY_RESULT_INVALID_POSITION);
static_assert(evt_errc::kInvalidHandle == ERROR_INVALID_HANDLE);
static_assert(evt_errc::kInsufficientBuffer == ERROR_INSUFFICIENT_BUFFER);
static_assert(evt_errc::kRpcServerUnavailable == RPC_S_SERVER_UNAVAILABLE);
static_assert(evt_errc::kRpcCallFailed == RPC_S_CALL_FAILED);
static_assert(evt_errc::kRpcInvalidBound == RPC_S_INVALID_BOUND);
static_assert(evt_errc::kRpcEndpointNotRegistered == EPT_S_NOT_REGISTERED);
static_assert(evt_errc::kPublisherMetadataNotFound == ERROR_EVT_PUBLISHER_METADATA_NOT_FOUND);
static_assert(evt_errc::kMessageNotFound == ERROR_EVT_MESSAGE_NOT_FOUND);
static_assert(evt_errc::kMessageIdNotFound == ERROR_EVT_MESSAGE_ID_NOT_FOUND);
static_assert(evt_errc::kUnresolvedValueInsert == ERROR_EVT_UNRESOLVED_VALUE_INSERT);
static_assert(evt_errc::kMessageLocaleNotFound == ERROR_EVT_MESSAGE_LOCALE_NOT_FOUND);
static_assert(evt_errc::kPublisherDisabled == ERROR_EVT_PUBLISHER_DISABLED);
static_assert(static_cast<uint32_t>(EvtApi::kToFutureEvents) ==
              static_cast<uint32_t>(EvtSubscribeToFutureEvents));
static_assert(static_cast<uint32_t>(EvtApi::kStartAtOldestRecord) ==
              static_cast<uint32_t>(EvtSubscribeStartAtOldestRecord));
static_assert(static_cast<uint32_t>(EvtApi::kStartAfterBookmark) ==
              static_cast<uint32_t>(EvtSubscribeStartAfterBookmark));
static_assert(static_cast<uint32_t>(EvtApi::kStrict) == static_cast<uint32_t>(EvtSubscribeStrict));

struct EvtHandleTraits {
  using Type = EVT_HANDLE;
  static Type invalid() { return nullptr; }
  static void close(Type h) { ::EvtClose(h); }
};
using UniqueEvt = win::UniqueHandle<EvtHandleTraits>;

EvtApi::Handle wrap(EVT_HANDLE h) { return reinterpret_cast<uintptr_t>(h); }
EVT_HANDLE unwrap(EvtApi::Handle h) {
  return reinterpret_cast<EVT_HANDLE>(static_cast<uintptr_t>(h));
}

uint32_t lastError() {
  const DWORD e = ::GetLastError();
  return e == ERROR_SUCCESS ? ERROR_GEN_FAILURE : e;  // a failed call always reports a failure
}

DWORD millis(std::chrono::milliseconds t) {
  if (t.count() < 0) return 0;
  if (t.count() >= static_cast<long long>(INFINITE)) return INFINITE - 1;
  return static_cast<DWORD>(t.count());
}

class WindowsEvtApi final : public EvtApi {
 public:
  WindowsEvtApi() : interrupt_(::CreateEventW(nullptr, TRUE, FALSE, nullptr)) {}

  uint32_t createBookmark(std::string_view xml, Handle& out) override {
    EVT_HANDLE h = nullptr;
    if (xml.empty()) {
      h = ::EvtCreateBookmark(nullptr);
    } else {
      Result<std::wstring> w = win::toWide(xml);
      if (!w.ok()) return ERROR_INVALID_PARAMETER;
      h = ::EvtCreateBookmark(w->c_str());
    }
    if (h == nullptr) return lastError();
    out = wrap(h);
    return ERROR_SUCCESS;
  }

  uint32_t subscribe(std::string_view channel, std::string_view query, Handle bookmark,
                     uint32_t flags, Handle& out) override {
    Result<std::wstring> wchannel = win::toWide(channel);
    Result<std::wstring> wquery = win::toWide(query.empty() ? std::string_view("*") : query);
    if (!wchannel.ok() || !wquery.ok()) return ERROR_INVALID_PARAMETER;
    // Manual reset, initially set: events already in the channel are read at once.
    win::KernelHandle signal(::CreateEventW(nullptr, TRUE, TRUE, nullptr));
    if (!signal) return lastError();
    EVT_HANDLE h = ::EvtSubscribe(nullptr, signal.get(), wchannel->c_str(), wquery->c_str(),
                                  unwrap(bookmark), nullptr, nullptr, flags);
    if (h == nullptr) return lastError();
    out = wrap(h);
    std::lock_guard lock(mu_);
    signals_[out] = std::move(signal);
    return ERROR_SUCCESS;
  }

  Wait waitForEvents(Handle subscription, std::chrono::milliseconds timeout) override {
    HANDLE signal = nullptr;
    {
      std::lock_guard lock(mu_);
      auto it = signals_.find(subscription);
      if (it != signals_.end()) signal = it->second.get();
    }
    if (signal == nullptr)
      return ::WaitForSingleObject(interrupt_.get(), millis(timeout)) == WAIT_OBJECT_0
                 ? Wait::kInterrupted
                 : Wait::kTimeout;
    HANDLE handles[2] = {interrupt_.get(), signal};
    const DWORD r = ::WaitForMultipleObjects(2, handles, FALSE, millis(timeout));
    if (r == WAIT_OBJECT_0) return Wait::kInterrupted;
    if (r == WAIT_OBJECT_0 + 1) {
      // Reset before the caller drains: an event that arrives meanwhile sets it again.
      ::ResetEvent(signal);
      return Wait::kSignalled;
    }
    return Wait::kTimeout;
  }

  void interrupt() override { ::SetEvent(interrupt_.get()); }

  uint32_t next(Handle results, uint32_t max, std::chrono::milliseconds timeout,
                std::vector<Handle>& out) override {
    std::vector<EVT_HANDLE> batch(max == 0 ? 1 : max, nullptr);
    DWORD returned = 0;
    if (!::EvtNext(unwrap(results), static_cast<DWORD>(batch.size()), batch.data(), millis(timeout),
                   0, &returned)) {
      return lastError();
    }
    for (DWORD i = 0; i < returned && i < batch.size(); ++i) out.push_back(wrap(batch[i]));
    return ERROR_SUCCESS;
  }

  uint32_t renderEventXml(Handle event, std::string& utf8) override {
    return render(event, EvtRenderEventXml, utf8);
  }
  uint32_t renderBookmark(Handle bookmark, std::string& utf8) override {
    return render(bookmark, EvtRenderBookmark, utf8);
  }

  uint32_t updateBookmark(Handle bookmark, Handle event) override {
    return ::EvtUpdateBookmark(unwrap(bookmark), unwrap(event)) ? ERROR_SUCCESS : lastError();
  }

  uint32_t oldestRecordNumber(std::string_view channel, uint64_t& out) override {
    Result<std::wstring> w = win::toWide(channel);
    if (!w.ok()) return ERROR_INVALID_PARAMETER;
    UniqueEvt log(::EvtOpenLog(nullptr, w->c_str(), EvtOpenChannelPath));
    if (!log) return lastError();
    EVT_VARIANT v{};
    DWORD used = 0;
    if (!::EvtGetLogInfo(log.get(), EvtLogOldestRecordNumber, sizeof(v), &v, &used)) {
      return lastError();
    }
    out = v.Type == EvtVarTypeUInt64 ? v.UInt64Val : 0;  // EvtVarTypeNull: empty log
    return ERROR_SUCCESS;
  }

  uint32_t seekAfterBookmark(Handle results, Handle bookmark) override {
    // Position 1 relative to the bookmark: the event after it; strict: fail if it is gone.
    return ::EvtSeek(unwrap(results), 1, unwrap(bookmark), 0,
                     EvtSeekRelativeToBookmark | EvtSeekStrict)
               ? ERROR_SUCCESS
               : lastError();
  }

  uint32_t queryHistory(std::string_view channel, std::string_view xpath,
                        const EvtHistoryRange& range, Handle& out) override {
    Result<std::wstring> w = win::toWide(historyQueryXml(channel, xpath, range));
    if (!w.ok()) return ERROR_INVALID_PARAMETER;
    // Path NULL: the structured XML query names the channel (EvtQuery documentation).
    EVT_HANDLE h =
        ::EvtQuery(nullptr, nullptr, w->c_str(), EvtQueryChannelPath | EvtQueryForwardDirection);
    if (h == nullptr) return lastError();
    out = wrap(h);
    return ERROR_SUCCESS;
  }

  uint32_t logInfo(std::string_view channel, EvtLogInfo& out) override {
    Result<std::wstring> w = win::toWide(channel);
    if (!w.ok()) return ERROR_INVALID_PARAMETER;
    UniqueEvt log(::EvtOpenLog(nullptr, w->c_str(), EvtOpenChannelPath));
    if (!log) return lastError();
    EvtLogInfo info;
    EVT_VARIANT v{};
    DWORD used = 0;
    auto get = [&](EVT_LOG_PROPERTY_ID id) {
      v = EVT_VARIANT{};
      return ::EvtGetLogInfo(log.get(), id, sizeof(v), &v, &used) != FALSE;
    };
    if (!get(EvtLogOldestRecordNumber)) return lastError();
    info.oldest_record = v.Type == EvtVarTypeUInt64 ? v.UInt64Val : 0;  // Null: empty log
    if (!get(EvtLogNumberOfLogRecords)) return lastError();
    info.record_count = v.Type == EvtVarTypeUInt64 ? v.UInt64Val : 0;
    if (!get(EvtLogFileSize)) return lastError();
    info.file_size = v.Type == EvtVarTypeUInt64 ? v.UInt64Val : 0;
    if (get(EvtLogFull)) info.full = v.Type == EvtVarTypeBoolean && v.BooleanVal != FALSE;
    out = info;
    return ERROR_SUCCESS;
  }

  uint32_t channelConfig(std::string_view channel, EvtChannelConfig& out) override {
    Result<std::wstring> w = win::toWide(channel);
    if (!w.ok()) return ERROR_INVALID_PARAMETER;
    UniqueEvt cfg(::EvtOpenChannelConfig(nullptr, w->c_str(), 0));
    if (!cfg) return lastError();
    EvtChannelConfig c;
    EVT_VARIANT v{};
    DWORD used = 0;
    auto get = [&](EVT_CHANNEL_CONFIG_PROPERTY_ID id) {
      v = EVT_VARIANT{};
      return ::EvtGetChannelConfigProperty(cfg.get(), id, 0, sizeof(v), &v, &used) != FALSE;
    };
    // The four properties are fixed-size variants (EvtVarTypeBoolean / EvtVarTypeUInt64).
    if (!get(EvtChannelConfigEnabled)) return lastError();
    c.enabled = v.Type != EvtVarTypeBoolean || v.BooleanVal != FALSE;
    if (!get(EvtChannelLoggingConfigRetention)) return lastError();
    c.retention = v.Type == EvtVarTypeBoolean && v.BooleanVal != FALSE;
    if (!get(EvtChannelLoggingConfigAutoBackup)) return lastError();
    c.auto_backup = v.Type == EvtVarTypeBoolean && v.BooleanVal != FALSE;
    if (!get(EvtChannelLoggingConfigMaxSize)) return lastError();
    c.max_size = v.Type == EvtVarTypeUInt64 ? v.UInt64Val : 0;
    out = c;
    return ERROR_SUCCESS;
  }

  uint32_t openPublisherMetadata(std::string_view publisher, uint32_t locale,
                                 Handle& out) override {
    Result<std::wstring> w = win::toWide(publisher);
    if (!w.ok()) return ERROR_INVALID_PARAMETER;
    EVT_HANDLE h = ::EvtOpenPublisherMetadata(nullptr, w->c_str(), nullptr, locale, 0);
    if (h == nullptr) return lastError();
    out = wrap(h);
    return ERROR_SUCCESS;
  }

  uint32_t formatEventMessage(Handle metadata, Handle event, std::string& utf8) override {
    // BufferSize and BufferUsed count characters here (unlike EvtRender's bytes).
    DWORD used = 0;
    BOOL ok =
        ::EvtFormatMessage(unwrap(metadata), unwrap(event), 0, 0, nullptr, EvtFormatMessageEvent,
                           static_cast<DWORD>(message_.size()), message_.data(), &used);
    uint32_t e = ok ? ERROR_SUCCESS : lastError();
    if (e == ERROR_INSUFFICIENT_BUFFER) {
      message_.resize(used + 1);
      ok = ::EvtFormatMessage(unwrap(metadata), unwrap(event), 0, 0, nullptr, EvtFormatMessageEvent,
                              static_cast<DWORD>(message_.size()), message_.data(), &used);
      e = ok ? ERROR_SUCCESS : lastError();
    }
    if (e != ERROR_SUCCESS && e != ERROR_EVT_UNRESOLVED_VALUE_INSERT) return e;
    size_t chars = std::min<size_t>(used, message_.size());
    while (chars > 0 && message_[chars - 1] == L'\0') --chars;
    utf8 = win::toUtf8(std::wstring_view(message_.data(), chars));
    return e;
  }

  uint32_t queryFile(std::string_view path, std::string_view query, Handle& out) override {
    Result<std::wstring> wpath = win::toWide(path);
    Result<std::wstring> wquery = win::toWide(query.empty() ? std::string_view("*") : query);
    if (!wpath.ok() || !wquery.ok()) return ERROR_INVALID_PARAMETER;
    EVT_HANDLE h = ::EvtQuery(nullptr, wpath->c_str(), wquery->c_str(),
                              EvtQueryFilePath | EvtQueryForwardDirection);
    if (h == nullptr) return lastError();
    out = wrap(h);
    return ERROR_SUCCESS;
  }

  void close(Handle h) override {
    if (h == kNoHandle) return;
    ::EvtClose(unwrap(h));
    std::lock_guard lock(mu_);
    signals_.erase(h);  // a subscription's signal event goes with it
  }

  std::string errorText(uint32_t code) const override { return win::errorText(code); }

 private:
  uint32_t render(Handle h, DWORD flags, std::string& utf8) {
    DWORD used = 0;
    DWORD count = 0;
    const DWORD capacity = static_cast<DWORD>(buffer_.size() * sizeof(wchar_t));
    if (!::EvtRender(nullptr, unwrap(h), flags, capacity,
                     buffer_.empty() ? nullptr : buffer_.data(), &used, &count)) {
      const uint32_t e = lastError();
      if (e != ERROR_INSUFFICIENT_BUFFER) return e;
      buffer_.resize(used / sizeof(wchar_t) + 1);
      if (!::EvtRender(nullptr, unwrap(h), flags,
                       static_cast<DWORD>(buffer_.size() * sizeof(wchar_t)), buffer_.data(), &used,
                       &count)) {
        return lastError();
      }
    }
    // `used` counts bytes including the terminating NUL.
    size_t chars = used / sizeof(wchar_t);
    if (chars > buffer_.size()) chars = buffer_.size();
    while (chars > 0 && buffer_[chars - 1] == L'\0') --chars;
    utf8 = win::toUtf8(std::wstring_view(buffer_.data(), chars));
    return ERROR_SUCCESS;
  }

  win::KernelHandle interrupt_;
  std::mutex mu_;
  std::map<Handle, win::KernelHandle> signals_;
  std::vector<wchar_t> buffer_ = std::vector<wchar_t>(16 * 1024);
  std::vector<wchar_t> message_ = std::vector<wchar_t>(4 * 1024);
};

}  // namespace

std::unique_ptr<EvtApi> makeWindowsEvtApi() { return std::make_unique<WindowsEvtApi>(); }

}  // namespace t0w
