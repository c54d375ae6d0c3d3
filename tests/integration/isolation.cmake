# tests/integration/isolation.cmake — issue 7's server test (tests/integration/isolation.sh):
# isolation modes, per-function limits, hostile guests beside a healthy one under load. Included
# by tests/tests.cmake; labels `integration` (and `unit`, so tests/run.sh counts its cases).
add_test(NAME integration/isolation
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/isolation.sh ${CMAKE_BINARY_DIR}
  WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(integration/isolation PROPERTIES LABELS "integration;unit" TIMEOUT 300)
