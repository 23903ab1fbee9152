#include "collectors/eventlog/xml_file_collector.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "agent/core/event_json.h"
#include "tests/fakes/fake_event_sink.h"
#include "tests/support/corpus.h"

namespace t0w {
namespace {

using ::t0w::testing::FakeEventSink;

namespace fs = std::filesystem;
using ::t0w::testing::testData;

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The <Event> element of a golden file, without its leading declaration and comment.
std::string goldenElement(const std::string& name) {
  const std::string xml = readFile(testData("eventlog/" + name + ".xml"));
  const size_t start = xml.find('<', xml.find("-->"));
  const size_t end = xml.rfind('>');
  return xml.substr(start, end + 1 - start);
}

class XmlFileCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("t0w_xml_collector_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& bytes) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

  FakeEventSink run(const fs::path& path, size_t chunk = 0, XmlParseLimits limits = {}) {
    XmlFileCollector collector(path, limits);
    if (chunk) collector.setChunkBytes(chunk);
    FakeEventSink sink;
    SourceSummary summary = collector.run(sink);
    EXPECT_EQ(summary.records, sink.events.size());
    EXPECT_EQ(summary.errors, sink.errors.size());
    return sink;
  }

  fs::path dir_;
};

TEST_F(XmlFileCollectorTest, ConcatenatedEventsWithOffsets) {
  const std::string a = goldenElement("security_4624");
  const std::string b = goldenElement("security_1102_userdata");
  const std::string c = goldenElement("classic_scm_7036_binary");
  const std::string content = a + "\r\n" + b + c + "\n";
  const fs::path path = write("events.xml", content);

  FakeEventSink sink = run(path);
  ASSERT_TRUE(sink.errors.empty()) << sink.errors[0].error.toString();
  ASSERT_EQ(sink.events.size(), 3u);
  EXPECT_EQ(sink.events[0].system.event_id, 4624u);
  EXPECT_EQ(sink.events[1].system.event_id, 1102u);
  EXPECT_EQ(sink.events[2].system.event_id, 7036u);
  EXPECT_EQ(sink.events[0].origin.position, 0u);
  EXPECT_EQ(sink.events[1].origin.position, a.size() + 2);
  EXPECT_EQ(sink.events[2].origin.position, a.size() + 2 + b.size());
  for (const Event& e : sink.events) EXPECT_EQ(e.origin.source, path.string());
}

TEST_F(XmlFileCollectorTest, EventsWrapperWithDeclarationAndComments) {
  const std::string a = goldenElement("security_4769");
  const std::string b = goldenElement("security_4771");
  const std::string head =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Events>\n"
      "<!-- an <Event> inside a comment is not an event -->\n";
  const std::string content = head + a + "\n" + b + "\n</Events>\n";
  FakeEventSink sink = run(write("wrapped.xml", content));
  ASSERT_TRUE(sink.errors.empty()) << sink.errors[0].error.toString();
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].origin.position, head.size());
  EXPECT_EQ(sink.events[1].origin.position, head.size() + a.size() + 1);
  EXPECT_EQ(*sink.events[1].find("ServiceName"), "krbtgt/CONTOSO.LOCAL");
}

TEST_F(XmlFileCollectorTest, Utf8BomIsSkippedAndOffsetsCountIt) {
  const std::string a = goldenElement("security_4662");
  FakeEventSink sink = run(write("bom.xml", "\xEF\xBB\xBF" + a));
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].origin.position, 3u);
}

TEST_F(XmlFileCollectorTest, BadEventInTheMiddleIsReportedAndReadingGoesOn) {
  const std::string a = goldenElement("security_4624");
  std::string bad = goldenElement("security_4625");
  bad.replace(bad.find("<EventID>4625"), 13, "<EventID>abc");
  const std::string c = goldenElement("security_4742");
  const fs::path path = write("mixed.xml", "<Events>" + a + bad + c + "</Events>");

  FakeEventSink sink = run(path);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].system.event_id, 4624u);
  EXPECT_EQ(sink.events[1].system.event_id, 4742u);
  ASSERT_EQ(sink.errors.size(), 1u);
  const InputError& err = sink.errors[0];
  const uint64_t offset = 8 + a.size();
  EXPECT_EQ(err.source, path.string());
  EXPECT_EQ(err.position, offset);
  EXPECT_EQ(err.error.code, Errc::kParse);
  EXPECT_NE(err.error.message.find(path.string() + ": offset " + std::to_string(offset)),
            std::string::npos)
      << err.error.message;
  EXPECT_NE(err.error.message.find("EventID: \"abc\""), std::string::npos) << err.error.message;
}

