# Build-time step: turns schemas/<store>/NNNN_name.sql (agent queue, collector storage) into a C++
# include of {version, "name", R"sql(...)sql"} entries, so the installed binaries carry their
# migrations.
# Usage: cmake -DOUT=<file> -DSQL_FILES=<a.sql|b.sql|...> -P embed_sql.cmake
string(REPLACE "|" ";" files "${SQL_FILES}")
list(SORT files)
set(body "// Generated from NNNN_name.sql migrations by common/sqlite/embed_sql.cmake. Do not edit.\n")
foreach(file ${files})
  get_filename_component(name "${file}" NAME)
  if(NOT name MATCHES "^([0-9]+)_.*\\.sql$")
    message(FATAL_ERROR "migration file name must be NNNN_name.sql: ${name}")
  endif()
  math(EXPR version "${CMAKE_MATCH_1}")
  # Two files with one version (e.g. from two branches) would apply only one: refuse them.
  list(FIND seen_versions ${version} seen)
  if(NOT seen EQUAL -1)
    message(FATAL_ERROR "two migrations with version ${version}: ${name}; renumber one")
  endif()
  list(APPEND seen_versions ${version})
  file(READ "${file}" sql)
  if(sql MATCHES "\\)t0wsql\"")
    message(FATAL_ERROR "${name} contains the raw-string delimiter")
  endif()
  string(APPEND body "{${version}, \"${name}\", R\"t0wsql(${sql})t0wsql\"},\n")
endforeach()
# Rewrite only on change so that dependents do not rebuild needlessly.
set(old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL body)
  file(WRITE "${OUT}" "${body}")
endif()
