// Turns the PATH arguments of `scan` into the list of files to read.
#pragma once

#include <filesystem>
#include <vector>

#include "agent/core/event_sink.h"

namespace t0w::cli {

struct ScanInput {
  enum class Kind { kEvtx, kXml };
  std::filesystem::path path;
  Kind kind = Kind::kXml;
};

struct ScanInputs {
  std::vector<ScanInput> files;
  std::vector<InputError> errors;  // unreadable directories, special files
};

// A file PATH is read as EVTX when it is named *.evtx or starts with the EVTX signature, else as
// XML. Directories are walked recursively in sorted order for *.evtx and *.xml (any case);
// symlinked directories are not followed (no loops). Never throws.
ScanInputs discoverInputs(const std::vector<std::filesystem::path>& paths);

}  // namespace t0w::cli
