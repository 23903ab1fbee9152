# Helpers shared by every folder's CMakeLists.txt.

# t0w_library(name SOURCES ... DEPS ...): one static library per folder, includes from the root.
function(t0w_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# t0w_test(name SOURCES ... DEPS ...): a GoogleTest executable registered with CTest. Tests run
# from the project root so that tests/data and ../shared/corpus resolve the same everywhere.
function(t0w_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE
    T0W_SOURCE_DIR="${PROJECT_SOURCE_DIR}" T0W_CORPUS_DIR="${T0W_CORPUS_DIR}")
  add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endfunction()

# Folders join the build once they have a CMakeLists.txt, so work in progress elsewhere in the
# tree never breaks configuration.
macro(t0w_subdirs)
  foreach(dir ${ARGN})
    if(EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/${dir}/CMakeLists.txt")
      add_subdirectory(${dir})
    endif()
  endforeach()
endmacro()
