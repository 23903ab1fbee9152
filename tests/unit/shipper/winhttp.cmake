set(T0W_WINHTTP_TEST_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/winhttp_errors_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/winhttp_options_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/winhttp_cert_select_test.cpp)
if(WIN32)
  list(APPEND T0W_WINHTTP_TEST_SOURCES ${CMAKE_CURRENT_LIST_DIR}/winhttp_cert_store_test.cpp)
endif()
t0w_test(shipper_winhttp_tests SOURCES ${T0W_WINHTTP_TEST_SOURCES} DEPS t0w_shipper)

if(WIN32)
  # Helper that puts a PEM certificate into (or takes it out of) a Windows system store; the
  # integration test runs it to trust the fake collector's CA in the Wine prefix.
  add_executable(t0w-trust-ca ${PROJECT_SOURCE_DIR}/tests/integration/winhttp_trust_ca.cpp)
  target_link_libraries(t0w-trust-ca PRIVATE crypt32)

  # WinHttpTransport against the real Linux t0w-fake-collector, path in env
  # T0W_WINE_FAKE_COLLECTOR (scripts/windows/test.sh builds it natively).
  t0w_test(winhttp_integration_tests
    SOURCES ${PROJECT_SOURCE_DIR}/tests/integration/winhttp_transport_test.cpp
    DEPS t0w_shipper)
  target_compile_definitions(winhttp_integration_tests PRIVATE
    T0W_TRUST_CA_EXE="$<TARGET_FILE:t0w-trust-ca>")
  add_dependencies(winhttp_integration_tests t0w-trust-ca)
endif()
