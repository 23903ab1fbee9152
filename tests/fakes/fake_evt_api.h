// FakeEvtApi: the one test double of EvtApi, with the documented Windows behaviour the read loops
// depend on (EvtSubscribe origins and EvtSubscribeStrict, EvtNext batches and
// ERROR_NO_MORE_ITEMS, bookmarks as XML, EvtGetLogInfo's oldest record), over an in-memory
// channel whose contents, failures and timing the test scripts. Counts open handles so that
// tests can check that every handle is closed.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "collectors/eventlog/evt_api.h"
#include "common/core/time.h"

namespace t0w::testing {

inline std::string eventXml(uint64_t id, const std::string& channel = "Security",
                            uint32_t event_id = 4624,
                            const std::string& time = "2024-05-01T10:00:00.1234567Z",
                            const std::string& provider = "Microsoft-Windows-Security-Auditing") {
  return "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
         "<Provider Name='" +
         provider +
         "' "
         "Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/><EventID>" +
         std::to_string(event_id) +
         "</EventID><Version>2</Version><Level>0</Level><Task>12544</Task><Opcode>0</Opcode>"
         "<Keywords>0x8020000000000000</Keywords>"
         "<TimeCreated SystemTime='" +
         time + "'/><EventRecordID>" + std::to_string(id) + "</EventRecordID><Channel>" + channel +
         "</Channel><Computer>dc01.corp.example</Computer></System><EventData>"
         "<Data Name='TargetUserName'>alice</Data></EventData></Event>";
}

inline std::string bookmarkXml(const std::string& channel, uint64_t id) {
  return "<BookmarkList>\r\n  <Bookmark Channel='" + channel + "' RecordId='" + std::to_string(id) +
         "' IsCurrent='true'/>\r\n</BookmarkList>";
}

class FakeEvtApi final : public EvtApi {
 public:
  // An EvtApi that hands every call to this one: for code that owns its EvtApi (one per
  // subscription) while the test scripts a single channel.
  std::unique_ptr<EvtApi> share();

  struct SubscribeCall {
    std::string channel;
    std::string query;
    uint32_t flags = 0;
  };

  // Channel contents: EventRecordID → rendered XML.
  std::map<std::string, std::map<uint64_t, std::string>> channels;
  // .evtx files: path → rendered records in file order.
  std::map<std::string, std::vector<std::string>> files;

  // Failures, consumed one per call (kOk entries let a call through).
  std::deque<uint32_t> subscribe_errors;
  std::deque<uint32_t> next_errors;
  std::deque<uint32_t> render_errors;
  uint32_t oldest_error = evt_errc::kOk;
  uint32_t create_bookmark_error = evt_errc::kOk;  // for non-empty XML only
  // One entry per waitForEvents: run it, then report kSignalled (kTimeout for retry waits).
  // When none are left, the wait reports kInterrupted: the collector's run() ends.
  std::deque<std::function<void()>> waits;

  // Channel configuration (absent entry: enabled, circular, 20 MiB) and log info overrides.
  std::map<std::string, EvtChannelConfig> configs;
  uint32_t config_error = evt_errc::kOk;  // for channels that exist
  uint32_t log_info_error = evt_errc::kOk;
  uint64_t record_bytes = 1000;  // EvtLogFileSize = records * record_bytes
  std::deque<uint32_t> seek_errors;
  std::deque<uint32_t> history_next_errors;
  // Publisher → message text (EvtFormatMessage); absent: ERROR_EVT_MESSAGE_NOT_FOUND.
  std::map<std::string, std::string> messages;
  std::map<std::string, uint32_t> publisher_errors;  // EvtOpenPublisherMetadata failures
  std::vector<std::pair<std::string, uint32_t>> publisher_opens;  // (publisher, locale)
  int format_calls = 0;
  std::vector<std::chrono::milliseconds> wait_timeouts;  // every waitForEvents timeout
  std::vector<EvtHistoryRange> history_queries;
  std::vector<uint32_t> next_sizes;  // `max` of every EvtNext on a subscription

