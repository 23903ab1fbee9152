// libFuzzer target for the Sigma loader and condition parser: arbitrary bytes as a rule file
// (YAML, collections, detection, modifiers) and as a condition string. Besides "no crash, no
// sanitizer report, no hang", it checks that every rejection says why, and evaluates whatever
// loads against a few events so the compiled matchers run too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "agent/rules/condition_parser.h"
#include "agent/rules/rule_set.h"

namespace {

class CountingSink final : public t0w::AlertSink {
 public:
  void onAlert(t0w::Alert&&) override { ++n; }
  size_t n = 0;
};

std::shared_ptr<const t0w::Event> sampleEvent(const char* channel, uint32_t id) {
  auto e = std::make_shared<t0w::Event>();
  e->system.channel = channel;
  e->system.event_id = id;
  e->system.provider_name = "Microsoft-Windows-Sysmon";
  e->system.time_created = 133000000000000000;
  e->addField("CommandLine", "powershell -enc SQBFAFgA /c whoami 10.1.2.3");
  e->addField("Image", "C:\\Windows\\System32\\cmd.exe");
  e->addField("ParentImage", "C:\\Windows\\explorer.exe");
  e->addField("TargetUserName", "admin");
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  // The condition parser on its own (the whole input as a condition).
  t0w::RuleLimits limits;
  auto cond = t0w::parseCondition(text, limits);
  if (!cond.ok() && cond.error().message.empty()) std::abort();

  // The whole loader: YAML → documents → compiled rules and correlations.
  t0w::RuleCompileOptions options;
  options.placeholders["Admins"] = {"admin", "root"};
  t0w::RuleSet rules(options);
  t0w::RuleLoadReport report;
  rules.loadText(text, "fuzz.yml", report);
  rules.finalize(report);
  for (const auto& r : report.rejected) {
    if (r.kind.empty() || r.message.empty()) std::abort();  // rejections must say why
  }
  CountingSink sink;
  for (auto [channel, id] : {std::pair{"Microsoft-Windows-Sysmon/Operational", 1u},
                             std::pair{"Security", 4688u}, std::pair{"Security", 4625u}}) {
    rules.evaluate(sampleEvent(channel, id), sink);
  }
  rules.flush(sink);
  return 0;
}