TEST_F(XmlFileCollectorTest, AnyChunkSizeGivesTheSameResult) {
  std::string content = "<?xml version=\"1.0\"?><Events>";
  for (const char* name : {"security_4624", "dcagent_30002", "userdata_nested_attributes",
                           "prefixed_namespace_4634", "pta_agent_12000"}) {
    content += goldenElement(name) + "\n";
  }
  content += "</Events>";
  const fs::path path = write("chunks.xml", content);
  FakeEventSink reference = run(path);
  ASSERT_EQ(reference.events.size(), 5u);
  ASSERT_TRUE(reference.errors.empty());
  for (size_t chunk : {1, 2, 3, 7, 64, 1000}) {
    SCOPED_TRACE(chunk);
    FakeEventSink sink = run(path, chunk);
    ASSERT_EQ(sink.events.size(), reference.events.size());
    EXPECT_TRUE(sink.errors.empty());
    for (size_t i = 0; i < sink.events.size(); ++i) {
      EXPECT_EQ(eventToJson(sink.events[i]), eventToJson(reference.events[i]));
    }
  }
}

// Large chunks let the collector scan and parse an element straight from its read buffer in
// one pass; a chunk smaller than any element leaves every element to the lexer and then the
// parser. Both must read the same events and report the same errors at the same offsets, on
// inputs damaged at random (markup bytes, CR, NUL, truncation) and on the XML the scan refuses.
TEST_F(XmlFileCollectorTest, OnePassReadsWhatTheLexerReads) {
  std::string base = "<?xml version=\"1.0\"?>\n<!-- export --><Events>";
  for (const char* name :
       {"security_4624", "security_1102_userdata", "classic_scm_7036_binary",
        "prefixed_namespace_4634", "dcagent_10014_rendering", "userdata_nested_attributes"}) {
    base += goldenElement(name) + "\n";
  }
  const std::string small =
      "<Event><System><EventID>7</EventID><Computer>a&amp;b</Computer></System>"
      "<EventData><Data Name=\"q\">&quot;x&lt;y&quot;</Data><Data> </Data></EventData></Event>";
  base += small + "<Event><System><EventID>8</EventID></System><!-- c --></Event>";
  base +=
      "<Event><System><EventID>9</EventID></System><EventData><Data><![CDATA[</Event>]]>"
      "</Data></EventData></Event>";
  base += "<Event><System><EventID>10</EventID></System>" + small + "</Event>";  // nested
  base += "<Event/><Eventx/><Event\t><System><EventID>11</EventID></System></Event >";
  base += "<" + std::string(300, 'p') + ":Event>" + small + "</" + std::string(300, 'p') +
          ":Event>";  // too long a name to be an element: the one inside it is
  base += "</Events>\n";
  const std::string markup = "<>/=\"'&!?;\r\n\t E:x";
  std::mt19937 rng(4242);
  for (int i = 0; i < 400; ++i) {
    std::string content = base;
    const int edits = i == 0 ? 0 : 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      const size_t at = rng() % content.size();
      const char c = rng() % 4 == 0 ? static_cast<char>(rng()) : markup[rng() % markup.size()];
      switch (rng() % 4) {
        case 0:
          content.insert(at, 1, c);
          break;
        case 1:
          content.erase(at, 1);
          break;
        case 2:
          content.resize(at);  // truncated
          break;
        default:
          content[at] = c;
      }
      if (content.empty()) content = "<";
    }
    SCOPED_TRACE(i);
    const fs::path path = write("onepass.xml", content);
    FakeEventSink one_pass = run(path);
    FakeEventSink lexed = run(path, 5);
    ASSERT_EQ(one_pass.events.size(), lexed.events.size());
    for (size_t e = 0; e < lexed.events.size(); ++e) {
      EXPECT_EQ(eventToJsonLine(one_pass.events[e]), eventToJsonLine(lexed.events[e]));
    }
    ASSERT_EQ(one_pass.errors.size(), lexed.errors.size());
    for (size_t e = 0; e < lexed.errors.size(); ++e) {
      EXPECT_EQ(one_pass.errors[e].position, lexed.errors[e].position);
      EXPECT_EQ(one_pass.errors[e].error.message, lexed.errors[e].error.message);
    }
    if (i == 0) {
      EXPECT_EQ(lexed.events.size(), 12u);
      EXPECT_EQ(lexed.errors.size(), 1u);  // <Event/> has no <System>
    }
  }
}

