# The agent process (pipeline wiring and the Agent that owns it); included from
# agent/CMakeLists.txt.
t0w_library(t0w_agent
  SOURCES pipeline.cpp agent.cpp
  DEPS t0w_config t0w_metrics t0w_queue t0w_shipper_loop t0w_shipper t0w_rules t0w_evtx
       t0w_eventlog spdlog::spdlog)
target_compile_definitions(t0w_agent PRIVATE T0W_VERSION="${PROJECT_VERSION}")
