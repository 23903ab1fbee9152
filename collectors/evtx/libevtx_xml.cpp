#include "collectors/evtx/libevtx_xml.h"

namespace t0w::evtx {
namespace {

bool isLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

size_t unpadHexValues(std::string& xml) {
  size_t rewritten = 0;
  std::string out;
  size_t copied = 0;  // xml[0, copied) is already in out
  size_t pos = 0;
  while ((pos = xml.find(">0x", pos)) != std::string::npos) {
    const size_t digits = pos + 3;
    size_t end = digits;
    while (end < xml.size() && isLowerHex(xml[end])) ++end;
    const size_t n = end - digits;
    if (end < xml.size() && xml[end] == '<' && (n == 8 || n == 16) && xml[digits] == '0') {
      size_t first = digits;
      while (first + 1 < end && xml[first] == '0') ++first;
      if (out.empty()) out.reserve(xml.size());
      out.append(xml, copied, digits - copied);
      out.append(xml, first, end - first);
      copied = end;
      ++rewritten;
    }
    pos = end;
  }
  if (rewritten > 0) {
    out.append(xml, copied, std::string::npos);
    xml = std::move(out);
  }
  return rewritten;
}

}  // namespace t0w::evtx