  std::vector<SubscribeCall> subscribe_calls;
  std::vector<std::string> queried_paths;
  int waits_done = 0;
  int bad_closes = 0;  // closes of handles that are not open (double close)

  size_t openHandles() const { return objects_.size(); }

  uint32_t createBookmark(std::string_view xml, Handle& out) override {
    Object o;
    o.kind = Kind::kBookmark;
    if (!xml.empty()) {
      if (create_bookmark_error != evt_errc::kOk) return create_bookmark_error;
      const std::string s(xml);
      const size_t at = s.find("RecordId='");
      if (at == std::string::npos) return 15008;  // ERROR_EVT_MALFORMED_XML_TEXT
      o.channel = "?";
      o.id = std::stoull(s.substr(at + 10));
      o.has_id = true;
    }
    out = add(o);
    return evt_errc::kOk;
  }

  uint32_t subscribe(std::string_view channel, std::string_view query, Handle bookmark,
                     uint32_t flags, Handle& out) override {
    subscribe_calls.push_back({std::string(channel), std::string(query), flags});
    if (!subscribe_errors.empty()) {
      const uint32_t e = subscribe_errors.front();
      subscribe_errors.pop_front();
      if (e != evt_errc::kOk) return e;
    }
    auto ch = channels.find(std::string(channel));
    if (ch == channels.end()) return evt_errc::kChannelNotFound;
    Object sub;
    sub.kind = Kind::kSubscription;
    sub.channel = std::string(channel);
    const uint32_t origin = flags & 3;
    const auto& records = ch->second;
    if (origin == kStartAfterBookmark) {
      const Object& b = objects_.at(bookmark);
      if (!b.has_id) return evt_errc::kInvalidParameter;
      if ((flags & kStrict) != 0 && records.count(b.id) == 0) return evt_errc::kNotFound;
      sub.id = b.id + 1;
    } else if (origin == kStartAtOldestRecord) {
      sub.id = records.empty() ? 0 : records.begin()->first;
    } else {
      sub.id = records.empty() ? 1 : records.rbegin()->first + 1;
    }
    out = add(sub);
    return evt_errc::kOk;
  }

  Wait waitForEvents(Handle subscription, std::chrono::milliseconds timeout) override {
    wait_timeouts.push_back(timeout);
    if (interrupted_ || waits.empty()) return Wait::kInterrupted;
    auto action = std::move(waits.front());
    waits.pop_front();
    ++waits_done;
    if (action) action();
    return subscription == kNoHandle ? Wait::kTimeout : Wait::kSignalled;
  }

  void interrupt() override { interrupted_ = true; }

  uint32_t next(Handle results, uint32_t max, std::chrono::milliseconds,
                std::vector<Handle>& out) override {
    Object& r = objects_.at(results);
    if (r.kind == Kind::kHistory) return nextHistory(r, max, out);
    if (r.kind == Kind::kSubscription) next_sizes.push_back(max);
    if (!next_errors.empty()) {
      const uint32_t e = next_errors.front();
      next_errors.pop_front();
      if (e == evt_errc::kRpcInvalidBound) {
        // What Windows does: the read position moves although nothing is returned.
        const auto& records = channels.at(r.channel);
        auto it = records.lower_bound(r.id);
        for (uint32_t n = 0; n < max && it != records.end(); ++n, ++it) r.id = it->first + 1;
      }
      if (e != evt_errc::kOk) return e;
    }
    if (r.kind == Kind::kQuery) {
      const auto& recs = files.at(r.channel);
      if (r.id >= recs.size()) return evt_errc::kNoMoreItems;
      for (uint32_t n = 0; n < max && r.id < recs.size(); ++n, ++r.id) {
        Object ev;
        ev.xml = recs[r.id];
        out.push_back(add(ev));
      }
      return evt_errc::kOk;
    }
    const auto& records = channels.at(r.channel);
    auto it = records.lower_bound(r.id);
    if (it == records.end()) return evt_errc::kNoMoreItems;
    for (uint32_t n = 0; n < max && it != records.end(); ++n, ++it) {
      Object ev;
      ev.id = it->first;
      ev.has_id = true;
      ev.xml = it->second;
      out.push_back(add(ev));
      r.id = it->first + 1;
    }
    return evt_errc::kOk;
  }