std::string toUtf16(const std::string& utf8, bool big_endian) {
  // Enough UTF-8 decoding for test text (1- to 4-byte sequences).
  std::u32string cps;
  for (size_t i = 0; i < utf8.size();) {
    const unsigned char c = utf8[i];
    const int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
    for (int k = 1; k < len; ++k) cp = cp << 6 | (utf8[i + k] & 0x3F);
    cps.push_back(cp);
    i += len;
  }
  std::string out;
  auto put = [&](uint16_t u) {
    out.push_back(static_cast<char>(big_endian ? u >> 8 : u & 0xFF));
    out.push_back(static_cast<char>(big_endian ? u & 0xFF : u >> 8));
  };
  put(0xFEFF);  // BOM
  for (char32_t cp : cps) {
    if (cp >= 0x10000) {
      put(static_cast<uint16_t>(0xD800 + ((cp - 0x10000) >> 10)));
      put(static_cast<uint16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF)));
    } else {
      put(static_cast<uint16_t>(cp));
    }
  }
  return out;
}

TEST_F(XmlFileCollectorTest, Utf16FilesWithBom) {
  const std::string a = goldenElement("dcagent_30002");  // holds "Renée", "Dupré"
  std::string b = goldenElement("pta_agent_12000");
  b.replace(b.find("&lt;none&gt;"), 12, "\xF0\x9F\x98\x80");  // U+1F600: a surrogate pair
  const std::string head = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Events>";
  const std::string utf8 = head + a + b + "</Events>";
  for (bool big_endian : {false, true}) {
    SCOPED_TRACE(big_endian ? "UTF-16BE" : "UTF-16LE");
    const fs::path path = write(big_endian ? "be.xml" : "le.xml", toUtf16(utf8, big_endian));
    for (size_t chunk : {size_t{0}, size_t{1}, size_t{3}, size_t{4096}}) {
      SCOPED_TRACE(chunk);
      FakeEventSink sink = run(path, chunk);
      ASSERT_TRUE(sink.errors.empty()) << sink.errors[0].error.toString();
      ASSERT_EQ(sink.events.size(), 2u);
      EXPECT_EQ(*sink.events[0].find("FullName"), "Jeanne Renée Dupré");
      EXPECT_EQ(*sink.events[1].find("Reason"), "\xF0\x9F\x98\x80 & \"ok\"");
      // Offsets are file bytes: BOM + 2 bytes per UTF-16 code unit before the element
      // (`a` holds three "é": two UTF-8 bytes each, one UTF-16 code unit each).
      EXPECT_EQ(sink.events[0].origin.position, 2 + 2 * head.size());
      EXPECT_EQ(sink.events[1].origin.position, 2 + 2 * (head.size() + a.size() - 3));
    }
  }
}

TEST_F(XmlFileCollectorTest, Utf16WithoutBomIsDetected) {
  std::string le = toUtf16(goldenElement("security_4624"), false).substr(2);
  FakeEventSink sink = run(write("nobom.xml", le));
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].origin.position, 0u);
}

TEST_F(XmlFileCollectorTest, EmptyMissingAndDirectoryPaths) {
  FakeEventSink empty = run(write("empty.xml", ""));
  ASSERT_EQ(empty.errors.size(), 1u);
  EXPECT_NE(empty.errors[0].error.message.find("empty file"), std::string::npos);

  FakeEventSink missing = run(dir_ / "does-not-exist.xml");
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].error.code, Errc::kIo);
  EXPECT_NE(missing.errors[0].error.message.find("does-not-exist.xml"), std::string::npos);

  FakeEventSink directory = run(dir_);
  ASSERT_EQ(directory.errors.size(), 1u);
  EXPECT_EQ(directory.errors[0].error.code, Errc::kIo);

  FakeEventSink no_events = run(write("text.xml", "<Events>\n</Events>\n"));
  ASSERT_EQ(no_events.errors.size(), 1u);
  EXPECT_NE(no_events.errors[0].error.message.find("no <Event> element"), std::string::npos);
}

