#include "collectors/tracefile/trace_text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "collectors/tracefile/trace_entry.h"
#include "collectors/tracefile/trace_glob.h"
#include "common/core/time.h"

namespace t0w {
namespace {

std::vector<TraceLine> split(TraceEncoding enc, const std::string& bytes, size_t chunk,
                             size_t max_line = 1 << 20, uint64_t start = 0) {
  TraceLineReader r(enc, start, max_line);
  std::vector<TraceLine> out;
  for (size_t i = 0; i < bytes.size(); i += chunk) {
    r.feed(std::string_view(bytes).substr(i, chunk), [&](TraceLine&& l) { out.push_back(l); });
  }
  return out;
}

std::string utf16(const std::u16string& s) {
  std::string out;
  for (char16_t c : s) {
    out += static_cast<char>(c & 0xFF);
    out += static_cast<char>(c >> 8);
  }
  return out;
}

TEST(TraceText, DetectsTheEncodingFromTheByteOrderMark) {
  EXPECT_EQ(detectEncoding("\xEF\xBB\xBF[", false)->bom, 3u);
  EXPECT_EQ(detectEncoding("\xFF\xFE[", false)->encoding, TraceEncoding::kUtf16Le);
  EXPECT_EQ(detectEncoding("[12", false)->encoding, TraceEncoding::kUtf8);
  EXPECT_EQ(detectEncoding("[12", false)->bom, 0u);
  EXPECT_FALSE(detectEncoding("\xEF\xBB", false));  // may still become a BOM
  EXPECT_FALSE(detectEncoding("", false));
  EXPECT_EQ(detectEncoding("\xEF\xBB", true)->bom, 0u);  // the file is done: no BOM
}

TEST(TraceText, SplitsUtf8LinesWithOffsetsInAnyChunkingAndDropsCr) {
  const std::string text = "one\r\ntwo\n\nthree\n";
  for (size_t chunk : {1u, 2u, 3u, 100u}) {
    auto lines = split(TraceEncoding::kUtf8, text, chunk);
    ASSERT_EQ(lines.size(), 4u) << chunk;
    EXPECT_EQ(lines[0].text, "one");
    EXPECT_EQ(lines[0].offset, 0u);
    EXPECT_EQ(lines[0].end, 5u);
    EXPECT_EQ(lines[1].text, "two");
    EXPECT_EQ(lines[1].offset, 5u);
    EXPECT_EQ(lines[2].text, "");
    EXPECT_EQ(lines[3].text, "three");
    EXPECT_EQ(lines[3].end, text.size());
  }
}

TEST(TraceText, HoldsAPartialLineUntilItsLineFeed) {
  TraceLineReader r(TraceEncoding::kUtf8, 10, 1 << 20);
  std::vector<TraceLine> got;
  r.feed("abc", [&](TraceLine&& l) { got.push_back(l); });
  EXPECT_TRUE(got.empty());
  EXPECT_TRUE(r.hasPartial());
  EXPECT_EQ(r.lineStart(), 10u);
  r.feed("def\nxy", [&](TraceLine&& l) { got.push_back(l); });
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].text, "abcdef");
  EXPECT_EQ(got[0].offset, 10u);
  EXPECT_EQ(r.lineStart(), 17u);
  auto partial = r.takePartial();
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->text, "xy");
  EXPECT_FALSE(r.hasPartial());
}

TEST(TraceText, ConvertsUtf16LeIncludingSurrogatesAcrossOddChunks) {
  const std::string bytes = utf16(u"[12:00:00.000] \u00e9\U0001F600\r\nzw\u20ac\n");
  for (size_t chunk : {1u, 3u, 5u, 64u}) {
    auto lines = split(TraceEncoding::kUtf16Le, bytes, chunk, 1 << 20, 0);
    ASSERT_EQ(lines.size(), 2u) << chunk;
    EXPECT_EQ(lines[0].text, "[12:00:00.000] \xC3\xA9\xF0\x9F\x98\x80");
    EXPECT_FALSE(lines[0].invalid);
    EXPECT_EQ(lines[1].text, "zw\xE2\x82\xAC");
    EXPECT_EQ(lines[1].offset, lines[0].end);
    EXPECT_EQ(lines[1].end, bytes.size());
  }
  // "\n" as the high byte of a unit (U+0A41) is not a line feed.
  auto one = split(TraceEncoding::kUtf16Le, utf16(u"\u0a41\u410a\n"), 1);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].text, "\xE0\xA9\x81\xE4\x84\x8A");
}

TEST(TraceText, ReplacesInvalidUtf8AndUnpairedSurrogates) {
  auto lines = split(TraceEncoding::kUtf8, "ok \xC3\x28 \xED\xA0\x80 \xF8!\n", 7);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].invalid);
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(lines[0].text, "ok " + r + "( " + r + r + r + " " + r + "!");
  std::string out;
  EXPECT_TRUE(appendUtf16LeAsUtf8(out, utf16(u"a\xD800"
                                             u"b")));
  EXPECT_EQ(out,
            "a\xEF\xBF\xBD"
            "b");
}