  uint32_t renderEventXml(Handle event, std::string& utf8) override {
    if (!render_errors.empty()) {
      const uint32_t e = render_errors.front();
      render_errors.pop_front();
      if (e != evt_errc::kOk) return e;
    }
    utf8 = objects_.at(event).xml;
    return evt_errc::kOk;
  }

  uint32_t renderBookmark(Handle bookmark, std::string& utf8) override {
    const Object& b = objects_.at(bookmark);
    utf8 = b.has_id ? bookmarkXml("Security", b.id) : "<BookmarkList>\r\n</BookmarkList>";
    return evt_errc::kOk;
  }

  uint32_t updateBookmark(Handle bookmark, Handle event) override {
    Object& b = objects_.at(bookmark);
    const Object& ev = objects_.at(event);
    if (!ev.has_id) return evt_errc::kInvalidParameter;
    b.id = ev.id;
    b.has_id = true;
    return evt_errc::kOk;
  }

  uint32_t oldestRecordNumber(std::string_view channel, uint64_t& out) override {
    if (oldest_error != evt_errc::kOk) return oldest_error;
    auto ch = channels.find(std::string(channel));
    if (ch == channels.end()) return evt_errc::kChannelNotFound;
    out = ch->second.empty() ? 0 : ch->second.begin()->first;
    return evt_errc::kOk;
  }

  uint32_t queryFile(std::string_view path, std::string_view, Handle& out) override {
    queried_paths.emplace_back(path);
    // The collector passes absolute paths; the double knows files by their last component.
    std::string p(path);
    for (char& c : p) {
      if (c == '\\') c = '/';  // Windows paths come back with backslashes
    }
    for (const auto& [name, recs] : files) {
      if (p.size() >= name.size() && p.compare(p.size() - name.size(), name.size(), name) == 0) {
        Object q;
        q.kind = Kind::kQuery;
        q.channel = name;
        q.id = 0;
        out = add(q);
        return evt_errc::kOk;
      }
    }
    return evt_errc::kFileNotFound;
  }

  uint32_t seekAfterBookmark(Handle results, Handle bookmark) override {
    if (!seek_errors.empty()) {
      const uint32_t e = seek_errors.front();
      seek_errors.pop_front();
      if (e != evt_errc::kOk) return e;
    }
    Object& r = objects_.at(results);
    const Object& b = objects_.at(bookmark);
    if (!b.has_id || channels.at(r.channel).count(b.id) == 0) return evt_errc::kNotFound;
    r.id = b.id + 1;
    return evt_errc::kOk;
  }

  uint32_t queryHistory(std::string_view channel, std::string_view query,
                        const EvtHistoryRange& range, Handle& out) override {
    history_queries.push_back(range);
    auto ch = channels.find(std::string(channel));
    if (ch == channels.end()) return evt_errc::kChannelNotFound;
    Object q;
    q.kind = Kind::kHistory;
    q.channel = std::string(channel);
    q.query = std::string(query);
    q.id = range.first_record;
    q.last = range.last_record;
    q.from = range.from_filetime;
    out = add(q);
    return evt_errc::kOk;
  }

