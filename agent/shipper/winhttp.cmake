# WinHTTP transport (issue 6): options validation, error classes and client-certificate
# selection are portable and unit-tested everywhere; the transport and the certificate store
# access are Windows only.
target_sources(t0w_shipper PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/winhttp_options.cpp
  ${CMAKE_CURRENT_LIST_DIR}/winhttp_errors.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cert_store_select.cpp)
if(WIN32)
  target_sources(t0w_shipper PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/winhttp_transport.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cert_store_windows.cpp)
  target_link_libraries(t0w_shipper PUBLIC winhttp crypt32 ws2_32)
endif()
