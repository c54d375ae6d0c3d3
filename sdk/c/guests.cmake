# sdk/c/guests.cmake — builds the C SDK's example functions (examples/*.c + sdk/c/apron.c) into
# build/examples/<name>.wasm as waPC reactors, when clang can target wasm32-wasi. Included from
# the top-level CMakeLists.txt. Without a working clang + wasi-libc (Debian: clang, wasi-libc,
# libclang-rt-14-dev-wasm32) the examples are skipped with a message, and the rest builds.
#
# APRON_WASM_CC        the clang to use (default: clang-14, else clang)
# APRON_WASI_SYSROOT   the wasi-libc sysroot (default: /usr, Debian's layout)

find_program(APRON_WASM_CC NAMES clang-14 clang DOC "clang able to target wasm32-wasi")
set(APRON_WASI_SYSROOT /usr CACHE PATH "wasi-libc sysroot for the C guests")
set(APRON_GUEST_FLAGS
  --target=wasm32-wasi --sysroot=${APRON_WASI_SYSROOT} -mexec-model=reactor -O2
  -std=c17 -Wall -Wextra -Wshadow -Wno-unused-parameter
  -Wl,--strip-debug) # Debian's wasi-libc carries DWARF; keep the name section only

# A test link of a tiny reactor; a success is cached, a failure probed again at the next configure.
if(APRON_WASM_CC AND NOT DEFINED APRON_GUESTS_OK)
  set(probe_dir ${CMAKE_BINARY_DIR}/CMakeFiles/guest-probe)
  file(MAKE_DIRECTORY ${probe_dir})
  file(WRITE ${probe_dir}/probe.c
    "#include <stdlib.h>\n__attribute__((export_name(\"probe\"))) int probe(int n) { return malloc(n) != 0; }\n")
  execute_process(
    COMMAND ${APRON_WASM_CC} ${APRON_GUEST_FLAGS} -o ${probe_dir}/probe.wasm ${probe_dir}/probe.c
    RESULT_VARIABLE probe_rc OUTPUT_VARIABLE probe_out ERROR_VARIABLE probe_out)
  if(probe_rc EQUAL 0)
    set(APRON_GUESTS_OK ON CACHE INTERNAL "clang can build wasm32-wasi reactors")
  else()
    message(STATUS "guests: ${APRON_WASM_CC} cannot build wasm32-wasi reactors:\n${probe_out}")
  endif()
endif()

if(NOT APRON_WASM_CC OR NOT APRON_GUESTS_OK)
  message(STATUS "guests: skipping the C example functions (needs clang, wasi-libc and "
                 "libclang-rt-14-dev-wasm32)")
  return()
endif()

set(sdk_dir ${CMAKE_CURRENT_LIST_DIR})
# examples/<name>.c and examples/<name>/<name>.c → build/examples/<name>.wasm; SDK test guests
# tests/guests/sdk/<name>.c → build/tests/guests/<name>.wasm.
file(GLOB example_sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/examples/*.c
     ${CMAKE_SOURCE_DIR}/examples/*/*.c)
file(GLOB sdk_test_guest_sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/guests/sdk/*.c)
set(example_outputs)
foreach(src IN LISTS example_sources sdk_test_guest_sources)
  get_filename_component(name ${src} NAME_WE)
  set(out_dir ${CMAKE_BINARY_DIR}/examples)
  if(src MATCHES "/tests/guests/sdk/")
    set(out_dir ${CMAKE_BINARY_DIR}/tests/guests)
  endif()
  set(out ${out_dir}/${name}.wasm)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
    COMMAND ${APRON_WASM_CC} ${APRON_GUEST_FLAGS} -I${sdk_dir} -o ${out} ${src} ${sdk_dir}/apron.c
    DEPENDS ${src} ${sdk_dir}/apron.c ${sdk_dir}/apron.h
    COMMENT "Building C guest ${name}.wasm"
    VERBATIM)
  list(APPEND example_outputs ${out})
endforeach()
add_custom_target(guest_examples ALL DEPENDS ${example_outputs})

# Smoke tests: the examples that need no capability run through `apron run` (label unit, so
# `make test` runs them). PASS_REGULAR_EXPRESSION ignores the exit status, so "fail" can pass.
function(apron_example_test name wasm op data expect)
  add_test(NAME examples/${name}
    COMMAND $<TARGET_FILE:apron> run ${CMAKE_BINARY_DIR}/examples/${wasm} --op ${op} --data ${data})
  set_tests_properties(examples/${name} PROPERTIES
    LABELS unit TIMEOUT 30 PASS_REGULAR_EXPRESSION "${expect}"
    ENVIRONMENT "APP_DISABLE_LOGGING=true") # capability logs (stderr) are not the output
endfunction()
if(TARGET apron)
  apron_example_test(hello hello.wasm hello world "^Hello, world\n?$")
  apron_example_test(hello_fail hello.wasm fail x "^this is a test error\n$")
  apron_example_test(hello_unknown hello.wasm nope x "Could not find function \"nope\"")
  apron_example_test(reverse reverse.wasm reverse "héllo wörld" "^dlröw olléh\n?$")
endif()
