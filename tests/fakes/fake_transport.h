// FakeTransport: the one test double of Transport. Records every request; answers with the next
// scripted answer when there is one, else with respond(request) when the test set it, else with
// `answer` (by default a collector's 200).
#pragma once

#include <deque>
#include <functional>
#include <vector>

#include "common/http/transport.h"

namespace t0w::testing {

class FakeTransport final : public Transport {
 public:
  std::vector<HttpRequest> sent;
  std::deque<TransportResult> answers;
  std::function<TransportResult(const HttpRequest&)> respond;
  TransportResult answer = HttpResponse{200, {{"Tier0Watch-Collector", "2"}}, "{}"};

  TransportResult send(const HttpRequest& request) override;
};

}  // namespace t0w::testing
