// libFuzzer target for the queue's chunk decoder (agent/queue/chunk_codec.h): a chunk read back
// from queue.db (damaged by a disk, an editor or an attacker with file access) must decode or
// be refused with a message, within the raw-size bound, never crash or allocate without bound
// (a small chunk claiming a huge size is the amplifying case). A chunk that decodes re-encodes
// to one that decodes to the same records.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/queue/chunk_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  constexpr size_t kMaxRaw = 4 << 20;
  auto records = t0w::decodeChunk(in, kMaxRaw);
  if (!records) {
    if (records.error().message.empty()) std::abort();
    return 0;
  }
  bool valid = true;
  for (const auto& r : *records) valid = valid && t0w::validateRecord(r).ok();
  if (!valid) return 0;  // decoded but not storable: encodeChunk would refuse it
  auto again = t0w::encodeChunk(*records, 1);
  if (!again) return 0;
  auto back = t0w::decodeChunk(again->payload, kMaxRaw);
  if (!back || back->size() != records->size()) std::abort();
  for (size_t i = 0; i < back->size(); ++i) {
    if ((*back)[i].key != (*records)[i].key || (*back)[i].body != (*records)[i].body) std::abort();
  }
  return 0;
}