TEST(TraceText, CutsALineLongerThanTheCapAtACharacterBoundary) {
  std::string line(10, 'a');
  line += "\xC3\xA9";  // é straddles the 11-byte cap
  line += std::string(100, 'b');
  auto lines = split(TraceEncoding::kUtf8, line + "\nnext\n", 16, 11);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(lines[0].truncated);
  EXPECT_EQ(lines[0].text, std::string(10, 'a'));
  EXPECT_EQ(lines[0].raw_bytes, line.size());
  EXPECT_FALSE(lines[0].invalid);
  EXPECT_EQ(lines[1].text, "next");
  EXPECT_EQ(lines[1].offset, line.size() + 1);
}

TEST(TraceEntry, ParsesTheWizardsLineShapeAndKeepsOthersWhole) {
  auto f = parseTraceLine("[12:09:05.868] [  1] [INFO ] AADConnect changes ALLOWED: x");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->time, "12:09:05.868");
  EXPECT_EQ(f->thread, "1");
  EXPECT_EQ(f->level, "INFO");
  EXPECT_EQ(f->message, "AADConnect changes ALLOWED: x");
  EXPECT_EQ(f->time_of_day_ms, (12 * 3600 + 9 * 60 + 5) * 1000 + 868);
  auto e = parseTraceLine("[12:09:08.258] [ 12] [ERROR] DetectInstalledComponents : y");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->level, "ERROR");
  EXPECT_EQ(e->thread, "12");
  auto empty = parseTraceLine("[12:19:58.919] [ 1] [INFO ]");  // a blank message (real)
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->message, "");
  EXPECT_FALSE(parseTraceLine("   at Microsoft.Online.Deployment.OneADWizard.Foo()"));
  EXPECT_FALSE(parseTraceLine("[12:09:05.868] no thread"));
  EXPECT_TRUE(startsWithTraceTimestamp("[12:09:05.868] no thread"));
  EXPECT_FALSE(startsWithTraceTimestamp("[12:09:05] [1] [INFO ] short time"));
  EXPECT_EQ(traceLevelNumber("WARN"), 3);
  EXPECT_EQ(traceLevelNumber("VERB"), 5);
}

TEST(TraceEntry, TimeFromTheHeaderWithItsUtcOffsetAndMidnight) {
  TraceClock c;
  c.startFromFileName("trace-20231116-120902.log");
  ASSERT_TRUE(c.local_day);
  auto line = [](const char* text) { return *parseTraceLine(text); };
  EXPECT_FALSE(c.advance(line("[12:09:02.743] [  1] [INFO ] Application starting")));
  EXPECT_FALSE(c.advance(
      line("[12:09:02.743] [  1] [INFO ] Start Time (Local): Thu, 16 Nov 2023 12:09:02 GMT")));
  auto t = c.advance(
      line("[12:09:02.743] [  1] [INFO ] Start Time (UTC): Thu, 16 Nov 2023 17:09:02 GMT"));
  ASSERT_TRUE(t);
  EXPECT_EQ(*c.utc_offset_minutes, -300);
  EXPECT_EQ(formatFiletime(*t), "2023-11-16T17:09:02.7430000Z");
  auto after_midnight = c.advance(line("[00:00:01.000] [  1] [INFO ] late"));
  EXPECT_EQ(formatFiletime(*after_midnight), "2023-11-17T05:00:01.0000000Z");
}

TEST(TraceGlob, ExpandsEnvironmentVariablesAndMatchesWildcards) {
  EnvLookup env = [](const std::string& n) -> std::optional<std::string> {
    if (n == "ProgramData") return std::string("C:\\ProgramData");
    return std::nullopt;
  };
  EXPECT_EQ(expandEnvironment("%ProgramData%\\AADConnect\\trace-*.log", env),
            "C:\\ProgramData\\AADConnect\\trace-*.log");
  EXPECT_EQ(expandEnvironment("%Nope%\\x %% 50%", env), "%Nope%\\x %% 50%");
  EXPECT_TRUE(wildcardMatch("trace-*.log", "trace-20231116-120902.log", false));
  EXPECT_FALSE(wildcardMatch("trace-*.log", "trace-1.log.bak", false));
  EXPECT_TRUE(wildcardMatch("TRACE-*.LOG", "trace-1.log", true));
  EXPECT_FALSE(wildcardMatch("TRACE-*.LOG", "trace-1.log", false));
  EXPECT_TRUE(wildcardMatch("a?c*", "abcdef", false));
  EXPECT_TRUE(wildcardMatch("*", "", false));
}

}  // namespace
}  // namespace t0w
