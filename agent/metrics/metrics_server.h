// MetricsServer: the optional Prometheus text endpoint. Plain HTTP (Boost.Beast) on a loopback
// address only (the config refuses others: there is no authentication), GET /metrics only,
// small request limits, one connection at a time, on its own thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/core/result.h"

namespace t0w {

class MetricsServer {
 public:
  using Render = std::function<std::string()>;
  // Binds host:port (port 0 picks one) and starts serving.
  static Result<std::unique_ptr<MetricsServer>> start(const std::string& host, uint16_t port,
                                                      Render render);
  ~MetricsServer();  // stops and joins
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  uint16_t port() const;

 private:
  class Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace t0w
