#include "agent/cli/scan_inputs.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <string>
#include <system_error>

#include "common/text/ascii.h"

namespace t0w::cli {
namespace {

namespace fs = std::filesystem;

std::string lowerExtension(const fs::path& p) { return lowerAscii(p.extension().string()); }

bool hasEvtxSignature(const fs::path& p) {
  static constexpr std::array<char, 8> kSignature{'E', 'l', 'f', 'F', 'i', 'l', 'e', '\0'};
  std::ifstream in(p, std::ios::binary);
  std::array<char, 8> head{};
  if (!in.read(head.data(), head.size())) return false;
  return head == kSignature;
}

InputError pathError(const fs::path& p, Errc code, const std::string& what) {
  return InputError{p.string(), 0, makeError(code, p.string() + ": " + what)};
}

// Regular files and symlinks (a broken one fails when opened, with a named error); FIFOs and
// devices would block or never end, so they are reported instead of read.
bool readableKind(const fs::file_status& st, const fs::file_status& symlink_st) {
  return fs::is_regular_file(st) || (fs::is_symlink(symlink_st) && !fs::exists(st));
}

void walkDirectory(const fs::path& dir, ScanInputs& out) {
  std::vector<ScanInput> found;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
  if (ec) {
    out.errors.push_back(pathError(dir, Errc::kIo, "cannot read directory: " + ec.message()));
    return;
  }
  for (const fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
    if (ec) {
      out.errors.push_back(pathError(it->path(), Errc::kIo, "cannot read: " + ec.message()));
      ec.clear();
      continue;
    }
    const fs::directory_entry& entry = *it;
    const std::string ext = lowerExtension(entry.path());
    if (ext != ".evtx" && ext != ".xml") continue;
    std::error_code st_ec;
    fs::file_status st = entry.status(st_ec);
    fs::file_status lst = entry.symlink_status(st_ec);
    if (fs::is_directory(st)) continue;
    if (!readableKind(st, lst)) {
      out.errors.push_back(pathError(entry.path(), Errc::kUnsupported, "not a regular file"));
      continue;
    }
    found.push_back(
        ScanInput{entry.path(), ext == ".evtx" ? ScanInput::Kind::kEvtx : ScanInput::Kind::kXml});
  }
  std::sort(found.begin(), found.end(),
            [](const ScanInput& a, const ScanInput& b) { return a.path < b.path; });
  out.files.insert(out.files.end(), found.begin(), found.end());
}

}  // namespace

ScanInputs discoverInputs(const std::vector<fs::path>& paths) {
  ScanInputs out;
  for (const fs::path& p : paths) {
    std::error_code ec;
    fs::file_status st = fs::status(p, ec);
    fs::file_status lst = fs::symlink_status(p, ec);
    if (fs::is_directory(st)) {
      walkDirectory(p, out);
    } else if (!readableKind(st, lst) && fs::exists(st)) {
      out.errors.push_back(pathError(p, Errc::kUnsupported, "not a regular file"));
    } else {
      const bool evtx = lowerExtension(p) == ".evtx" || hasEvtxSignature(p);
      out.files.push_back(ScanInput{p, evtx ? ScanInput::Kind::kEvtx : ScanInput::Kind::kXml});
    }
  }
  return out;
}

}  // namespace t0w::cli
