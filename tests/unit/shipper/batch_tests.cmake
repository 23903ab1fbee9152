# Wire batch encoder tests. Included from tests/unit/queue/CMakeLists.txt (the batch format is
# built on the queue's records) so that this file set builds independently of the transport
# tests beside it.
find_package(Python3 COMPONENTS Interpreter)
if(WIN32)
  # The build machine's Python cannot be started from a Windows test process: the schema check
  # skips there (it runs in the Linux build).
  set(Python3_Interpreter_FOUND FALSE)
endif()
t0w_test(shipper_batch_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/batch_encoder_test.cpp
  DEPS t0w_common_wire t0w_queue)
target_compile_definitions(shipper_batch_tests PRIVATE
  T0W_PYTHON3="$<IF:$<BOOL:${Python3_Interpreter_FOUND}>,${Python3_EXECUTABLE},>")
