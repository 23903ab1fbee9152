#include "common/http/url.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>

#include "common/text/ascii.h"

namespace t0w {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool percentDecode(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hexValue(in[i + 1]);
    const int lo = hexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

}  // namespace

bool Url::hostIsIpLiteral() const {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

std::string Url::authority() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + port;
}

Result<Url> parseUrl(std::string_view text) {
  auto fail = [](std::string_view what) {
    return makeError(Errc::kInvalidArgument, "URL: " + std::string(what));
  };
  Url url;
  const size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return fail("missing scheme (expected https://)");
  url.scheme = lowerAscii(text.substr(0, scheme_end));
  if (url.scheme != "https" && url.scheme != "http") {
    return fail("unsupported scheme '" + url.scheme + "'");
  }
  std::string_view rest = text.substr(scheme_end + 3);
  const size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view path = path_start == std::string_view::npos ? "" : rest.substr(path_start);
  if (!path.empty() && path.front() != '/') return fail("query or fragment not allowed");
  if (path.find_first_of("?#") != std::string_view::npos)
    return fail("query or fragment not allowed");
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.path = std::string(path);

  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const size_t colon = userinfo.find(':');
    if (!percentDecode(userinfo.substr(0, colon), url.username)) return fail("bad user name");
    if (colon != std::string_view::npos &&
        !percentDecode(userinfo.substr(colon + 1), url.password)) {
      return fail("bad password encoding");
    }
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("unterminated IPv6 literal");
    url.host = lowerAscii(authority.substr(1, close - 1));
    if (url.host.find(':') == std::string::npos) return fail("bad IPv6 literal");
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("garbage after IPv6 literal");
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    url.host = lowerAscii(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    // A colon in a host is an IPv6 literal, which must be in brackets.
    if (url.host.find(':') != std::string::npos) return fail("IPv6 host without brackets");
  }
  if (url.host.empty()) return fail("missing host");
  const bool control = std::any_of(url.host.begin(), url.host.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
  });
  if (control || url.host.find_first_of("/\\@[]") != std::string::npos) return fail("bad host");
  if (port.empty()) {
    url.port = url.scheme == "https" ? "443" : "80";
  } else {
    if (port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return fail("bad port");
    }
    const int value = std::stoi(std::string(port));
    if (value < 1 || value > 65535) return fail("port out of range");
    url.port = std::string(port);
  }
  return url;
}

}  // namespace t0w
