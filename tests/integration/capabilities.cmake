# tests/integration/capabilities.cmake — the Tarmac capabilities through apron serve with the
# embedded back ends (tests/integration/capabilities.sh). CTest label `integration`.
add_test(NAME integration/capabilities
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/capabilities.sh ${CMAKE_BINARY_DIR}
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(integration/capabilities PROPERTIES LABELS integration TIMEOUT 300)
