// The checkpoint text of an EvtSubscriptionCollector: the bookmark XML, optionally behind a line
// with the backfill's progress (evt_subscription_collector.h).
#include <charconv>
#include <pugixml.hpp>
#include <string_view>

#include "collectors/eventlog/evt_subscription_collector.h"

namespace t0w {
namespace {

std::optional<uint64_t> parseU64(std::string_view text) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

constexpr std::string_view kBackfillTag = "t0w-backfill ";

}  // namespace

std::optional<uint64_t> bookmarkRecordId(std::string_view bookmark_xml) {
  pugi::xml_document doc;
  // No DOCTYPE/entities are parsed by pugixml's default options; the bookmark is our own
  // checkpoint, but it is read from disk like any input.
  if (!doc.load_buffer(bookmark_xml.data(), bookmark_xml.size())) return std::nullopt;
  const pugi::xml_node bookmark = doc.child("BookmarkList").child("Bookmark");
  const pugi::xml_attribute id = bookmark.attribute("RecordId");
  if (!id) return std::nullopt;
  const std::string_view text = id.value();
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

std::string makeBookmarkXml(std::string_view channel, uint64_t record_id) {
  std::string escaped;
  for (char c : channel) {
    switch (c) {
      case '&':
        escaped += "&amp;";
        break;
      case '\'':
        escaped += "&apos;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      default:
        escaped += c;
    }
  }
  return "<BookmarkList>\r\n  <Bookmark Channel='" + escaped + "' RecordId='" +
         std::to_string(record_id) + "' IsCurrent='true'/>\r\n</BookmarkList>";
}

std::string formatEvtCheckpoint(const EvtCheckpoint& c) {
  if (!c.backfill) return c.bookmark_xml;
  return std::string(kBackfillTag) + "next=" + std::to_string(c.backfill->next_record) +
         " last=" + std::to_string(c.backfill->last_record) +
         " from=" + std::to_string(c.backfill->from_filetime) + "\n" + c.bookmark_xml;
}

EvtCheckpoint parseEvtCheckpoint(std::string_view text) {
  EvtCheckpoint c;
  if (!text.starts_with(kBackfillTag)) {
    c.bookmark_xml = std::string(text);
    return c;
  }
  const size_t eol = text.find('\n');
  const std::string_view head = text.substr(
      kBackfillTag.size(), eol == std::string_view::npos ? text.npos : eol - kBackfillTag.size());
  c.bookmark_xml =
      eol == std::string_view::npos ? std::string() : std::string(text.substr(eol + 1));
  EvtCheckpoint::Backfill b;
  int seen = 0;
  size_t at = 0;
  while (at < head.size()) {
    size_t end = head.find(' ', at);
    if (end == std::string_view::npos) end = head.size();
    const std::string_view kv = head.substr(at, end - at);
    at = end + 1;
    const size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view k = kv.substr(0, eq);
    const auto v = parseU64(kv.substr(eq + 1));
    if (!v) continue;
    if (k == "next") {
      b.next_record = *v;
      ++seen;
    } else if (k == "last") {
      b.last_record = *v;
      ++seen;
    } else if (k == "from") {
      b.from_filetime = static_cast<int64_t>(*v);
      ++seen;
    }
  }
  // An unreadable backfill line: the live bookmark alone still resumes reading; the backfill is
  // dropped rather than guessed.
  if (seen == 3) c.backfill = b;
  return c;
}

}  // namespace t0w
