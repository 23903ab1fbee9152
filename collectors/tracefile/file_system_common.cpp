#include <cstdio>
#include <filesystem>
#include <system_error>

#include "collectors/tracefile/file_system.h"

namespace t0w {

std::string FileIdentity::toString() const {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%llx-%llx", static_cast<unsigned long long>(volume),
                static_cast<unsigned long long>(index));
  return buf;
}

namespace {

std::filesystem::path fromUtf8(const std::string& s) {
  return std::filesystem::path(std::u8string(s.begin(), s.end()));
}

std::string toUtf8(const std::filesystem::path& p) {
  const std::u8string u = p.u8string();
  return std::string(u.begin(), u.end());
}

DirListing failed(const std::string& dir, const std::error_code& ec) {
  DirListing out;
  out.detail = dir + ": " + ec.message();
  if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) {
    out.problem = DirListing::Problem::kAbsent;
  } else if (ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted) {
    out.problem = DirListing::Problem::kAccessDenied;
  } else {
    out.problem = DirListing::Problem::kOther;
  }
  return out;
}

}  // namespace

DirListing listDirectory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(fromUtf8(dir), ec);
  if (ec) return failed(dir, ec);
  DirListing out;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::error_code type_ec;
    const bool is_dir = it->is_directory(type_ec);
    // Other entries (sockets, broken links) are offered as files: opening them fails visibly.
    out.entries.push_back({toUtf8(it->path().filename()), is_dir && !type_ec});
  }
  if (ec) return failed(dir, ec);
  return out;
}

}  // namespace t0w
