# tests/guests/guests.cmake — test guests built from source (included by tests/tests.cmake).
#
# Every tests/guests/c/<name>.c becomes build/tests/guests/<name>.wasm, a wasm32-wasi command
# module built with clang and the wasi-libc sysroot (Debian: clang, lld, wasi-libc,
# libclang-rt-14-dev-wasm32), when clang can target wasm32-wasi; without that toolchain no guest
# is built and the tests that need one report themselves skipped.
#
# Tests registered here:
#   guests/wasi_smoke       tests/guests/wasi_smoke.sh runs build/apron wasm on wasi_smoke.wasm
#                           and checks output and exit codes (label `integration`)
# and tests/unit/wasi/test_guest (a cmocka unit test, registered by tests.cmake) is pointed at the
# guests folder and built after the guests.

set(APRON_GUESTS_DIR ${CMAKE_BINARY_DIR}/tests/guests)
set(APRON_WASI_SYSROOT /usr CACHE PATH "wasi-libc sysroot for the test guests")
find_program(APRON_WASI_CC NAMES clang clang-14 DOC "clang that can target wasm32-wasi")

# Probe once per configure: compile and link a trivial WASI program.
set(APRON_GUESTS_OK OFF)
if(APRON_WASI_CC)
  file(MAKE_DIRECTORY ${APRON_GUESTS_DIR})
  file(WRITE ${APRON_GUESTS_DIR}/probe.c "#include <stdio.h>\nint main(void) { puts(\"x\"); return 0; }\n")
  execute_process(
    COMMAND ${APRON_WASI_CC} --target=wasm32-wasi --sysroot=${APRON_WASI_SYSROOT} -O2
            -o ${APRON_GUESTS_DIR}/probe.wasm ${APRON_GUESTS_DIR}/probe.c
    RESULT_VARIABLE probe_rc OUTPUT_QUIET ERROR_QUIET)
  if(probe_rc EQUAL 0)
    set(APRON_GUESTS_OK ON)
  endif()
endif()
if(NOT APRON_GUESTS_OK)
  message(STATUS "test guests: clang cannot target wasm32-wasi; guest tests will be skipped")
endif()

set(guest_outputs)
if(APRON_GUESTS_OK)
  file(GLOB GUEST_C_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/c/*.c)
  foreach(src IN LISTS GUEST_C_SOURCES)
    get_filename_component(name ${src} NAME_WE)
    set(out ${APRON_GUESTS_DIR}/${name}.wasm)
    add_custom_command(OUTPUT ${out}
      COMMAND ${APRON_WASI_CC} --target=wasm32-wasi --sysroot=${APRON_WASI_SYSROOT}
              -O2 -Wall -Wextra -o ${out} ${src}
      DEPENDS ${src}
      COMMENT "Building test guest ${name}.wasm"
      VERBATIM)
    list(APPEND guest_outputs ${out})
  endforeach()
endif()
add_custom_target(guests ALL DEPENDS ${guest_outputs})

add_test(NAME guests/wasi_smoke
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/wasi_smoke.sh $<TARGET_FILE:apron>
          ${APRON_GUESTS_DIR}/wasi_smoke.wasm)
set_tests_properties(guests/wasi_smoke PROPERTIES LABELS integration TIMEOUT 60
                     SKIP_RETURN_CODE 77)

if(TARGET unit_wasi_test_guest)
  target_compile_definitions(unit_wasi_test_guest PRIVATE
    APRON_GUESTS_DIR="${APRON_GUESTS_DIR}")
  add_dependencies(unit_wasi_test_guest guests)
endif()
