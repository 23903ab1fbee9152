// HTTP headers by which the collector tells the agent that an answer is its own, and which of its
// refusals condemn the batch itself. A proxy, a load balancer's default page or another web
// server behind a wrong URL answers without them; the agent must never delete (acknowledge or
// dead-letter) queued events on such an answer (outcome.h).
#pragma once

#include <string_view>

namespace t0w {

// On every answer of tier0watch-collector (value: the newest batch wire version it reads). "3":
// it also reads Content-Encoding zstd, and an agent sends v3 + zstd only to a collector that
// announced at least 3 (docs/adr/0005); older values mean v2 + gzip.
inline constexpr std::string_view kCollectorHeader = "Tier0Watch-Collector";
inline constexpr std::string_view kCollectorHeaderValue = "3";
// On a refusal of one batch's content that no retry can fix (value "batch"): the only answer
// that may dead-letter queued events.
inline constexpr std::string_view kRefusalHeader = "Tier0Watch-Refusal";
inline constexpr std::string_view kRefusalBatch = "batch";

}  // namespace t0w
