// Windows time: FILETIME ticks (100 ns since 1601-01-01 UTC) and their ISO 8601 text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace t0w {

constexpr int64_t kTicksPerSecond = 10'000'000;
// Seconds from 1601-01-01 to 1970-01-01.
constexpr int64_t kEpochDeltaSeconds = 11'644'473'600;

// "2019-03-19T23:34:46.1234567Z" (always 7 fraction digits: full FILETIME precision).
std::string formatFiletime(int64_t ticks);
// The same appended to `out` (no string of its own: encoders stamp every event).
void appendFiletime(std::string& out, int64_t ticks);
// The same written to buf, which has room for kMaxFiletimeText + 1 bytes (snprintf's NUL for
// years outside 0..9999); returns the length, at most kMaxFiletimeText.
constexpr size_t kMaxFiletimeText = 47;
size_t writeFiletime(char* buf, int64_t ticks);

// Accepts "YYYY-MM-DDThh:mm:ss[.f{1,9}](Z|+hh:mm|-hh:mm)" as EvtRender and libevtx write it;
// digits past the 7th are truncated. nullopt when malformed or out of range.
std::optional<int64_t> parseFiletime(std::string_view text);

int64_t unixMicrosToFiletime(int64_t micros);
int64_t filetimeToUnixMicros(int64_t ticks);

std::string formatHex64(uint64_t value);  // "0x8020000000000000"

}  // namespace t0w
