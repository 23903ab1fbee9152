// The Reader's EvtFormatMessage of event messages (Entra channels), with one publisher metadata
// handle per provider.
#include <string>
#include <utility>

#include "collectors/eventlog/evt_subscription_reader.h"

namespace t0w {
namespace {

std::string localeName(uint32_t lcid) {
  switch (lcid) {
    case 1033:
      return "en-US";
    case 2057:
      return "en-GB";
    case 1031:
      return "de-DE";
    case 1036:
      return "fr-FR";
    default:
      return "lcid:" + std::to_string(lcid);
  }
}

}  // namespace

void EvtSubscriptionCollector::Reader::formatMessage(EvtApi::Handle event, Event& ev) {
  const std::string& name = ev.system.provider_name;
  if (name.empty()) return;
  auto it = publishers_.find(name);
  if (it == publishers_.end()) {
    Publisher p;
    EvtApi::Handle h = EvtApi::kNoHandle;
    p.error = api_.openPublisherMetadata(name, o_.message_locale, h);
    if (p.error == evt_errc::kOk) {
      p.metadata = EvtHandle(api_, h);
      ++c_.stats_.publishers_opened;
    } else {
      publisherFailed(name, p.error);
    }
    it = publishers_.emplace(name, std::move(p)).first;
  }
  if (it->second.error != evt_errc::kOk) {
    ++c_.stats_.format_errors;
    return;
  }
  std::string text;
  const uint32_t e = api_.formatEventMessage(it->second.metadata.get(), event, text);
  if (e == evt_errc::kOk || (e == evt_errc::kUnresolvedValueInsert && !text.empty())) {
    if (!ev.rendering) ev.rendering.emplace();
    ev.rendering->message = std::move(text);
    ev.rendering->culture = localeName(o_.message_locale);
    ++c_.stats_.messages_formatted;
    return;
  }
  ++c_.stats_.format_errors;
  if (e == evt_errc::kPublisherDisabled) publisherFailed(name, e);
}

void EvtSubscriptionCollector::Reader::publisherFailed(const std::string& name, uint32_t e) {
  if (!reported_publishers_.insert(name).second) return;
  if (e == evt_errc::kPublisherDisabled) {
    notice("eventlog_publisher_disabled", "publisher " + name +
                                              " is disabled: its messages cannot be formatted (" +
                                              api_.errorText(e) + ")");
    return;
  }
  report(errcForWin32(e), o_.channel + ": EvtOpenPublisherMetadata(" + name + ", locale " +
                              localeName(o_.message_locale) + "): " + api_.errorText(e) +
                              "; its events are delivered without message text");
}

}  // namespace t0w
