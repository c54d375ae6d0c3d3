# tests/integration/server.cmake — the `apron serve` integration test (tests/integration/server.sh):
# starts the real binary on loopback and drives it with curl over HTTP and HTTPS. CTest label
# `integration`; `ctest -L integration` runs it.
add_test(NAME integration/server
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/server.sh ${CMAKE_BINARY_DIR}
  WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(integration/server PROPERTIES LABELS integration TIMEOUT 300)
