// The small subset of URL syntax the shipper's configuration uses:
// scheme://[user[:pass]@]host[:port][/path].
#pragma once

#include <string>
#include <string_view>

#include "common/core/result.h"

namespace t0w {

struct Url {
  std::string scheme;    // lower case: "https" or "http"
  std::string username;  // percent-decoded; empty when absent
  std::string password;  // percent-decoded; a secret: never log it
  std::string host;      // without brackets for IPv6 literals
  std::string port;      // explicit or the scheme's default
  std::string path;      // "" or "/prefix" without a trailing slash

  bool hostIsIpLiteral() const;
  // "host:port" with IPv6 brackets restored, for Host and CONNECT.
  std::string authority() const;
};

// Accepts only http and https. The error message repeats the URL without its userinfo.
Result<Url> parseUrl(std::string_view text);

}  // namespace t0w
