// Golden checks: real corpus records read through EvtxFileCollector must give exactly the JSON
// kept in tests/data/evtx/golden (only the JSON is kept; the record is read from the corpus).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "agent/core/event_json.h"
#include "collectors/evtx/evtx_file_collector.h"
#include "tests/fakes/fake_event_sink.h"
#include "tests/support/corpus.h"

namespace t0w {
namespace {

using ::t0w::testing::FakeEventSink;

namespace fs = std::filesystem;

std::vector<fs::path> goldenFiles() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(testing::testData("evtx/golden"))) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(EvtxGolden, CorpusRecordsMatchTheirExpectedJson) {
  T0W_CORPUS_OR_SKIP(corpus);
  const std::vector<fs::path> files = goldenFiles();
  ASSERT_GE(files.size(), 5u);
  for (const fs::path& golden : files) {
    SCOPED_TRACE(golden.filename().string());
    std::ifstream in(golden);
    const nlohmann::ordered_json doc = nlohmann::ordered_json::parse(in);
    const std::string file = doc.at("file").get<std::string>();
    const uint64_t record = doc.at("record").get<uint64_t>();

    FakeEventSink sink;
    EvtxFileCollector(corpus / file).run(sink);
    EXPECT_TRUE(sink.errors.empty()) << sink.errors.front().error.message;
    const Event* event = nullptr;
    for (const Event& e : sink.events) {
      if (e.origin.position == record) event = &e;
    }
    ASSERT_NE(event, nullptr) << file << ": no record " << record;

    nlohmann::ordered_json actual = eventToJson(*event);
    EXPECT_EQ(actual["Origin"]["Source"], (corpus / file).string());
    actual["Origin"]["Source"] = file;  // goldens hold the corpus-relative path
    EXPECT_EQ(actual, doc.at("event")) << "actual:\n"
                                       << actual.dump(2) << "\nexpected:\n"
                                       << doc.at("event").dump(2);
  }
}

}  // namespace
}  // namespace t0w
