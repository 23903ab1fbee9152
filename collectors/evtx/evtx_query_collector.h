// EvtxQueryCollector: every record of one .evtx file read through the Windows Event Log API
// (EvtQuery with EvtQueryFilePath | EvtQueryForwardDirection, EvtNext, EvtRender), the Windows
// counterpart of the libevtx reader: same Event origin (path as given, record index) and the
// same error reporting (the file and the record are named; one bad record never ends the file).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>

#include "agent/core/event_source.h"
#include "collectors/eventlog/event_xml_parser.h"
#include "collectors/eventlog/evt_api.h"

namespace t0w {

struct EvtxQueryOptions {
  XmlParseLimits limits;
  std::string query = "*";  // XPath over the file's events
  uint32_t batch_size = 64;
  // Another flag that ends run() like stop() (EvtxFileCollector's, when it delegates here).
  const std::atomic<bool>* stop_flag = nullptr;
};

class EvtxQueryCollector final : public EventSource {
 public:
  EvtxQueryCollector(EvtApi& api, std::filesystem::path path, EvtxQueryOptions options = {});

  const std::string& name() const override { return name_; }
  SourceSummary run(EventSink& sink) override;
  void stop() override { stop_ = true; }

 private:
  bool stopped() const {
    return stop_ || (options_.stop_flag != nullptr && options_.stop_flag->load());
  }

  EvtApi& api_;
  std::filesystem::path path_;
  std::string name_;
  EvtxQueryOptions options_;
  std::atomic<bool> stop_{false};
};

}  // namespace t0w
