// XmlFileCollector: reads rendered event XML from a file (`wevtutil qe /f:xml` output,
// PowerShell `ToXml()` exports, libevtx XML dumps) and delivers one Event per <Event> element.
#pragma once

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <string>

#include "agent/core/event_source.h"
#include "collectors/eventlog/event_xml_parser.h"

namespace t0w {

// Accepts bare, concatenated or <Events>-wrapped <Event> elements, with or without an XML
// declaration, in UTF-8 or UTF-16LE/BE (BOM, or detected from the NUL pattern of "<").
// The file is streamed in chunks: memory stays near one event plus one chunk whatever the
// file size. Each element is parsed on its own, so a bad element is reported through
// EventSink::onError (naming the file and byte offset) and the next one is still read.
// Event::origin is {path, byte offset of the element's '<' in the file}.
class XmlFileCollector : public EventSource {
 public:
  static constexpr size_t kDefaultChunkBytes = 1 << 20;

  explicit XmlFileCollector(std::filesystem::path path, XmlParseLimits limits = {});

  const std::string& name() const override { return name_; }
  SourceSummary run(EventSink& sink) override;
  void stop() override { stop_.store(true, std::memory_order_relaxed); }

  // Bytes read per step; small values exercise element and character splits across reads.
  void setChunkBytes(size_t bytes) { chunk_bytes_ = bytes == 0 ? 1 : bytes; }

 private:
  std::filesystem::path path_;
  std::string name_;  // the path as text: Event::origin.source and error source
  XmlParseLimits limits_;
  size_t chunk_bytes_ = kDefaultChunkBytes;
  std::atomic<bool> stop_{false};
};

}  // namespace t0w
