#include "collectors/eventlog/event_xml_parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "agent/core/event_json.h"
#include "collectors/eventlog/xml_tree.h"
#include "common/core/time.h"
#include "tests/support/corpus.h"

namespace t0w {
namespace {

namespace fs = std::filesystem;
using ::t0w::testing::testData;

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// ---- golden files: tests/data/eventlog/<case>.xml → <case>.json -------------------------

std::vector<std::string> goldenCases() {
  std::vector<std::string> cases;
  for (const auto& entry : fs::directory_iterator(testData("eventlog"))) {
    if (entry.path().extension() == ".xml") cases.push_back(entry.path().stem().string());
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, ParsedJsonMatchesExpected) {
  const fs::path xml_path = testData("eventlog") / (GetParam() + ".xml");
  const fs::path json_path = testData("eventlog") / (GetParam() + ".json");
  ASSERT_TRUE(fs::exists(json_path)) << "missing expected file " << json_path;

  Result<Event> event = parseEventXml(readFile(xml_path));
  ASSERT_TRUE(event.ok()) << xml_path << ": " << event.error().toString();

  // Compared as unordered JSON: key order is eventToJson's business, values are the parser's.
  const nlohmann::json actual = nlohmann::json::parse(eventToJson(*event).dump());
  nlohmann::json expected;
  try {
    expected = nlohmann::json::parse(readFile(json_path));
  } catch (const std::exception& e) {
    FAIL() << json_path << " is not valid JSON: " << e.what();
  }
  EXPECT_TRUE(expected == actual) << xml_path << " differs from " << json_path
                                  << "\nJSON Patch from expected to actual:\n"
                                  << nlohmann::json::diff(expected, actual).dump(2) << "\nactual:\n"
                                  << eventToJson(*event).dump(2);
}

INSTANTIATE_TEST_SUITE_P(EventXml, GoldenTest, ::testing::ValuesIn(goldenCases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(GoldenFiles, EveryDocumentedCaseIsPresent) {
  const std::vector<std::string> cases = goldenCases();
  for (const char* required :
       {"security_4624", "security_4625", "security_4742", "security_4769", "security_4771",
        "security_4662", "security_1102_userdata", "dcagent_10014_rendering", "dcagent_10016",
        "dcagent_30002", "dcagent_30004", "pta_agent_80002_unnamed", "pta_agent_12000",
        "classic_scm_7036_binary", "classic_msiinstaller_unnamed"}) {
    EXPECT_NE(std::find(cases.begin(), cases.end(), required), cases.end()) << required;
  }
}

// ---- field access on a parsed event ------------------------------------------------------

TEST(EventXmlParser, FieldsAreFoundByNameAndKey) {
  Result<Event> event = parseEventXml(readFile(testData("eventlog/security_4624.xml")));
  ASSERT_TRUE(event.ok()) << event.error().toString();
  ASSERT_NE(event->find("TargetUserName"), nullptr);
  EXPECT_EQ(*event->find("TargetUserName"), "Administrator");
  EXPECT_EQ(*event->find(FieldKey("LogonType")), "2");
  EXPECT_EQ(event->find("NoSuchField"), nullptr);
  EXPECT_EQ(event->fields().size(), 27u);
  EXPECT_EQ(event->system.time_created, parseFiletime("2015-11-12T00:24:35.0797852Z"));
  EXPECT_EQ(event->data_section, Event::DataSection::kEventData);
}

const char* const kSmallEvent =
    R"(<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>)"
    R"(<Provider Name="P"/><EventID>1</EventID><Channel>C</Channel></System>)"
    R"(<EventData><Data Name="A">x</Data></EventData></Event>)";

std::string eventWith(const std::string& system_extra, const std::string& data) {
  return R"(<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>)"
         R"(<Provider Name="P"/>)" +
         system_extra + "</System>" + data + "</Event>";
}

TEST(EventXmlParser, MinimalEventParses) {
  Result<Event> event = parseEventXml(kSmallEvent);
  ASSERT_TRUE(event.ok()) << event.error().toString();
  EXPECT_EQ(event->system.event_id, 1u);
  EXPECT_EQ(event->system.channel, "C");
  EXPECT_FALSE(event->system.time_created.has_value());
  EXPECT_FALSE(event->system.qualifiers.has_value());
}

TEST(EventXmlParser, WhitespaceOnlyValueIsKept) {
  Result<Event> event =
      parseEventXml(eventWith("", R"(<EventData><Data Name="S"> </Data></EventData>)"));
  ASSERT_TRUE(event.ok()) << event.error().toString();
  ASSERT_NE(event->find("S"), nullptr);
  EXPECT_EQ(*event->find("S"), " ");
}

TEST(EventXmlParser, EmptyNumericElementsKeepDefaults) {
  Result<Event> event =
      parseEventXml(eventWith("<EventID>5</EventID><Opcode/><Task></Task><Keywords/>", ""));
  ASSERT_TRUE(event.ok()) << event.error().toString();
  EXPECT_EQ(event->system.opcode, 0);
  EXPECT_EQ(event->system.task, 0);
  EXPECT_EQ(event->system.keywords, 0u);
}

TEST(EventXmlParser, LeadingDeclarationAndCommentAreAllowed) {
  Result<Event> event = parseEventXml(std::string("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n") +
                                      "<!-- <!DOCTYPE in a comment is text --> " + kSmallEvent);
  ASSERT_TRUE(event.ok()) << event.error().toString();
}

TEST(EventXmlParser, InPlaceVariantGivesTheSameEvent) {
  std::string xml = readFile(testData("eventlog/security_4662.xml"));
  Result<Event> copy = parseEventXml(xml);
  Result<Event> in_place = parseEventXmlInPlace(xml.data(), xml.size());
  ASSERT_TRUE(copy.ok() && in_place.ok());
  EXPECT_EQ(eventToJson(*copy), eventToJson(*in_place));
}

// ---- error paths ---------------------------------------------------------------------------

void expectError(const Result<Event>& r, Errc code, const std::string& needle) {
  ASSERT_FALSE(r.ok()) << "expected an error containing \"" << needle << "\"";
  EXPECT_EQ(r.error().code, code) << r.error().toString();
  EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().toString();
}

TEST(EventXmlParserErrors, EmptyInput) {
  expectError(parseEventXml(""), Errc::kParse, "empty input");
  expectError(parseEventXml(" \r\n\t "), Errc::kParse, "empty input");
}

TEST(EventXmlParserErrors, MalformedXml) {
  expectError(parseEventXml("<Event><System></Event>"), Errc::kParse, "malformed XML at byte");
  expectError(parseEventXml("<Event attr=noquotes/>"), Errc::kParse, "malformed XML");
  expectError(parseEventXml("just text"), Errc::kParse, "");
}

TEST(EventXmlParserErrors, TruncatedXml) {
  const std::string xml = readFile(testData("eventlog/security_4624.xml"));
  for (size_t cut : {xml.size() / 4, xml.size() / 2, xml.size() - 3}) {
    SCOPED_TRACE(cut);
    expectError(parseEventXml(std::string_view(xml).substr(0, cut)), Errc::kParse, "malformed XML");
  }
}

TEST(EventXmlParserErrors, WrongRootAndMissingSystem) {
  expectError(parseEventXml("<Events><Event/></Events>"), Errc::kParse, "expected <Event>");
  expectError(parseEventXml("<Event><EventData/></Event>"), Errc::kParse, "no <System>");
}

TEST(EventXmlParserErrors, DoctypeAndEntitiesAreRejected) {
  const std::string laughs =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
      " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
      " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n]>\n"
      "<Event><System><Provider Name=\"&lol3;\"/></System></Event>";
  expectError(parseEventXml(laughs), Errc::kParse, "DOCTYPE not allowed");
  expectError(
      parseEventXml("<!DOCTYPE Event SYSTEM \"file:///etc/passwd\">" + std::string(kSmallEvent)),
      Errc::kParse, "DOCTYPE not allowed");
  expectError(parseEventXml("<Event><!ENTITY x \"y\"><System/></Event>"), Errc::kParse,
              "entity declaration");
}

TEST(EventXmlParserErrors, CdataMayHoldDoctypeText) {
  Result<Event> event =
      parseEventXml(eventWith("",
                              "<EventData><Data Name=\"M\"><![CDATA[<!DOCTYPE x>]]></Data>"
                              "</EventData>"));
  ASSERT_TRUE(event.ok()) << event.error().toString();
  EXPECT_EQ(*event->find("M"), "<!DOCTYPE x>");
}

TEST(EventXmlParserErrors, EventLargerThanLimit) {
  XmlParseLimits limits;
  limits.max_event_bytes = 256;
  const std::string xml = readFile(testData("eventlog/security_4624.xml"));
  expectError(parseEventXml(xml, limits), Errc::kLimit,
              "event is " + std::to_string(xml.size()) + " bytes");

  // The default limit (4 MiB) holds against a 5 MiB value.
  const std::string huge = eventWith(
      "", "<EventData><Data Name=\"Big\">" + std::string(5 << 20, 'a') + "</Data></EventData>");
  expectError(parseEventXml(huge), Errc::kLimit, "above the limit of 4194304");
}

std::string nestedUserData(size_t depth) {
  std::string open, close;
  for (size_t i = 0; i < depth; ++i) {
    open += "<n>";
    close += "</n>";
  }
  return eventWith("", "<UserData><Root>" + open + "x" + close + "</Root></UserData>");
}

TEST(EventXmlParserErrors, DeepNesting) {
  // Event > UserData > Root > n... : 3 levels before the chain.
  Result<Event> ok = parseEventXml(nestedUserData(29));
  ASSERT_TRUE(ok.ok()) << ok.error().toString();
  EXPECT_EQ(ok->fields().size(), 1u);
  EXPECT_EQ(ok->fields()[0].name.substr(0, 4), "n.n.");

  expectError(parseEventXml(nestedUserData(30)), Errc::kLimit, "nested deeper than the limit");
  expectError(parseEventXml(nestedUserData(200000)), Errc::kLimit, "nested deeper");
}

TEST(EventXmlParserErrors, TooManyFields) {
  XmlParseLimits limits;
  limits.max_fields = 26;
  expectError(parseEventXml(readFile(testData("eventlog/security_4624.xml")), limits), Errc::kLimit,
              "more than 26 data fields");
  limits.max_fields = 27;
  EXPECT_TRUE(parseEventXml(readFile(testData("eventlog/security_4624.xml")), limits).ok());
}

// Numbers of up to 19 digits are read by a short loop, longer ones and any with spaces or signs
// by from_chars: the same values and errors on both sides of that line and of each type's range.
TEST(EventXmlParser, NumbersAtTheEdgesOfTheirRangesAndOfTheShortReading) {
  auto recordId = [](const std::string& text) {
    return parseEventXml(eventWith("<EventRecordID>" + text + "</EventRecordID>", ""));
  };
  for (const auto& [text, value] : std::vector<std::pair<std::string, uint64_t>>{
           {"0", 0},
           {"9999999999999999999", 9999999999999999999ull},
           {"10000000000000000000", 10000000000000000000ull},
           {"18446744073709551615", 18446744073709551615ull},
           {"00000000000000000000042", 42},
           {" 17 ", 17}}) {
    auto e = recordId(text);
    ASSERT_TRUE(e.ok()) << text;
    EXPECT_EQ(e->system.record_id, value) << text;
  }
  expectError(recordId("18446744073709551616"), Errc::kParse, "is out of range");
  expectError(recordId("+5"), Errc::kParse, "EventRecordID: \"+5\" is not a number");
  auto id = parseEventXml(eventWith("<EventID>4294967295</EventID><Version>255</Version>", ""));
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->system.event_id, 4294967295u);
  EXPECT_EQ(id->system.version, 255);
}

TEST(EventXmlParserErrors, MalformedNumbersNameTheElement) {
  expectError(parseEventXml(eventWith("<EventID>abc</EventID>", "")), Errc::kParse,
              "EventID: \"abc\" is not a number");
  expectError(parseEventXml(eventWith("<EventID>4294967296</EventID>", "")), Errc::kParse,
              "EventID: \"4294967296\" is out of range");
  expectError(parseEventXml(eventWith("<EventID>-1</EventID>", "")), Errc::kParse, "EventID");
  expectError(parseEventXml(eventWith("<EventID Qualifiers=\"70000\">1</EventID>", "")),
              Errc::kParse, "EventID/@Qualifiers");
  expectError(parseEventXml(eventWith("<Version>256</Version>", "")), Errc::kParse,
              "Version: \"256\" is out of range");
  expectError(parseEventXml(eventWith("<Level>x</Level>", "")), Errc::kParse, "Level");
  expectError(parseEventXml(eventWith("<Task>70000</Task>", "")), Errc::kParse, "Task");
  expectError(parseEventXml(eventWith("<Opcode>1.5</Opcode>", "")), Errc::kParse, "Opcode");
  expectError(parseEventXml(eventWith("<Keywords>0xZZ</Keywords>", "")), Errc::kParse,
              "Keywords: \"0xZZ\" is not a hexadecimal number");
  expectError(parseEventXml(eventWith("<EventRecordID>12a</EventRecordID>", "")), Errc::kParse,
              "EventRecordID");
  expectError(parseEventXml(eventWith("<Execution ProcessID=\"x\" ThreadID=\"1\"/>", "")),
              Errc::kParse, "Execution/@ProcessID");
  expectError(parseEventXml(eventWith("<Execution ProcessID=\"1\" ThreadID=\"-2\"/>", "")),
              Errc::kParse, "Execution/@ThreadID");
}

TEST(EventXmlParserErrors, MalformedSystemTime) {
  expectError(parseEventXml(eventWith("<TimeCreated SystemTime=\"yesterday\"/>", "")), Errc::kParse,
              "TimeCreated/@SystemTime: \"yesterday\"");
  expectError(parseEventXml(eventWith("<TimeCreated SystemTime=\"2015-13-12T00:24:35Z\"/>", "")),
              Errc::kParse, "TimeCreated/@SystemTime");
}

TEST(EventXmlParserErrors, MalformedBinary) {
  expectError(parseEventXml(eventWith("", "<EventData><Binary>ABC</Binary></EventData>")),
              Errc::kParse, "EventData/Binary: odd number of hex digits");
  expectError(parseEventXml(eventWith("", "<EventData><Binary>0G</Binary></EventData>")),
              Errc::kParse, "EventData/Binary: \"0G\"");
}

TEST(EventXmlParserErrors, InvalidUtf8IsReplaced) {
  // Lone continuation byte, overlong '/', truncated 3-byte sequence, UTF-8-encoded surrogate.
  const std::string bad_value =
      "a\x80"
      "b\xC0\xAF"
      "c\xE2\x82"
      "d\xED\xA0\x80"
      "e";
  const std::string xml =
      eventWith("<Computer>host\xFF</Computer>",
                "<EventData><Data Name=\"N\xFE\">" + bad_value + "</Data></EventData>");
  Result<Event> event = parseEventXml(xml);
  ASSERT_TRUE(event.ok()) << event.error().toString();
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(event->system.computer, "host" + r);
  ASSERT_EQ(event->fields().size(), 1u);
  EXPECT_EQ(event->fields()[0].name, "N" + r);
  // One U+FFFD per broken sequence (common/text/utf8's rule): the cut one is one.
  EXPECT_EQ(event->fields()[0].value, "a" + r + "b" + r + r + "c" + r + "d" + r + r + r + "e");
  // Valid multi-byte UTF-8 (2, 3 and 4 bytes) passes unchanged.
  Result<Event> good = parseEventXml(
      eventWith("",
                "<EventData><Data Name=\"V\">\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80</Data>"
                "</EventData>"));
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good->find("V"), "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  // Error messages quoting input stay valid UTF-8 too.
  Result<Event> err = parseEventXml(eventWith("<EventID>\xFF</EventID>", ""));
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.error().message.find(r), std::string::npos);
}

TEST(EventXmlParserErrors, Utf16InputIsAnErrorNotACrash) {
  std::string utf16 = "\xFF\xFE";
  for (char c : std::string(kSmallEvent)) {
    utf16.push_back(c);
    utf16.push_back('\0');
  }
  Result<Event> r = parseEventXml(utf16);
  EXPECT_FALSE(r.ok());
}

TEST(EventXmlParserErrors, EmbeddedNulIsAnError) {
  std::string xml = kSmallEvent;
  xml[xml.find("<EventData>") + 3] = '\0';
  EXPECT_FALSE(parseEventXml(xml).ok());
}

TEST(EventXmlParserErrors, RandomBytesNeverCrash) {
  std::mt19937 rng(12345);
  const std::string base = readFile(testData("eventlog/security_4624.xml"));
  size_t failures = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string input;
    if (i % 2 == 0) {  // pure noise
      input.resize(rng() % 512);
      for (char& c : input) c = static_cast<char>(rng());
    } else {  // a real event with a few bytes flipped
      input = base;
      for (int k = 0; k < 4; ++k) input[rng() % input.size()] = static_cast<char>(rng());
    }
    Result<Event> r = parseEventXml(input);
    if (!r.ok()) {
      ++failures;
      EXPECT_FALSE(r.error().message.empty());
    }
  }
  EXPECT_GT(failures, 1000u);  // at least every noise input fails
}

// ---- EventXmlParser: one parser and one Event for a stream of events -----------------------

std::string freshJson(std::string_view xml) {
  Result<Event> event = parseEventXml(xml);
  EXPECT_TRUE(event.ok()) << event.error().toString();
  return event.ok() ? eventToJsonLine(*event) : "";
}

TEST(EventXmlParserReuse, EveryGoldenFileAfterEveryOtherGivesTheFreshResult) {
  std::vector<std::string> inputs;
  for (const std::string& name : goldenCases()) {
    inputs.push_back(readFile(testData("eventlog") / (name + ".xml")));
  }
  inputs.emplace_back(kSmallEvent);  // smaller than all: nothing of a bigger one may remain
  EventXmlParser parser;
  Event event;
  for (int pass = 0; pass < 2; ++pass) {
    for (const std::string& xml : inputs) {
      ASSERT_TRUE(parser.parse(xml, event).ok());
      EXPECT_EQ(eventToJsonLine(event), freshJson(xml)) << xml.substr(0, 200);
    }
    std::reverse(inputs.begin(), inputs.end());
  }
}

TEST(EventXmlParserReuse, AnEventAfterABiggerOneHasNoStaleFields) {
  EventXmlParser parser;
  Event event;
  ASSERT_TRUE(parser.parse(readFile(testData("eventlog/security_4624.xml")), event).ok());
  ASSERT_GT(event.fields().size(), 5u);
  ASSERT_TRUE(parser.parse(kSmallEvent, event).ok());
  EXPECT_EQ(event.fields().size(), 1u);
  EXPECT_EQ(event.find("TargetUserName"), nullptr);
  EXPECT_EQ(eventToJsonLine(event), freshJson(kSmallEvent));
}

TEST(EventXmlParserReuse, TheSameInputTwiceGivesIdenticalJsonAndEqualNames) {
  const std::string xml = readFile(testData("eventlog/security_4624.xml"));
  EventXmlParser parser;
  Event event;
  ASSERT_TRUE(parser.parse(xml, event).ok());
  const std::string first = eventToJsonLine(event);
  const std::vector<EventField> before(event.fields().begin(), event.fields().end());
  ASSERT_TRUE(parser.parse(xml, event).ok());
  EXPECT_EQ(eventToJsonLine(event), first);
  ASSERT_EQ(event.fields().size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(event.fields()[i].name, before[i].name);
    EXPECT_EQ(event.fields()[i].hash, before[i].hash);
    EXPECT_EQ(event.fields()[i].hash, fieldHash(event.fields()[i].name));
  }
  EXPECT_EQ(*event.find(FieldKey("TargetUserName")), *parseEventXml(xml)->find("TargetUserName"));
}

TEST(EventXmlParserReuse, AnErrorLeavesNothingForTheNextEvent) {
  EventXmlParser parser;
  Event event;
  // Fails after some fields were added (the Binary follows them).
  const std::string bad = eventWith(
      "", R"(<EventData><Data Name="A">1</Data><Data Name="B">2</Data><Binary>0G</Binary>)"
          "</EventData>");
  EXPECT_FALSE(parser.parse(bad, event).ok());
  ASSERT_TRUE(parser.parse(kSmallEvent, event).ok());
  EXPECT_EQ(eventToJsonLine(event), freshJson(kSmallEvent));
}

TEST(EventXmlParserReuse, InPlaceParsesGiveTheFreshResult) {
  const std::string a = readFile(testData("eventlog/security_4662.xml"));
  const std::string b = readFile(testData("eventlog/security_4624.xml"));
  EventXmlParser parser;
  Event event;
  for (const std::string& xml : {a, b, a}) {
    std::string copy = xml;
    ASSERT_TRUE(parser.parseInPlace(copy.data(), copy.size(), event).ok());
    EXPECT_EQ(eventToJsonLine(event), freshJson(xml));
  }
}

TEST(EventXmlParserReuse, InvalidUtf8NamesAreRepairedAsBefore) {
  const std::string xml = eventWith("", "<EventData><Data Name=\"N\xFF\">v\xC3</Data></EventData>");
  EventXmlParser parser;
  Event event;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(parser.parse(xml, event).ok());
    EXPECT_EQ(event.fields()[0].name, "N\xEF\xBF\xBD");
    EXPECT_EQ(event.fields()[0].value, "v\xEF\xBF\xBD");
    EXPECT_EQ(eventToJsonLine(event), freshJson(xml));
  }
}

// ---- the direct scan against pugixml --------------------------------------------------------

// Parses with the direct scan first (the default) and with pugixml only: the same event, or
// the same error.
void expectSameAsPugixml(const std::string& xml) {
  EventXmlParser fast;
  EventXmlParser pugixml;
  pugixml.setPugixmlOnly(true);
  Event a;
  Event b;
  const Status sa = fast.parse(xml, a);
  const Status sb = pugixml.parse(xml, b);
  ASSERT_EQ(sa.ok(), sb.ok()) << xml << "\n" << (sa.ok() ? sb : sa).error().message;
  if (sa.ok()) {
    EXPECT_EQ(eventToJsonLine(a), eventToJsonLine(b)) << xml;
  } else {
    EXPECT_EQ(sa.error().message, sb.error().message) << xml;
  }
}

// The <Event> element of a golden file (they open with a provenance comment).
std::string goldenEvent(const std::string& name) {
  const std::string xml = readFile(testData("eventlog") / (name + ".xml"));
  const size_t comment_end = xml.find("-->");
  const size_t start = xml.find('<', comment_end == std::string::npos ? 0 : comment_end);
  return xml.substr(start, xml.rfind('>') + 1 - start);
}

TEST(EventXmlParserScan, GoldenFilesGiveWhatPugixmlGives) {
  for (const std::string& name : goldenCases()) {
    expectSameAsPugixml(readFile(testData("eventlog") / (name + ".xml")));
    expectSameAsPugixml(goldenEvent(name));
  }
}

TEST(EventXmlParserScan, TheUsualEventIsScannedWithoutPugixml) {
  XmlTree tree;
  EXPECT_TRUE(scanSimpleXml(goldenEvent("security_4624"), tree));
  EXPECT_TRUE(scanSimpleXml(std::string("<?xml version=\"1.0\"?>\n") + kSmallEvent, tree));
}

TEST(EventXmlParserScan, EscapesWhitespaceAndOddSyntaxGiveWhatPugixmlGives) {
  const std::vector<std::string> data = {
      R"(<Data Name="a&amp;b">x &lt;y&gt; &quot;z&quot; &apos;w&apos; &amp;amp;</Data>)",
      R"(<Data Name="tab	and
newline">  leading and trailing  </Data>)",
      R"(<Data Name='single'>v</Data><Data Name="x">&#65;&#x42;</Data>)",
      R"(<Data Name="u">&unknown; &lt &amp</Data>)",
      R"(<Data Name="c"><![CDATA[<raw> & ]]></Data><Data Name="m">a<!-- c -->b</Data>)",
      "<Data Name=\"cr\">a\r\nb\rc</Data>",
      R"(<Data Name="ws"> </Data><Data Name="ws2">
  </Data><Data Name="e"></Data><Data Name="s"/><Data/>)",
      R"(<Data Name="lt<">v</Data>)",
      R"(<Data Name = "spaced" >v</Data >)",
      R"(<Data Name="a"b="c">v</Data>)",
      R"(<Data Name="n">a<b/>c</Data>)",
      R"(<Data Name="ü">é</Data><Data Näme="x">y</Data>)",
      R"(<Data Name="p"><?pi x?>v</Data>)",
      R"(<Binary>0A0B</Binary>)",
      // <Data Name=' and <Data Name=" are taken without scanning the names; the rest is not.
      R"(<Data Name= 'after'>v</Data><Data Name=bare>v</Data><Data Name=''>v</Data>)",
      R"(<Data Name='a' Other="b">v</Data><Data Name="x"/><Data Name='q"q'>v</Data>)",
      R"(<DataX Name='x'>v</DataX><Data Namex='x'>v</Data><Data  Name='two'>v</Data>)",
      R"(<Data Name='unterminated>v</Data>)",
      R"(<Data Name="tab	x" Second='&amp;'>v</Data><data Name='lower'>v</data>)",
  };
  for (const std::string& d : data) {
    expectSameAsPugixml(eventWith("<EventID>1</EventID>", "<EventData>" + d + "</EventData>"));
  }
  expectSameAsPugixml(eventWith("<EventID>1</EventID>",
                                R"(<UserData><R xmlns="u" a="1"><C b="2">t</C><C><D>v</D></C>)"
                                R"(</R></UserData>)"));
  expectSameAsPugixml(
      "<e:Event xmlns:e='x'><e:System><e:EventID>7</e:EventID></e:System>"
      "</e:Event>");
  expectSameAsPugixml(std::string(kSmallEvent) + "<Event/>");
  expectSameAsPugixml(std::string(kSmallEvent) + " trailing");
  expectSameAsPugixml("\xEF\xBB\xBF" + std::string(kSmallEvent));
  expectSameAsPugixml(std::string("<?xml version='1.0'?><!-- c -->") + kSmallEvent);
  expectSameAsPugixml("<Event/>");
  expectSameAsPugixml("<Other/>");
}

TEST(EventXmlParserScan, TruncatedAndMutatedInputGivesWhatPugixmlGives) {
  const std::string base = goldenEvent("security_4624");
  for (size_t cut = 0; cut < base.size(); cut += 7) expectSameAsPugixml(base.substr(0, cut));
  std::mt19937 rng(7);
  const char special[] = {'<',  '>', '&', '"', '\'', '/', '=', ' ',  '\t',   '\n',
                          '\r', '!', '?', ':', ';',  '#', 'x', '\0', '\xC3', '\xFF'};
  for (int i = 0; i < 3000; ++i) {
    std::string input = base;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits; ++k) {
      const size_t at = rng() % input.size();
      const char c = special[rng() % sizeof special];
      switch (rng() % 3) {
        case 0:
          input[at] = c;
          break;
        case 1:
          input.insert(input.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        default:
          input.erase(at, 1 + rng() % 4);
          break;
      }
      if (input.empty()) input = "<";
    }
    expectSameAsPugixml(input);
  }
}

}  // namespace
}  // namespace t0w
