#include "collectors/evtx/evtx_file_collector.h"

#include <string_view>
#include <utility>

#include "collectors/evtx/libevtx_handles.h"
#include "collectors/evtx/libevtx_xml.h"

namespace t0w {
namespace {

class RecordReader {
 public:
  RecordReader(const std::string& source, const XmlParseLimits& limits, EventSink& sink,
               SourceSummary& summary)
      : source_(source), parser_(limits), sink_(sink), summary_(summary) {}

  void fail(uint64_t position, Errc code, std::string_view what) {
    ++summary_.errors;
    std::string message = source_ + ": record " + std::to_string(position) + ": ";
    message += what;
    sink_.onError(InputError{source_, position, makeError(code, std::move(message))});
  }

  void read(Result<evtx::RecordHandle> record, uint64_t position) {
    if (!record.ok()) return fail(position, record.error().code, record.error().message);
    Result<std::string> xml = evtx::recordXml(record->get());
    if (!xml.ok()) return fail(position, xml.error().code, xml.error().message);
    evtx::unpadHexValues(*xml);
    Status st = parser_.parseInPlace(xml->data(), xml->size(), event_);  // xml is ours to spoil
    if (!st.ok()) return fail(position, st.error().code, st.error().message);
    event_.origin.source = source_;
    event_.origin.position = position;
    ++summary_.records;
    // A sink that keeps the event takes it; one that only reads it leaves its storage to the
    // next record (the parser clears it first either way).
    sink_.onEvent(std::move(event_));
  }

 private:
  const std::string& source_;
  EventXmlParser parser_;
  Event event_;  // refilled for every record
  EventSink& sink_;
  SourceSummary& summary_;
};

}  // namespace

EvtxFileCollector::EvtxFileCollector(std::filesystem::path path, EvtxReadOptions options)
    : path_(std::move(path)), name_(path_.string()), options_(std::move(options)) {}

SourceSummary EvtxFileCollector::run(EventSink& sink) {
  SourceSummary summary;
  auto fileError = [&](uint64_t position, const Error& error, std::string_view what) {
    ++summary.errors;
    std::string message = name_ + ": " + std::string(what) + ": " + error.message;
    sink.onError(InputError{name_, position, makeError(error.code, std::move(message))});
  };

  Result<evtx::EvtxFile> file = evtx::EvtxFile::open(name_);
  if (!file.ok()) {
    fileError(0, file.error(), "cannot open as EVTX");
    return summary;
  }
  Result<int> count = file->recordCount();
  if (!count.ok()) {
    fileError(0, count.error(), "cannot count records");
    return summary;
  }

  RecordReader reader(name_, options_.limits, sink, summary);
  const auto n = static_cast<uint64_t>(*count);
  for (int i = 0; i < *count && !stop_; ++i) {
    reader.read(file->record(i), static_cast<uint64_t>(i));
  }

  if (options_.include_recovered && !stop_) {
    Result<int> recovered = file->recoveredRecordCount();
    if (!recovered.ok()) {
      fileError(n, recovered.error(), "cannot count recovered records");
    } else {
      for (int i = 0; i < *recovered && !stop_; ++i) {
        reader.read(file->recoveredRecord(i), n + static_cast<uint64_t>(i));
      }
    }
  }

  // libevtx skips chunks it cannot read (a truncated copy, a torn write) without failing any
  // record: say so, or the missing records would vanish silently.
  if (!stop_ && file->isCorrupted()) {
    fileError(n,
              Error{Errc::kCorrupt, "libevtx found damaged or missing chunks; " +
                                        std::to_string(summary.records) +
                                        " records read, others may be missing"},
              "file is corrupted");
  }
  return summary;
}

}  // namespace t0w