  uint32_t logInfo(std::string_view channel, EvtLogInfo& out) override {
    if (log_info_error != evt_errc::kOk) return log_info_error;
    auto ch = channels.find(std::string(channel));
    if (ch == channels.end()) return evt_errc::kChannelNotFound;
    out = {};
    if (!ch->second.empty()) {
      out.oldest_record = ch->second.begin()->first;
      out.record_count = ch->second.rbegin()->first - out.oldest_record + 1;
    }
    out.file_size = out.record_count * record_bytes;
    return evt_errc::kOk;
  }

  uint32_t channelConfig(std::string_view channel, EvtChannelConfig& out) override {
    const std::string name(channel);
    if (channels.count(name) == 0) return evt_errc::kChannelNotFound;
    if (config_error != evt_errc::kOk) return config_error;
    auto it = configs.find(name);
    if (it != configs.end()) {
      out = it->second;
    } else {
      out = {};
      out.max_size = 20 * 1024 * 1024;
    }
    return evt_errc::kOk;
  }

  uint32_t openPublisherMetadata(std::string_view publisher, uint32_t locale,
                                 Handle& out) override {
    publisher_opens.emplace_back(std::string(publisher), locale);
    auto err = publisher_errors.find(std::string(publisher));
    if (err != publisher_errors.end()) return err->second;
    Object p;
    p.kind = Kind::kPublisher;
    p.channel = std::string(publisher);
    out = add(p);
    return evt_errc::kOk;
  }

  uint32_t formatEventMessage(Handle publisher_metadata, Handle event, std::string& utf8) override {
    ++format_calls;
    const Object& p = objects_.at(publisher_metadata);
    (void)objects_.at(event);
    auto it = messages.find(p.channel);
    if (it == messages.end()) return evt_errc::kMessageNotFound;
    utf8 = it->second;
    return evt_errc::kOk;
  }

  void close(Handle h) override {
    if (h == kNoHandle) return;
    if (objects_.erase(h) == 0) ++bad_closes;
  }

  std::string errorText(uint32_t code) const override {
    switch (code) {
      case evt_errc::kAccessDenied:
        return "Access is denied. (Win32 error 5)";
      case evt_errc::kChannelNotFound:
        return "The specified channel could not be found. (Win32 error 15007)";
      default:
        return "Win32 error " + std::to_string(code);
    }
  }

 private:
  enum class Kind { kBookmark, kSubscription, kEvent, kQuery, kHistory, kPublisher };
  struct Object {
    Kind kind = Kind::kEvent;
    std::string channel;
    uint64_t id = 0;  // bookmark: record; subscription/history: next record; query: next index
    bool has_id = false;
    std::string xml;
    std::string query;
    uint64_t last = 0;  // history: last record of the range
    int64_t from = 0;   // history: FILETIME lower bound, 0 none
  };

  // TimeCreated of a rendered record (the double's own XML: SystemTime='...').
  static int64_t timeOf(const std::string& xml) {
    const size_t at = xml.find("SystemTime='");
    if (at == std::string::npos) return 0;
    const size_t end = xml.find('\'', at + 12);
    return parseFiletime(std::string_view(xml).substr(at + 12, end - at - 12)).value_or(0);
  }

  // EventID of a rendered record, for the filtered queries the tests use ("*[System[EventID=N]]").
  static bool matches(const std::string& query, const std::string& xml) {
    const size_t at = query.find("EventID=");
    if (at == std::string::npos) return true;
    const std::string id = query.substr(at + 8, query.find(']', at) - at - 8);
    return xml.find("<EventID>" + id + "</EventID>") != std::string::npos;
  }

