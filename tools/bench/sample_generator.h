// Deterministic generator of rendered Windows events (EvtRender XML) for a domain controller:
// the attack and health scenarios of docs/detection-catalog.md on top of ordinary traffic.
// Used by the demo, the schema test and throughput benchmarks.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace t0w::bench {

struct SampleOptions {
  uint64_t seed = 1;
  // First event time, FILETIME ticks. Default 2024-05-14T08:00:00Z.
  int64_t start_ticks = 133'601'472'000'000'000;
  size_t background_events = 400;  // ordinary logons, logoffs, AES tickets
  bool scenarios = true;           // false: the background traffic alone (false-positive tests)
  std::string computer = "DC01.corp.contoso.com";
};

struct SampleEvent {
  int64_t time = 0;      // FILETIME ticks
  std::string scenario;  // "password-spray", "dcsync", ... or "background"
  std::string xml;       // one <Event> element on one line
};

// The events in time order, EventRecordIDs counted per channel. Same options, same bytes.
std::vector<SampleEvent> generateDcSample(const SampleOptions& options);

// Writes <Events>...</Events> with one event per line (as `wevtutil qe /f:xml` prints them,
// wrapped so that the file is one XML document).
void writeEventsXml(const std::vector<SampleEvent>& events, std::ostream& out);

// Scenario names in the order they are generated (for --list and docs).
std::vector<std::string> sampleScenarios();

}  // namespace t0w::bench
