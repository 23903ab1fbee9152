// libFuzzer target for the rendered-XML parser. Besides "no crash, no sanitizer report", it
// checks the parser's promise that every string it returns is valid UTF-8: a strict JSON dump
// throws on invalid UTF-8, and that is turned into a crash. It also checks that the direct scan
// reads what pugixml reads: the same event, or the same error, as with pugixml alone, and that
// an element the stream scan (scanElement) takes from the input reads as it does alone, and that
// a parser and Event reused after a bigger event read it as fresh ones do.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/core/event_json.h"
#include "collectors/eventlog/event_xml_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view xml(reinterpret_cast<const char*>(data), size);
  t0w::XmlParseLimits limits;
  limits.max_event_bytes = 1 << 20;
  t0w::Result<t0w::Event> event = t0w::parseEventXml(xml, limits);
  t0w::EventXmlParser pugixml(limits);
  pugixml.setPugixmlOnly(true);
  t0w::Event reference;
  const t0w::Status st = pugixml.parse(xml, reference);
  if (st.ok() != event.ok()) std::abort();
  if (!st.ok() && st.error().message != event.error().message) std::abort();
  if (st.ok() && t0w::eventToJsonLine(reference) != t0w::eventToJsonLine(*event)) std::abort();
  // A parser and an Event reused, as collectors do: what the event before left (the fields'
  // strings, names and hashes kept by Event::clear) must not show in this one.
  {
    static const std::string kBefore = [] {
      std::string x = "<Event><System><EventID>4624</EventID></System><EventData>";
      for (int i = 0; i < 24; ++i) {
        x += "<Data Name='Field" + std::to_string(i) + "'>" + std::string(40, 'v') + "</Data>";
      }
      return x + "</EventData></Event>";
    }();
    t0w::EventXmlParser reuse(limits);
    t0w::Event reused;
    if (!reuse.parse(kBefore, reused).ok()) std::abort();
    const t0w::Status again = reuse.parse(xml, reused);
    if (again.ok() != st.ok()) std::abort();
    if (st.ok() && t0w::eventToJsonLine(reused) != t0w::eventToJsonLine(reference)) std::abort();
  }
  t0w::EventXmlParser stream(limits);
  if (const size_t n = stream.scanElement(xml)) {
    t0w::Event scanned;
    const t0w::Status scanned_st = stream.parseScanned(scanned);
    t0w::Event alone;
    const t0w::Status alone_st = pugixml.parse(xml.substr(0, n), alone);
    if (scanned_st.ok() != alone_st.ok()) std::abort();
    if (!alone_st.ok() && alone_st.error().message != scanned_st.error().message) std::abort();
    if (alone_st.ok() && t0w::eventToJsonLine(alone) != t0w::eventToJsonLine(scanned)) std::abort();
  }
  if (!event.ok()) {
    if (event.error().message.empty()) std::abort();  // errors must say what went wrong
    return 0;
  }
  if (event->fields().size() > limits.max_fields) std::abort();
  try {
    (void)t0w::eventToJson(*event).dump();  // strict: throws on invalid UTF-8
  } catch (const std::exception&) {
    std::abort();
  }
  return 0;
}
