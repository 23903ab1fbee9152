// Detection semantics: every value modifier and selection form, each with events that must match
// and events that must not.
#include <gtest/gtest.h>

#include "tests/unit/rules/rule_test_support.h"

namespace t0w::testing {
namespace {

LoadedRules rule(const std::string& detection, RuleCompileOptions opts = {}) {
  auto r = load(procRule(detection), std::move(opts));
  EXPECT_EQ(r.set->size(), 1u) << r.rejection();
  return r;
}

Event cmd(const std::string& command_line) { return sysmon1({{"CommandLine", command_line}}); }

TEST(Modifiers, PlainValueIsCaseInsensitiveEquality) {
  auto r = rule("    sel:\n      Image: 'C:\\Windows\\System32\\cmd.exe'\n    condition: sel\n");
  EXPECT_EQ(r.matches(sysmon1({{"Image", "c:\\windows\\system32\\CMD.exe"}})), 1u);
  EXPECT_EQ(r.matches(sysmon1({{"Image", "c:\\windows\\system32\\cmd.exe.bak"}})), 0u);
  EXPECT_EQ(r.matches(sysmon1({{"CommandLine", "C:\\Windows\\System32\\cmd.exe"}})), 0u);
}

TEST(Modifiers, ContainsStartswithEndswith) {
  auto c = rule("    sel:\n      CommandLine|contains: 'mimikatz'\n    condition: sel\n");
  EXPECT_EQ(c.matches(cmd("run MimiKatz.exe")), 1u);
  EXPECT_EQ(c.matches(cmd("run mimi katz")), 0u);
  auto s = rule("    sel:\n      CommandLine|startswith: 'powershell'\n    condition: sel\n");
  EXPECT_EQ(s.matches(cmd("PowerShell -enc")), 1u);
  EXPECT_EQ(s.matches(cmd("cmd /c powershell")), 0u);
  auto e = rule("    sel:\n      CommandLine|endswith: '.ps1'\n    condition: sel\n");
  EXPECT_EQ(e.matches(cmd("run x.PS1")), 1u);
  EXPECT_EQ(e.matches(cmd("run x.ps1 now")), 0u);
}

TEST(Modifiers, ValueListIsOrAndAllIsAnd) {
  auto any = rule(
      "    sel:\n      CommandLine|contains:\n        - 'a1'\n        - 'b2'\n"
      "    condition: sel\n");
  EXPECT_EQ(any.matches(cmd("xx b2")), 1u);
  EXPECT_EQ(any.matches(cmd("xx c3")), 0u);
  auto all = rule(
      "    sel:\n      CommandLine|contains|all:\n        - 'a1'\n        - 'b2'\n"
      "    condition: sel\n");
  EXPECT_EQ(all.matches(cmd("b2 then a1")), 1u);
  EXPECT_EQ(all.matches(cmd("only a1")), 0u);
}

TEST(Modifiers, MapIsAndListOfMapsIsOr) {
  auto m = rule(
      "    sel:\n      Image|endswith: '\\net.exe'\n      CommandLine|contains: ' user'\n"
      "    condition: sel\n");
  EXPECT_EQ(m.matches(sysmon1({{"Image", "C:\\w\\net.exe"}, {"CommandLine", "net user x"}})), 1u);
  EXPECT_EQ(m.matches(sysmon1({{"Image", "C:\\w\\net.exe"}, {"CommandLine", "net group"}})), 0u);
  auto l = rule(
      "    sel:\n      - Image|endswith: '\\a.exe'\n      - CommandLine: 'b'\n"
      "    condition: sel\n");
  EXPECT_EQ(l.matches(sysmon1({{"Image", "x\\a.exe"}})), 1u);
  EXPECT_EQ(l.matches(sysmon1({{"CommandLine", "B"}})), 1u);
  EXPECT_EQ(l.matches(sysmon1({{"CommandLine", "c"}})), 0u);
}

TEST(Modifiers, KeywordsMatchAnywhereInAnyField) {
  auto r = rule(
      "    keywords:\n      - 'evil.com'\n      - 'bad*thing'\n"
      "    condition: keywords\n");
  EXPECT_EQ(r.matches(sysmon1({{"A", "x"}, {"B", "GET http://EVIL.com/"}})), 1u);
  EXPECT_EQ(r.matches(sysmon1({{"A", "a bad old thing"}})), 1u);
  EXPECT_EQ(r.matches(sysmon1({{"A", "good.com"}})), 0u);
}

TEST(Modifiers, NullNumbersBooleansAndEmpty) {
  auto n = rule(
      "    sel:\n      Image|endswith: '.exe'\n      OriginalFileName: null\n"
      "    condition: sel\n");
  EXPECT_EQ(n.matches(sysmon1({{"Image", "a.exe"}})), 1u);
  EXPECT_EQ(n.matches(sysmon1({{"Image", "a.exe"}, {"OriginalFileName", ""}})), 1u);
  EXPECT_EQ(n.matches(sysmon1({{"Image", "a.exe"}, {"OriginalFileName", "a.exe"}})), 0u);
  auto num = rule("    sel:\n      TerminalSessionId: 0\n      Flag: true\n    condition: sel\n");
  EXPECT_EQ(num.matches(sysmon1({{"TerminalSessionId", "0"}, {"Flag", "True"}})), 1u);
  EXPECT_EQ(num.matches(sysmon1({{"TerminalSessionId", "1"}, {"Flag", "true"}})), 0u);
  EXPECT_EQ(num.matches(sysmon1({{"TerminalSessionId", "0"}, {"Flag", "false"}})), 0u);
  auto empty = rule("    sel:\n      Description: ''\n    condition: sel\n");
  EXPECT_EQ(empty.matches(sysmon1({{"Description", ""}})), 1u);
  EXPECT_EQ(empty.matches(sysmon1({{"Description", "x"}})), 0u);
}

TEST(Modifiers, Wildcards) {
  // Sigma escaping: `\\*` is a backslash followed by a wildcard; `\*` is a literal star.
  auto r = rule(
      "    sel:\n      Image: 'C:\\Users\\\\*\\AppData\\\\?emp\\\\*.exe'\n"
      "    condition: sel\n");
  EXPECT_EQ(r.matches(sysmon1({{"Image", "c:\\users\\bob\\appdata\\Temp\\x.exe"}})), 1u);
  EXPECT_EQ(r.matches(sysmon1({{"Image", "c:\\users\\bob\\appdata\\Tmp\\x.exe"}})), 0u);
  auto esc = rule("    sel:\n      CommandLine: 'echo \\*'\n    condition: sel\n");
  EXPECT_EQ(esc.matches(cmd("echo *")), 1u);
  EXPECT_EQ(esc.matches(cmd("echo x")), 0u);
}

TEST(Modifiers, Base64) {
  auto r = rule("    sel:\n      CommandLine|base64|contains: 'secret'\n    condition: sel\n");
  EXPECT_EQ(r.matches(cmd("x c2VjcmV0 y")), 1u);
  EXPECT_EQ(r.matches(cmd("secret")), 0u);
}

TEST(Modifiers, Base64OffsetAllAlignments) {
  auto r = rule(
      "    sel:\n      CommandLine|base64offset|contains: 'http://evil'\n"
      "    condition: sel\n");
  EXPECT_EQ(r.matches(cmd("-enc aHR0cDovL2V2aWw=")), 1u);      // offset 0
  EXPECT_EQ(r.matches(cmd("-enc YWh0dHA6Ly9ldmls")), 1u);      // offset 1
  EXPECT_EQ(r.matches(cmd("-enc YWJodHRwOi8vZXZpbA==")), 1u);  // offset 2
  EXPECT_EQ(r.matches(cmd("-enc aHR0cDovL2dvb2Q=")), 0u);      // http://good
}

TEST(Modifiers, Utf16EncodingsWithBase64) {
  auto le = rule(
      "    sel:\n      CommandLine|utf16le|base64offset|contains: 'whoami'\n"
      "    condition: sel\n");
  EXPECT_EQ(le.matches(cmd("-e dwBoAG8AYQBtAGkA")), 1u);
  EXPECT_EQ(le.matches(cmd("-e eAB4AHcAaABvAGEAbQBpAA==")), 1u);
  EXPECT_EQ(le.matches(cmd("-e d2hvYW1p")), 0u);  // UTF-8 base64 is not UTF-16
  auto wide = rule(
      "    sel:\n      CommandLine|wide|base64offset|contains: 'whoami'\n"
      "    condition: sel\n");
  EXPECT_EQ(wide.matches(cmd("dwBoAG8AYQBtAGkA")), 1u);
  // utf16be: "AH" = 0x00 0x41 ...; base64 of UTF-16BE "ab" is "AGEAYg==".
  auto be = rule(
      "    sel:\n      CommandLine|utf16be|base64|contains: 'ab'\n"
      "    condition: sel\n");
  EXPECT_EQ(be.matches(cmd("xAGEAYg==x")), 1u);
  EXPECT_EQ(be.matches(cmd("YQBiAA==")), 0u);  // that is UTF-16LE
  // utf16: BOM FF FE then LE: base64 of FF FE 61 00 62 00 is "//5hAGIA".
  auto bom = rule(
      "    sel:\n      CommandLine|utf16|base64|contains: 'ab'\n"
      "    condition: sel\n");
  EXPECT_EQ(bom.matches(cmd("//5hAGIA")), 1u);
  EXPECT_EQ(bom.matches(cmd("YQBiAA==")), 0u);
}

TEST(Modifiers, Windash) {
  auto r = rule(
      "    sel:\n      CommandLine|windash|contains: ' -exec bypass'\n"
      "    condition: sel\n");
  EXPECT_EQ(r.matches(cmd("powershell -exec bypass")), 1u);
  EXPECT_EQ(r.matches(cmd("powershell /exec bypass")), 1u);
  EXPECT_EQ(r.matches(cmd("powershell \xE2\x80\x93"
                          "exec bypass")),
            1u);
  EXPECT_EQ(r.matches(cmd("powershell \xE2\x80\x94"
                          "exec bypass")),
            1u);
  EXPECT_EQ(r.matches(cmd("powershell \xE2\x80\x95"
                          "exec bypass")),
            1u);
  EXPECT_EQ(r.matches(cmd("powershell +exec bypass")), 0u);
}

TEST(Modifiers, RegexWithFlags) {
  auto r = rule(
      "    sel:\n      CommandLine|re: '\\s-e(nc)?\\s+[A-Za-z0-9+/=]{8,}'\n"
      "    condition: sel\n");
  EXPECT_EQ(r.matches(cmd("powershell -enc SQBFAFgAIAAo")), 1u);
  EXPECT_EQ(r.matches(cmd("powershell -ENC SQBFAFgAIAAo")), 0u);  // case-sensitive
  auto i = rule("    sel:\n      CommandLine|re|i: '\\s-enc\\s'\n    condition: sel\n");
  EXPECT_EQ(i.matches(cmd("powershell -ENC x")), 1u);
  EXPECT_EQ(i.matches(cmd("powershell -e x")), 0u);
  auto m = rule("    sel:\n      CommandLine|re|m: '^line2$'\n    condition: sel\n");
  EXPECT_EQ(m.matches(cmd("line1\nline2\nline3")), 1u);
  EXPECT_EQ(m.matches(cmd("line1 line2")), 0u);
  auto s = rule("    sel:\n      CommandLine|re|s: 'begin.+end'\n    condition: sel\n");
  EXPECT_EQ(s.matches(cmd("begin\nend")), 1u);
  EXPECT_EQ(s.matches(cmd("end\nbegin")), 0u);
}

TEST(Modifiers, CidrV4AndV6) {
  auto r = rule(
      "    sel:\n      DestinationIp|cidr:\n        - '192.168.0.0/16'\n"
      "        - 'fd00::/8'\n    condition: sel\n");
  EXPECT_EQ(r.matches(sysmon1({{"DestinationIp", "192.168.10.1"}})), 1u);
  EXPECT_EQ(r.matches(sysmon1({{"DestinationIp", "fd12:3456::1"}})), 1u);
  EXPECT_EQ(r.matches(sysmon1({{"DestinationIp", "192.169.0.1"}})), 0u);
  EXPECT_EQ(r.matches(sysmon1({{"DestinationIp", "fe80::1"}})), 0u);
}

TEST(Modifiers, Exists) {
  auto yes = rule("    sel:\n      ParentImage|exists: true\n    condition: sel\n");
  EXPECT_EQ(yes.matches(sysmon1({{"ParentImage", "x"}})), 1u);
  EXPECT_EQ(yes.matches(sysmon1({{"Image", "x"}})), 0u);
  auto no = rule("    sel:\n      ParentImage|exists: false\n    condition: sel\n");
  EXPECT_EQ(no.matches(sysmon1({{"Image", "x"}})), 1u);
  EXPECT_EQ(no.matches(sysmon1({{"ParentImage", "x"}})), 0u);
}

TEST(Modifiers, Cased) {
  auto r = rule("    sel:\n      CommandLine|cased|contains: 'IEX'\n    condition: sel\n");
  EXPECT_EQ(r.matches(cmd("x IEX(y)")), 1u);
  EXPECT_EQ(r.matches(cmd("x iex(y)")), 0u);
}

TEST(Modifiers, Fieldref) {
  auto r = rule("    sel:\n      Image|fieldref: ParentImage\n    condition: sel\n");
  EXPECT_EQ(r.matches(sysmon1({{"Image", "C:\\a.exe"}, {"ParentImage", "c:\\A.EXE"}})), 1u);
  EXPECT_EQ(r.matches(sysmon1({{"Image", "C:\\a.exe"}, {"ParentImage", "C:\\b.exe"}})), 0u);
  EXPECT_EQ(r.matches(sysmon1({{"Image", "C:\\a.exe"}})), 0u);
  auto ends = rule("    sel:\n      CommandLine|fieldref|endswith: Image\n    condition: sel\n");
  EXPECT_EQ(ends.matches(sysmon1({{"CommandLine", "run c:\\a.exe"}, {"Image", "c:\\a.exe"}})), 1u);
  EXPECT_EQ(ends.matches(sysmon1({{"CommandLine", "c:\\a.exe run"}, {"Image", "c:\\a.exe"}})), 0u);
}

TEST(Modifiers, NumericComparisons) {
  auto lt = rule("    sel:\n      LogonType|lt: 3\n    condition: sel\n");
  EXPECT_EQ(lt.matches(sysmon1({{"LogonType", "2"}})), 1u);
  EXPECT_EQ(lt.matches(sysmon1({{"LogonType", "3"}})), 0u);
  auto lte = rule("    sel:\n      LogonType|lte: 3\n    condition: sel\n");
  EXPECT_EQ(lte.matches(sysmon1({{"LogonType", "3"}})), 1u);
  EXPECT_EQ(lte.matches(sysmon1({{"LogonType", "4"}})), 0u);
  auto gt = rule("    sel:\n      LogonType|gt: 9\n    condition: sel\n");
  EXPECT_EQ(gt.matches(sysmon1({{"LogonType", "10"}})), 1u);
  EXPECT_EQ(gt.matches(sysmon1({{"LogonType", "9"}})), 0u);
  auto gte = rule("    sel:\n      LogonType|gte: 10\n    condition: sel\n");
  EXPECT_EQ(gte.matches(sysmon1({{"LogonType", "10"}})), 1u);
  EXPECT_EQ(gte.matches(sysmon1({{"LogonType", "x"}})), 0u);
}

TEST(Modifiers, ExpandPlaceholders) {
  RuleCompileOptions opts;
  opts.placeholders["Admins"] = {"alice", "bob"};
  auto r = rule("    sel:\n      User|expand: 'CORP\\%Admins%'\n    condition: sel\n", opts);
  EXPECT_EQ(r.matches(sysmon1({{"User", "corp\\BOB"}})), 1u);
  EXPECT_EQ(r.matches(sysmon1({{"User", "corp\\mallory"}})), 0u);
  auto unknown = load(procRule("    sel:\n      User|expand: '%Nope%'\n    condition: sel\n"));
  EXPECT_EQ(unknown.set->size(), 0u);
  ASSERT_EQ(unknown.report.rejected.size(), 1u);
  EXPECT_EQ(unknown.report.rejected[0].kind, "unknown placeholder");
  EXPECT_NE(unknown.report.rejected[0].message.find("%Nope%"), std::string::npos);
}

TEST(Modifiers, BitAndTestsFlagBits) {
  // Tier0Watch extension (Sigma has no bitwise modifier): set -> cleared of one flag, the way
  // the delegation rules test OldUacValue/NewUacValue.
  auto r = load(
      "title: t\nid: 1\nlogsource: {product: windows, service: security}\ndetection:\n"
      "    new_set:\n      NewUacValue|bitand: 0x2000\n"
      "    old_set:\n      OldUacValue|bitand: 0x2000\n"
      "    condition: (new_set and not old_set) or (old_set and not new_set)\n");
  ASSERT_EQ(r.set->size(), 1u) << r.rejection();
  auto uac = [](const char* old_v, const char* new_v) {
    return makeEvent("Security", 4742, {{"OldUacValue", old_v}, {"NewUacValue", new_v}});
  };
  EXPECT_EQ(r.matches(uac("0x80", "0x2080")), 1u);
  EXPECT_EQ(r.matches(uac("0x2080", "0x80")), 1u);
  EXPECT_EQ(r.matches(uac("0x2080", "0x2081")), 0u);
  EXPECT_EQ(r.matches(uac("-", "-")), 0u);
  auto all = rule("    sel:\n      Flags|bitand|all: [0x1, 16]\n    condition: sel\n");
  EXPECT_EQ(all.matches(sysmon1({{"Flags", "17"}})), 1u);
  EXPECT_EQ(all.matches(sysmon1({{"Flags", "16"}})), 0u);
  for (const char* bad : {"'x'", "0", "-4", "null"}) {
    auto b = load(
        procRule(std::string("    sel:\n      Flags|bitand: ") + bad + "\n    condition: sel\n"));
    EXPECT_EQ(b.set->size(), 0u) << bad;
  }
  auto conflict = load(procRule("    sel:\n      Flags|bitand|contains: 1\n    condition: sel\n"));
  EXPECT_EQ(conflict.set->size(), 0u);
}

TEST(Modifiers, ExpandToAnEmptyListMatchesNothing) {
  RuleCompileOptions opts;
  opts.placeholders["Groups"] = {};
  auto r = rule(
      "    sel:\n      CommandLine|contains: 'net'\n"
      "    groups:\n      User|expand: '%Groups%'\n"
      "    condition: sel and not groups\n",
      opts);
  EXPECT_EQ(r.matches(sysmon1({{"CommandLine", "net"}, {"User", "x"}})), 1u);
  auto only = rule("    groups:\n      User|expand: '%Groups%'\n    condition: groups\n", opts);
  EXPECT_EQ(only.matches(sysmon1({{"User", ""}})), 0u);
  EXPECT_EQ(only.matches(sysmon1({})), 0u);
}

TEST(Modifiers, UnknownModifierAndBadRegexAreRejected) {
  auto m = load(procRule("    sel:\n      Image|sometimes: 'x'\n    condition: sel\n"));
  ASSERT_EQ(m.report.rejected.size(), 1u);
  EXPECT_EQ(m.report.rejected[0].kind, "unknown modifier");
  EXPECT_EQ(m.report.rejected[0].rule_id, "11111111-2222-3333-4444-555555555555");
  auto re = load(procRule("    sel:\n      Image|re: '(a)\\1'\n    condition: sel\n"));
  ASSERT_EQ(re.report.rejected.size(), 1u);
  EXPECT_EQ(re.report.rejected[0].kind, "unsupported regex");
  auto look = load(procRule("    sel:\n      Image|re: 'a(?!b)'\n    condition: sel\n"));
  ASSERT_EQ(look.report.rejected.size(), 1u);
  auto conflict =
      load(procRule("    sel:\n      Image|contains|endswith: 'x'\n"
                    "    condition: sel\n"));
  EXPECT_EQ(conflict.report.rejected.size(), 1u);
}

// ---- condition forms ----

const char* kSelections =
    "    sel_a:\n      CommandLine|contains: 'aaa'\n"
    "    sel_b:\n      CommandLine|contains: 'bbb'\n"
    "    filter_c:\n      CommandLine|contains: 'ccc'\n"
    "    _helper:\n      CommandLine|contains: 'zzz'\n";

LoadedRules cond(const std::string& condition) {
  return rule(std::string(kSelections) + "    condition: " + condition + "\n");
}

TEST(Conditions, AndOrNotParentheses) {
  auto r = cond("sel_a and not filter_c");
  EXPECT_EQ(r.matches(cmd("aaa")), 1u);
  EXPECT_EQ(r.matches(cmd("aaa ccc")), 0u);
  auto o = cond("sel_a or sel_b");
  EXPECT_EQ(o.matches(cmd("bbb")), 1u);
  EXPECT_EQ(o.matches(cmd("ccc")), 0u);
  auto p = cond("(sel_a or sel_b) and not filter_c");
  EXPECT_EQ(p.matches(cmd("bbb")), 1u);
  EXPECT_EQ(p.matches(cmd("bbb ccc")), 0u);
  auto prec = cond("sel_a or sel_b and filter_c");  // a or (b and c)
  EXPECT_EQ(prec.matches(cmd("aaa")), 1u);
  EXPECT_EQ(prec.matches(cmd("bbb")), 0u);
}

TEST(Conditions, OneOfAnyOfAllOf) {
  auto one = cond("1 of sel_*");
  EXPECT_EQ(one.matches(cmd("bbb")), 1u);
  EXPECT_EQ(one.matches(cmd("ccc")), 0u);
  auto any = cond("any of sel_*");
  EXPECT_EQ(any.matches(cmd("aaa")), 1u);
  EXPECT_EQ(any.matches(cmd("zzz")), 0u);
  auto all = cond("all of sel_*");
  EXPECT_EQ(all.matches(cmd("aaa bbb")), 1u);
  EXPECT_EQ(all.matches(cmd("aaa")), 0u);
  auto not_one = cond("sel_a and not 1 of filter_*");
  EXPECT_EQ(not_one.matches(cmd("aaa")), 1u);
  EXPECT_EQ(not_one.matches(cmd("aaa ccc")), 0u);
}

TEST(Conditions, ThemExcludesUnderscoreNames) {
  auto all = cond("all of them");
  EXPECT_EQ(all.matches(cmd("aaa bbb ccc")), 1u);  // _helper (zzz) is not required
  EXPECT_EQ(all.matches(cmd("aaa bbb")), 0u);
  auto one = cond("1 of them");
  EXPECT_EQ(one.matches(cmd("zzz")), 0u);  // only _helper would match
  EXPECT_EQ(one.matches(cmd("ccc")), 1u);
  auto explicit_helper = cond("_helper");
  EXPECT_EQ(explicit_helper.matches(cmd("zzz")), 1u);
}

TEST(Conditions, ListOfConditionsIsOr) {
  auto r = rule(std::string(kSelections) + "    condition:\n      - sel_a\n      - sel_b\n");
  EXPECT_EQ(r.matches(cmd("bbb")), 1u);
  EXPECT_EQ(r.matches(cmd("ccc")), 0u);
}

TEST(Conditions, BadReferencesAreRejected) {
  for (const char* c : {"sel_x", "1 of nothing_*", "sel_a and", "sel_a | count() > 3"}) {
    auto r = load(procRule(std::string(kSelections) + "    condition: " + c + "\n"));
    EXPECT_EQ(r.set->size(), 0u) << c;
    EXPECT_EQ(r.report.rejected.size(), 1u) << c;
  }
}

}  // namespace
}  // namespace t0w::testing
