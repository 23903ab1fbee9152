// gzip helpers for the fakes and the tests (the agent's own encoder lives in agent/shipper).
#pragma once

#include <string>
#include <string_view>

#include "common/core/result.h"

namespace t0w::fakes {

std::string gzipCompress(std::string_view data);
// Fails on corrupt input or when the output would exceed max_bytes.
Result<std::string> gzipDecompress(std::string_view data, size_t max_bytes);

}  // namespace t0w::fakes
