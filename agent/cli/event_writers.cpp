#include "agent/cli/event_writers.h"

#include <array>
#include <string_view>

#include "agent/core/event_json.h"
#include "common/core/time.h"

namespace t0w::cli {
namespace {

// Fields an analyst looks at first on a DC: who, from where, what, outcome.
constexpr std::array<std::string_view, 20> kKeyFields{"TargetUserName",
                                                      "SubjectUserName",
                                                      "IpAddress",
                                                      "ServiceName",
                                                      "TicketEncryptionType",
                                                      "Status",
                                                      "SubStatus",
                                                      "LogonType",
                                                      "NewUacValue",
                                                      "AllowedToDelegateTo",
                                                      "AccessMask",
                                                      "Properties",
                                                      "ObjectName",
                                                      "WorkstationName",
                                                      "Workstation",
                                                      "SamAccountName",
                                                      "TargetSid",
                                                      "TargetDomainName",
                                                      "UserName",
                                                      "Message"};
constexpr size_t kMaxKeyFields = 4;
constexpr size_t kMaxValueChars = 48;

// One line per event: control characters become spaces, long values are cut.
std::string cell(std::string_view v, size_t max_chars) {
  std::string out;
  out.reserve(std::min(v.size(), max_chars));
  bool space = false;
  for (char c : v) {
    if (out.size() == max_chars) {
      out.append("...");
      break;
    }
    if (static_cast<unsigned char>(c) < 0x20) {
      if (!space && !out.empty()) out.push_back(' ');
      space = true;
      continue;
    }
    space = false;
    out.push_back(c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string padded(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

}  // namespace

void JsonlEventWriter::onEvent(Event&& event) {
  line_.clear();
  appendEventJsonLine(line_, event);
  line_.push_back('\n');
  out_.write(line_.data(), static_cast<std::streamsize>(line_.size()));
}

std::string TableEventWriter::keyFields(const Event& event) {
  std::string out;
  size_t n = 0;
  auto add = [&](std::string_view name, const std::string& value) {
    if (!out.empty()) out.push_back(' ');
    out.append(name);
    out.push_back('=');
    out.append(cell(value, kMaxValueChars));
    ++n;
  };
  for (std::string_view name : kKeyFields) {
    if (n == kMaxKeyFields) break;
    const std::string* v = event.find(name);
    if (v != nullptr && !v->empty() && *v != "-") add(name, *v);
  }
  // Events without any of the well-known fields (agent channels): their first fields.
  if (n == 0) {
    for (size_t i = 0; i < event.fields().size() && i < kMaxKeyFields - 1; ++i) {
      add(event.fields()[i].name, event.fields()[i].value);
    }
  }
  return out;
}

void TableEventWriter::onEvent(Event&& event) {
  if (!header_written_) {
    out_ << padded("TIME (UTC)", 20) << ' ' << padded("CHANNEL", 24) << ' ' << padded("EVENTID", 7)
         << ' ' << padded("COMPUTER", 24) << " DETAILS\n";
    header_written_ = true;
  }
  std::string time = "-";
  if (event.system.time_created) {
    // "2019-05-08T02:10:43.4872170Z" -> "2019-05-08 02:10:43": the table is for reading.
    time = formatFiletime(*event.system.time_created);
    if (time.size() >= 19) {
      time.resize(19);
      time[10] = ' ';
    }
  }
  out_ << padded(time, 20) << ' ' << padded(cell(event.system.channel, 24), 24) << ' '
       << padded(std::to_string(event.system.event_id), 7) << ' '
       << padded(cell(event.system.computer, 24), 24) << ' ' << keyFields(event) << '\n';
}

}  // namespace t0w::cli
