# tests/integration/backends.cmake — the network back ends against real services
# (tests/integration/backends.sh starts redis-server, nats-server, PostgreSQL and MariaDB through
# lib/services.sh). build/tests/backends-client calls the kv.h / sql.h ops directly; the script
# also drives build/apron serve. CTest label `integration`.
add_executable(backends-client ${CMAKE_CURRENT_LIST_DIR}/backends_client.c)
set_target_properties(backends-client PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
target_include_directories(backends-client PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(backends-client PRIVATE apron_core)
add_test(NAME integration/backends
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/backends.sh ${CMAKE_BINARY_DIR}
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(integration/backends PROPERTIES LABELS integration TIMEOUT 600)
