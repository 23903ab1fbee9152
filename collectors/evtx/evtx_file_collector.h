// EvtxFileCollector: every record of one .evtx file, read with libevtx, as Events.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>

#include "agent/core/event_source.h"
#include "collectors/eventlog/event_xml_parser.h"

namespace t0w {

struct EvtxReadOptions {
  XmlParseLimits limits;
  // Also emit the records libevtx recovers from unallocated space (deleted or overwritten
  // chunks). Their positions follow the allocated records: record_count + recovered index.
  // Off by default: libevtx 20181227 fails on most recovered records of the public corpus (as
  // evtxexport -m recovered does), and each failure is an error. The dirty flag is not reported:
  // every log copied from a running system carries it and its records read fine.
  bool include_recovered = false;
};

// Events carry origin.source = the path as given and origin.position = the record index.
// A damaged file yields every record that can be read plus an error per failure that names
// the file and the record; run() never throws.
class EvtxFileCollector final : public EventSource {
 public:
  explicit EvtxFileCollector(std::filesystem::path path, EvtxReadOptions options = {});

  const std::string& name() const override { return name_; }
  SourceSummary run(EventSink& sink) override;
  // Safe from another thread: the current record finishes, then run() returns.
  void stop() override { stop_ = true; }

 private:
  std::filesystem::path path_;
  std::string name_;
  EvtxReadOptions options_;
  std::atomic<bool> stop_{false};
};

}  // namespace t0w
