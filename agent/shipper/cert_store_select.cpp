#include "agent/shipper/cert_store_select.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "common/text/ascii.h"

namespace t0w {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool isDottedOid(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  bool previous_dot = false;
  for (char c : s) {
    if (c == '.') {
      if (previous_dot) return false;
      previous_dot = true;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      previous_dot = false;
    } else {
      return false;
    }
  }
  return s.find('.') != std::string_view::npos;
}

bool matches(const CertificateDescriptor& cert, const ClientCertSelector& selector) {
  switch (selector.match) {
    case ClientCertMatch::kThumbprint:
      return lowerAscii(cert.thumbprint) == selector.value;
    case ClientCertMatch::kSubject:
      return lowerAscii(cert.subject_cn).find(lowerAscii(selector.value)) != std::string::npos;
    case ClientCertMatch::kTemplate:
      if (isDottedOid(selector.value)) return cert.template_oid == selector.value;
      return !cert.template_name.empty() &&
             lowerAscii(cert.template_name) == lowerAscii(selector.value);
    case ClientCertMatch::kNone:
      return false;
  }
  return false;
}

const char* matchName(ClientCertMatch match) {
  switch (match) {
    case ClientCertMatch::kThumbprint:
      return "thumbprint";
    case ClientCertMatch::kSubject:
      return "subject";
    case ClientCertMatch::kTemplate:
      return "template";
    case ClientCertMatch::kNone:
      return "none";
  }
  return "?";
}

}  // namespace

Result<ClientCertSelector> parseClientCertSelector(std::string_view text) {
  text = trim(text);
  ClientCertSelector selector;
  if (text.empty()) return selector;
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return makeError(Errc::kInvalidArgument,
                     "client certificate selector '" + std::string(text) +
                         "': expected thumbprint:<hex>, subject:<text> or template:<name|OID>");
  }
  const std::string kind = lowerAscii(trim(text.substr(0, colon)));
  const std::string_view value = trim(text.substr(colon + 1));
  if (value.empty()) {
    return makeError(Errc::kInvalidArgument,
                     "client certificate selector '" + std::string(text) + "': empty value");
  }
  if (kind == "thumbprint") {
    std::string hex;
    for (char c : value) {
      if (c == ' ' || c == ':') continue;
      if (!std::isxdigit(static_cast<unsigned char>(c))) {
        return makeError(Errc::kInvalidArgument, "client certificate thumbprint '" +
                                                     std::string(value) + "': not hexadecimal");
      }
      hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (hex.size() != 40) {
      return makeError(Errc::kInvalidArgument, "client certificate thumbprint '" +
                                                   std::string(value) +
                                                   "': a SHA-1 thumbprint has 40 hex digits, got " +
                                                   std::to_string(hex.size()));
    }
    selector.match = ClientCertMatch::kThumbprint;
    selector.value = std::move(hex);
  } else if (kind == "subject") {
    selector.match = ClientCertMatch::kSubject;
    selector.value = std::string(value);
  } else if (kind == "template") {
    selector.match = ClientCertMatch::kTemplate;
    selector.value = std::string(value);
  } else {
    return makeError(Errc::kInvalidArgument, "client certificate selector: unknown kind '" + kind +
                                                 "' (thumbprint, subject or template)");
  }
  return selector;
}