TEST_F(XmlFileCollectorTest, TruncatedFileReportsTheLastElement) {
  const std::string a = goldenElement("security_4624");
  const std::string b = goldenElement("security_4625");
  FakeEventSink sink = run(write("cut.xml", a + b.substr(0, b.size() / 2)));
  ASSERT_EQ(sink.events.size(), 1u);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].position, a.size());
  EXPECT_NE(sink.errors[0].error.message.find("truncated"), std::string::npos);
}

TEST_F(XmlFileCollectorTest, FiftyMegabyteEventIsSkippedAndReadingGoesOn) {
  const std::string a = goldenElement("security_4624");
  const std::string c = goldenElement("security_4662");
  std::string huge = goldenElement("security_4625");
  huge.replace(huge.find("DC01$"), 5, std::string(50u << 20, 'x'));
  const fs::path path = write("huge.xml", "<Events>" + a + huge + c + "</Events>");

  FakeEventSink sink = run(path);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].system.event_id, 4624u);
  EXPECT_EQ(sink.events[1].system.event_id, 4662u);
  EXPECT_EQ(sink.events[1].origin.position, 8 + a.size() + huge.size());
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].error.code, Errc::kLimit);
  EXPECT_EQ(sink.errors[0].position, 8 + a.size());
  EXPECT_NE(sink.errors[0].error.message.find("4194304"), std::string::npos);
}

TEST_F(XmlFileCollectorTest, OversizedEventWithinOneChunkIsAlsoALimitError) {
  XmlParseLimits limits;
  limits.max_event_bytes = 1000;
  const std::string a = goldenElement("security_4624");  // about 2.3 KB
  const std::string b = goldenElement("dcagent_10016");  // below 1 KB without its comment
  ASSERT_LT(b.size(), 1000u);
  FakeEventSink sink = run(write("limit.xml", a + b), 0, limits);
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].error.code, Errc::kLimit);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].system.event_id, 10016u);
}

TEST_F(XmlFileCollectorTest, CdataAndAttributesMayHoldEndTags) {
  const std::string tricky =
      "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">"
      "<System><Provider Name=\"a>b\" EventSourceName='</Event>'/><EventID>7</EventID></System>"
      "<EventData><Data Name=\"x\"><![CDATA[</Event><Event>]]></Data></EventData></Event>";
  const std::string a = goldenElement("security_4624");
  FakeEventSink sink = run(write("tricky.xml", tricky + a), 5);
  ASSERT_TRUE(sink.errors.empty()) << sink.errors[0].error.toString();
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].system.provider_name, "a>b");
  EXPECT_EQ(sink.events[0].system.event_source_name, "</Event>");
  EXPECT_EQ(*sink.events[0].find("x"), "</Event><Event>");
  EXPECT_EQ(sink.events[1].origin.position, tricky.size());
}

TEST_F(XmlFileCollectorTest, DoctypeInFileIsReportedAndEventsStillRead) {
  const std::string head = "<!DOCTYPE Events [<!ENTITY x \"y\">]>";
  const std::string a = goldenElement("security_4624");
  FakeEventSink sink = run(write("doctype.xml", head + "<Events>" + a + "</Events>"));
  ASSERT_EQ(sink.errors.size(), 1u);
  EXPECT_EQ(sink.errors[0].position, 0u);
  EXPECT_NE(sink.errors[0].error.message.find("DOCTYPE not allowed"), std::string::npos);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].origin.position, head.size() + 8);
}

TEST_F(XmlFileCollectorTest, RandomBytesNeverCrash) {
  std::mt19937 rng(777);
  const std::string base = goldenElement("security_4624") + goldenElement("security_1102_userdata");
  for (int i = 0; i < 200; ++i) {
    std::string content = base;
    for (int k = 0; k < 8; ++k) content[rng() % content.size()] = static_cast<char>(rng());
    FakeEventSink sink = run(write("random.xml", content), 1 + rng() % 97);
    EXPECT_LE(sink.events.size(), 2u);
    EXPECT_GE(sink.events.size() + sink.errors.size(), 1u);
  }
}

}  // namespace
}  // namespace t0w
