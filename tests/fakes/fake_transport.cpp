#include "tests/fakes/fake_transport.h"

namespace t0w::testing {

TransportResult FakeTransport::send(const HttpRequest& request) {
  sent.push_back(request);
  if (!answers.empty()) {
    TransportResult r = std::move(answers.front());
    answers.pop_front();
    return r;
  }
  if (respond) return respond(sent.back());
  return answer;
}

}  // namespace t0w::testing