  uint32_t nextHistory(Object& r, uint32_t max, std::vector<Handle>& out) {
    if (!history_next_errors.empty()) {
      const uint32_t e = history_next_errors.front();
      history_next_errors.pop_front();
      if (e != evt_errc::kOk) return e;
    }
    const auto& records = channels.at(r.channel);
    // A cursor pointing before the oldest record was overwritten: the result set is stale.
    if (!records.empty() && r.id < records.begin()->first && r.id <= r.last) {
      return evt_errc::kQueryResultStale;
    }
    auto it = records.lower_bound(r.id);
    uint32_t n = 0;
    for (; n < max && it != records.end() && it->first <= r.last; ++it) {
      r.id = it->first + 1;
      if (r.from != 0 && timeOf(it->second) < r.from) continue;
      if (!matches(r.query, it->second)) continue;
      Object ev;
      ev.id = it->first;
      ev.has_id = true;
      ev.xml = it->second;
      out.push_back(add(ev));
      ++n;
    }
    if (n == 0) {
      r.id = r.last + 1;
      return evt_errc::kNoMoreItems;
    }
    return evt_errc::kOk;
  }

  Handle add(Object o) {
    const Handle h = ++last_handle_;
    objects_.emplace(h, std::move(o));
    return h;
  }

  std::map<Handle, Object> objects_;
  Handle last_handle_ = 0;
  bool interrupted_ = false;
};

// Forwards to a FakeEvtApi the test keeps (FakeEvtApi::share()).
class SharedEvtApi final : public EvtApi {
 public:
  explicit SharedEvtApi(FakeEvtApi& t) : t_(t) {}
  uint32_t createBookmark(std::string_view xml, Handle& out) override {
    return t_.createBookmark(xml, out);
  }
  uint32_t subscribe(std::string_view channel, std::string_view query, Handle bookmark,
                     uint32_t flags, Handle& out) override {
    return t_.subscribe(channel, query, bookmark, flags, out);
  }
  Wait waitForEvents(Handle subscription, std::chrono::milliseconds timeout) override {
    return t_.waitForEvents(subscription, timeout);
  }
  void interrupt() override { t_.interrupt(); }
  uint32_t next(Handle results, uint32_t max, std::chrono::milliseconds timeout,
                std::vector<Handle>& out) override {
    return t_.next(results, max, timeout, out);
  }
  uint32_t renderEventXml(Handle event, std::string& utf8) override {
    return t_.renderEventXml(event, utf8);
  }
  uint32_t renderBookmark(Handle bookmark, std::string& utf8) override {
    return t_.renderBookmark(bookmark, utf8);
  }
  uint32_t updateBookmark(Handle bookmark, Handle event) override {
    return t_.updateBookmark(bookmark, event);
  }
  uint32_t oldestRecordNumber(std::string_view channel, uint64_t& out) override {
    return t_.oldestRecordNumber(channel, out);
  }
  uint32_t queryFile(std::string_view path, std::string_view query, Handle& out) override {
    return t_.queryFile(path, query, out);
  }
  uint32_t seekAfterBookmark(Handle results, Handle bookmark) override {
    return t_.seekAfterBookmark(results, bookmark);
  }
  uint32_t queryHistory(std::string_view channel, std::string_view xpath,
                        const EvtHistoryRange& range, Handle& out) override {
    return t_.queryHistory(channel, xpath, range, out);
  }
  uint32_t logInfo(std::string_view channel, EvtLogInfo& out) override {
    return t_.logInfo(channel, out);
  }
  uint32_t channelConfig(std::string_view channel, EvtChannelConfig& out) override {
    return t_.channelConfig(channel, out);
  }
  uint32_t openPublisherMetadata(std::string_view publisher, uint32_t locale,
                                 Handle& out) override {
    return t_.openPublisherMetadata(publisher, locale, out);
  }
  uint32_t formatEventMessage(Handle metadata, Handle event, std::string& utf8) override {
    return t_.formatEventMessage(metadata, event, utf8);
  }
  void close(Handle h) override { t_.close(h); }
  std::string errorText(uint32_t code) const override { return t_.errorText(code); }

 private:
  FakeEvtApi& t_;
};

inline std::unique_ptr<EvtApi> FakeEvtApi::share() { return std::make_unique<SharedEvtApi>(*this); }

}  // namespace t0w::testing
