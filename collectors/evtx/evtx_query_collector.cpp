#include "collectors/evtx/evtx_query_collector.h"

#include <chrono>
#include <system_error>
#include <utility>
#include <vector>

#include "common/core/win32_errc.h"

namespace t0w {
namespace {

// EvtNext on a file does not wait for new events; the timeout only bounds a stuck service.
constexpr std::chrono::milliseconds kNextTimeout{60000};

}  // namespace

EvtxQueryCollector::EvtxQueryCollector(EvtApi& api, std::filesystem::path path,
                                       EvtxQueryOptions options)
    : api_(api), path_(std::move(path)), name_(path_.string()), options_(std::move(options)) {
  if (options_.batch_size == 0) options_.batch_size = 1;
}

SourceSummary EvtxQueryCollector::run(EventSink& sink) {
  SourceSummary summary;
  auto fail = [&](uint64_t position, Errc code, std::string message) {
    ++summary.errors;
    sink.onError(InputError{name_, position, makeError(code, name_ + ": " + std::move(message))});
  };

  // EvtQuery takes full paths only (relative paths are not resolved by the service).
  std::error_code ec;
  std::filesystem::path full = std::filesystem::absolute(path_, ec);
  if (ec) full = path_;
  EvtApi::Handle h = EvtApi::kNoHandle;
  const uint32_t qe = api_.queryFile(full.string(), options_.query, h);
  if (qe != evt_errc::kOk) {
    fail(0, errcForWin32(qe), "cannot open as EVTX: EvtQuery: " + api_.errorText(qe));
    return summary;
  }
  EvtHandle results(api_, h);

  uint64_t position = 0;  // record index in the file, like the libevtx reader
  std::vector<EvtApi::Handle> handles;
  std::string xml;
  EventXmlParser parser(options_.limits);
  Event event;  // refilled for every record
  while (!stopped()) {
    handles.clear();
    const uint32_t e = api_.next(results.get(), options_.batch_size, kNextTimeout, handles);
    if (e == evt_errc::kNoMoreItems) break;
    if (e != evt_errc::kOk) {
      // The cursor cannot be trusted past a failed EvtNext: report where it stopped.
      fail(position, errcForWin32(e) == Errc::kIo ? Errc::kCorrupt : errcForWin32(e),
           "record " + std::to_string(position) + ": EvtNext: " + api_.errorText(e) + "; " +
               std::to_string(summary.records) + " records read, others may be missing");
      break;
    }
    if (handles.empty()) break;
    for (EvtApi::Handle eh : handles) {
      EvtHandle owned(api_, eh);
      const uint64_t pos = position++;
      if (stopped()) continue;
      const uint32_t re = api_.renderEventXml(eh, xml);
      if (re != evt_errc::kOk) {
        fail(pos, errcForWin32(re),
             "record " + std::to_string(pos) + ": EvtRender: " + api_.errorText(re));
        continue;
      }
      // xml is rendered again for the next record, so it may be parsed in place.
      Status st = parser.parseInPlace(xml.data(), xml.size(), event);
      if (!st.ok()) {
        fail(pos, st.error().code, "record " + std::to_string(pos) + ": " + st.error().message);
        continue;
      }
      event.origin.source = name_;
      event.origin.position = pos;
      ++summary.records;
      sink.onEvent(std::move(event));  // a sink that only reads it leaves its storage to reuse
    }
  }
  return summary;
}

}  // namespace t0w
