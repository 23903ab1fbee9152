#include "collectors/eventlog/evt_api.h"

#include "common/core/time.h"
#include "common/text/xml_escape.h"

namespace t0w {

std::string historyQueryXml(std::string_view channel, std::string_view xpath,
                            const EvtHistoryRange& range) {
  const std::string path = xmlEscape(channel);
  // Suppress removes what is outside the range from what Select selects (structured XML query,
  // "Suppress" element); the XPath of the configuration stays untouched inside Select.
  std::string outside = "EventRecordID &lt; " + std::to_string(range.first_record) +
                        " or EventRecordID &gt; " + std::to_string(range.last_record);
  if (range.from_filetime != 0) {
    // Milliseconds, the precision the Event Log's XPath examples use ("...T10:00:00.000Z").
    std::string when = formatFiletime(range.from_filetime);  // ...ss.fffffffZ
    if (when.size() == 28) when = when.substr(0, 23) + "Z";
    outside += " or TimeCreated[@SystemTime &lt; '" + when + "']";
  }
  return "<QueryList><Query Id=\"0\" Path=\"" + path + "\"><Select Path=\"" + path + "\">" +
         xmlEscape(xpath.empty() ? std::string_view("*") : xpath) + "</Select><Suppress Path=\"" +
         path + "\">*[System[" + outside + "]]</Suppress></Query></QueryList>";
}

}  // namespace t0w