Result<size_t> selectClientCertificate(const std::vector<CertificateDescriptor>& candidates,
                                       const ClientCertSelector& selector, int64_t now) {
  if (selector.match == ClientCertMatch::kNone) {
    return makeError(Errc::kInvalidArgument, "no client certificate selector given");
  }
  size_t matched = 0, expired = 0, no_key = 0, wrong_usage = 0;
  std::optional<size_t> best;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const CertificateDescriptor& cert = candidates[i];
    if (!matches(cert, selector)) continue;
    ++matched;
    if (now < cert.not_before || now > cert.not_after) {
      ++expired;
      continue;
    }
    if (!cert.has_private_key) {
      ++no_key;
      continue;
    }
    if (!cert.client_auth_usage) {
      ++wrong_usage;
      continue;
    }
    if (!best) {
      best = i;
      continue;
    }
    const CertificateDescriptor& current = candidates[*best];
    if (cert.not_before > current.not_before ||
        (cert.not_before == current.not_before && cert.not_after > current.not_after)) {
      best = i;
    }
  }
  if (best) return *best;
  std::string why = "no client certificate matches " + std::string(matchName(selector.match)) +
                    " '" + selector.value + "' among " + std::to_string(candidates.size()) +
                    " certificate(s)";
  if (matched > 0) {
    why += ": " + std::to_string(matched) + " matched but " + std::to_string(expired) +
           " outside their validity period, " + std::to_string(no_key) +
           " without a private key, " + std::to_string(wrong_usage) +
           " not valid for client authentication";
  }
  return makeError(Errc::kNotFound, why);
}

namespace {

// One DER TLV at the start of `in`: returns the tag and value and advances `in` past it.
bool readTlv(std::string_view& in, unsigned char& tag, std::string_view& value) {
  if (in.size() < 2) return false;
  tag = static_cast<unsigned char>(in[0]);
  size_t length = static_cast<unsigned char>(in[1]);
  size_t header = 2;
  if (length & 0x80) {
    const size_t octets = length & 0x7f;
    if (octets == 0 || octets > 4 || in.size() < 2 + octets) return false;
    length = 0;
    for (size_t i = 0; i < octets; ++i) {
      length = (length << 8) | static_cast<unsigned char>(in[2 + i]);
    }
    header += octets;
  }
  if (in.size() - header < length) return false;
  value = in.substr(header, length);
  in.remove_prefix(header + length);
  return true;
}

void appendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

}  // namespace

std::optional<std::string> decodeTemplateOidExtension(std::string_view der) {
  unsigned char tag = 0;
  std::string_view sequence, oid;
  if (!readTlv(der, tag, sequence) || tag != 0x30) return std::nullopt;
  if (!readTlv(sequence, tag, oid) || tag != 0x06 || oid.empty()) return std::nullopt;
  std::string out;
  uint64_t arc = 0;
  bool first = true;
  for (size_t i = 0; i < oid.size(); ++i) {
    const auto byte = static_cast<unsigned char>(oid[i]);
    if (arc == 0 && byte == 0x80) return std::nullopt;  // non-minimal encoding
    if (arc > (uint64_t{1} << 56)) return std::nullopt;
    arc = (arc << 7) | (byte & 0x7f);
    if (byte & 0x80) {
      if (i + 1 == oid.size()) return std::nullopt;  // truncated arc
      continue;
    }
    if (first) {
      const uint64_t top = arc < 40 ? 0 : arc < 80 ? 1 : 2;
      out = std::to_string(top) + "." + std::to_string(arc - top * 40);
      first = false;
    } else {
      out += "." + std::to_string(arc);
    }
    arc = 0;
  }
  return out;
}

std::optional<std::string> decodeTemplateNameExtension(std::string_view der) {
  unsigned char tag = 0;
  std::string_view value;
  if (!readTlv(der, tag, value)) return std::nullopt;
  if (tag == 0x0c || tag == 0x13 || tag == 0x16) return std::string(value);  // UTF8/Printable/IA5
  if (tag != 0x1e || value.size() % 2 != 0) return std::nullopt;             // BMPString
  std::string out;
  for (size_t i = 0; i < value.size(); i += 2) {
    const uint32_t unit =
        (static_cast<unsigned char>(value[i]) << 8) | static_cast<unsigned char>(value[i + 1]);
    if (unit >= 0xd800 && unit <= 0xdfff) return std::nullopt;  // BMP has no surrogates
    appendUtf8(out, unit);
  }
  return out;
}

}  // namespace t0w
