# tests/integration/integration.cmake — tests that drive the real build/apron binary, included by
# tests/tests.cmake.
#
# Test guests in WebAssembly text, tests/guests/wat/*.wat, are built with wabt's wat2wasm
# (Debian: apt-get install wabt) into build/tests/guests/<name>.wasm by the `wat_guests` target
# (part of `all`). Without wat2wasm the tests that need them skip themselves.
#
# The tests carry the label `integration` and also `unit`, because tests/run.sh (`make test`)
# runs the `unit` label only; their output uses cmocka's format so each case is counted.

find_program(WAT2WASM wat2wasm)
file(GLOB WAT_GUESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tests/guests/wat/*.wat)
set(WAT_GUEST_OUTPUTS)
if(WAT2WASM)
  foreach(src IN LISTS WAT_GUESTS)
    get_filename_component(name ${src} NAME_WE)
    set(out ${CMAKE_BINARY_DIR}/tests/guests/${name}.wasm)
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/tests/guests
      COMMAND ${WAT2WASM} ${src} -o ${out}
      DEPENDS ${src}
      COMMENT "wat2wasm ${name}.wat")
    list(APPEND WAT_GUEST_OUTPUTS ${out})
  endforeach()
else()
  message(STATUS "wat2wasm not found: the hostile-guest test will skip (apt-get install wabt)")
endif()
add_custom_target(wat_guests ALL DEPENDS ${WAT_GUEST_OUTPUTS})

add_test(NAME integration/wapc_fixtures
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/integration/wapc_fixtures.sh ${CMAKE_BINARY_DIR})
add_test(NAME integration/wapc_hostile
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/integration/wapc_hostile.sh ${CMAKE_BINARY_DIR})
# Start-up order (start section, _initialize/_start, wapc_init) and the `wasmbus` import module.
add_test(NAME integration/wapc_abi
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/integration/wapc_abi.sh ${CMAKE_BINARY_DIR})
# `apron wasm --invoke` with arguments and results, and the top-level usage (--help).
add_test(NAME integration/wasm_cli
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/integration/wasm_cli.sh ${CMAKE_BINARY_DIR})
set_tests_properties(integration/wapc_fixtures integration/wapc_hostile integration/wapc_abi
  integration/wasm_cli PROPERTIES LABELS "integration;unit" TIMEOUT 600)

# AssemblyScript guests built from tests/guests/as with npm (skipped without npm).
add_test(NAME integration/as_guests
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/integration/as_guests.sh ${CMAKE_BINARY_DIR})
set_tests_properties(integration/as_guests PROPERTIES LABELS "integration" TIMEOUT 600)
