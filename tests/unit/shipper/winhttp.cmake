set(T0W_WINHTTP_TEST_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/winhttp_errors_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/winhttp_options_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/winhttp_cert_select_test.cpp)
if(WIN32)
  list(APPEND T0W_WINHTTP_TEST_SOURCES ${CMAKE_CURRENT_LIST_DIR}/winhttp_cert_store_test.cpp)
endif()
t0w_test(shipper_winhttp_tests SOURCES ${T0W_WINHTTP_TEST_SOURCES} DEPS t0w_shipper)
