# Wire batch encoder/decoder (tier0watch.batch/1 and /2) and the bounded JSON parser; included from agent/shipper/CMakeLists.txt.
# A library of its own so that the collector and tests use it without the transport stack.
t0w_library(t0w_shipper_encoding
  SOURCES batch_encoder.cpp bounded_json.cpp
  DEPS t0w_core t0w_queue nlohmann_json::nlohmann_json)
