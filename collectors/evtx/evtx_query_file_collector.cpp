// EvtxFileCollector on Windows: .evtx files are read by the Event Log service itself
// (EvtxQueryCollector over wevtapi.dll) instead of libevtx, so `tier0watch scan` and the agent's
// EVTX replay read files the same way on both systems.
#include <utility>

#include "collectors/evtx/evtx_file_collector.h"
#include "collectors/evtx/evtx_query_collector.h"

namespace t0w {

EvtxFileCollector::EvtxFileCollector(std::filesystem::path path, EvtxReadOptions options)
    : path_(std::move(path)), name_(path_.string()), options_(std::move(options)) {}

SourceSummary EvtxFileCollector::run(EventSink& sink) {
  SourceSummary summary;
  if (options_.include_recovered) {
    ++summary.errors;
    sink.onError(InputError{
        name_, 0,
        makeError(Errc::kUnsupported,
                  name_ + ": recovered records are not available on Windows (EvtQuery reads "
                          "the allocated records only); reading those")});
  }
  std::unique_ptr<EvtApi> api = makeWindowsEvtApi();
  EvtxQueryOptions query;
  query.limits = options_.limits;
  query.stop_flag = &stop_;
  EvtxQueryCollector reader(*api, path_, std::move(query));
  const SourceSummary read = reader.run(sink);
  summary.records += read.records;
  summary.errors += read.errors;
  return summary;
}

}  // namespace t0w
