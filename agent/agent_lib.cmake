# The agent process (pipeline wiring, the Agent that owns it, the platform's transport and host
# facts); included from agent/CMakeLists.txt. Builds on Linux and Windows.
if(WIN32)
  set(T0W_AGENT_HOST_SOURCES platform/host_info_windows.cpp platform/host_stop_signal_windows.cpp
    platform/audit_policy_windows.cpp)
  # AuditQuerySystemPolicy and RegGetValueW (advapi32), channel configuration (wevtapi).
  set(T0W_AGENT_HOST_DEPS t0w_platform_windows advapi32 wevtapi)
else()
  set(T0W_AGENT_HOST_SOURCES platform/host_info_posix.cpp platform/host_stop_signal_posix.cpp)
  set(T0W_AGENT_HOST_DEPS)
endif()
t0w_library(t0w_agent
  SOURCES pipeline/pipeline.cpp pipeline/queue_writer.cpp pipeline/record_batcher.cpp
    pipeline/resume_gate.cpp pipeline/agent_sources.cpp agent.cpp shipper/transport_factory.cpp platform/host_info.cpp
    ${T0W_AGENT_HOST_SOURCES}
  DEPS t0w_config t0w_metrics t0w_queue t0w_shipper_loop t0w_shipper t0w_rules t0w_sources
       spdlog::spdlog nlohmann_json::nlohmann_json ${T0W_AGENT_HOST_DEPS})
target_compile_definitions(t0w_agent PRIVATE T0W_VERSION="${PROJECT_VERSION}")
