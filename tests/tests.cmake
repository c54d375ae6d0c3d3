# tests/tests.cmake — test targets, included by the top-level CMakeLists.txt.
#
# Unit tests: every tests/unit/<module>/test_<name>.c is one cmocka binary,
# build/tests/unit/<module>/test_<name>, registered with CTest as "<module>/test_<name>", label
# `unit`. It links the engine and may include the private headers of src/<module>/ directly.
# The glob picks up new tests on the next build: nothing to register by hand.
#
# Spec tests: build/spectest-runner runs one wast2json script through the public engine API;
# tests/spec/run.sh drives it over the whole suite (`make spectest`, CTest label `spec`), and
# tests/wast/run.sh over the project's own scripts in tests/wast (CTest `engine/wast`, label `unit`).

find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(CMOCKA QUIET IMPORTED_TARGET cmocka)
  pkg_check_modules(JANSSON QUIET IMPORTED_TARGET jansson)
endif()

# Without pkg-config files, fall back to the plain library and header.
function(apron_find_dep var lib header)
  if(TARGET PkgConfig::${var})
    set(${var}_TARGET PkgConfig::${var} PARENT_SCOPE)
    return()
  endif()
  find_library(${var}_LIB ${lib})
  find_path(${var}_INC ${header})
  if(NOT ${var}_LIB OR NOT ${var}_INC)
    message(FATAL_ERROR "tests: ${lib} not found (Debian: apt-get install lib${lib}-dev)")
  endif()
  add_library(apron_dep_${lib} INTERFACE)
  target_link_libraries(apron_dep_${lib} INTERFACE ${${var}_LIB})
  target_include_directories(apron_dep_${lib} INTERFACE ${${var}_INC})
  set(${var}_TARGET apron_dep_${lib} PARENT_SCOPE)
endfunction()
apron_find_dep(CMOCKA cmocka cmocka.h)
apron_find_dep(JANSSON jansson jansson.h)

# ---- Unit tests ----
file(GLOB UNIT_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tests/unit/*/test_*.c)
foreach(src IN LISTS UNIT_TEST_SOURCES)
  get_filename_component(name ${src} NAME_WE)
  get_filename_component(dir ${src} DIRECTORY)
  get_filename_component(module ${dir} NAME)
  set(target unit_${module}_${name})
  add_executable(${target} ${src})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${name}
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/unit/${module})
  target_include_directories(${target} PRIVATE
    ${CMAKE_CURRENT_SOURCE_DIR}/include
    ${CMAKE_CURRENT_SOURCE_DIR}/src
    ${CMAKE_CURRENT_SOURCE_DIR}/src/${module}
    ${CMAKE_CURRENT_SOURCE_DIR}/tests/unit)
  target_link_libraries(${target} PRIVATE apron_core ${CMOCKA_TARGET})
  add_test(NAME ${module}/${name} COMMAND ${target})
  set_tests_properties(${module}/${name} PROPERTIES LABELS unit TIMEOUT 60)
endforeach()

# ---- Spec tests ----
file(GLOB SPEC_RUNNER_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tests/spec/*.c)
add_executable(spectest-runner ${SPEC_RUNNER_SOURCES})
set_target_properties(spectest-runner PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
target_link_libraries(spectest-runner PRIVATE apron_wasm ${JANSSON_TARGET})

# The SIMD handlers' other paths, through the official simd_*.wast scripts (tests/spec/simd.sh),
# label `unit`. A variant engine is the interpreter (interp.c, simd.h's one includer) compiled
# again with the variant's definitions and options, linked with apron_wasm's other objects
# (apron_wasm_common), and a runner in build/<dir>/spectest-runner:
#   engine/simd-portable   APRON_SIMD_PORTABLE=1: generic vector code, no SSE (build/simd-portable)
#   engine/simd-sse2       build/spectest-runner with APRON_SIMD=sse2 (x86-64: the SSE2 baseline
#                          without the run-time SSSE3 byte shuffles)
#   engine/simd-x86-64-v2  -march=x86-64-v2: the compile-time SSSE3 and SSE4.1 paths
#                          (build/simd-x86-64-v2); a skip on a CPU without them. Not in sanitizer
#                          builds: interp.c costs ~50 s of CPU there, for a few intrinsics that
#                          touch no memory; the plain build (~4 s) covers them.
function(apron_simd_variant name dir)
  cmake_parse_arguments(V "" "" "DEFINITIONS;OPTIONS" ${ARGN})
  add_library(apron_wasm_${name} STATIC ${CMAKE_CURRENT_SOURCE_DIR}/src/wasm/interp.c
    $<TARGET_OBJECTS:apron_wasm_common>)
  target_include_directories(apron_wasm_${name}
    PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src/wasm)
  target_compile_definitions(apron_wasm_${name} PRIVATE ${V_DEFINITIONS})
  target_compile_options(apron_wasm_${name} PRIVATE ${V_OPTIONS})
  target_link_libraries(apron_wasm_${name} PUBLIC m pthread)
  add_executable(spectest-runner-${name} ${SPEC_RUNNER_SOURCES})
  set_target_properties(spectest-runner-${name} PROPERTIES
    OUTPUT_NAME spectest-runner RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/${dir})
  target_link_libraries(spectest-runner-${name} PRIVATE apron_wasm_${name} ${JANSSON_TARGET})
endfunction()

if(NOT APRON_SIMD_PORTABLE)
  apron_simd_variant(portable simd-portable DEFINITIONS APRON_SIMD_PORTABLE=1)
  add_test(NAME engine/simd-portable
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/spec/simd.sh ${CMAKE_BINARY_DIR}/simd-portable
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(engine/simd-portable PROPERTIES LABELS unit TIMEOUT 600
    ENVIRONMENT APRON_SPECTEST_OUT=${CMAKE_BINARY_DIR}/simd-portable/spectest)
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    add_test(NAME engine/simd-sse2
      COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/spec/simd.sh ${CMAKE_BINARY_DIR}
      WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
    set_tests_properties(engine/simd-sse2 PROPERTIES LABELS unit TIMEOUT 600
      ENVIRONMENT "APRON_SIMD=sse2;APRON_SPECTEST_OUT=${CMAKE_BINARY_DIR}/simd-sse2/spectest")
    include(CheckCCompilerFlag)
    check_c_compiler_flag(-march=x86-64-v2 APRON_HAVE_MARCH_X86_64_V2)
    if(APRON_HAVE_MARCH_X86_64_V2 AND NOT APRON_SANITIZE)
      apron_simd_variant(x86_64_v2 simd-x86-64-v2 OPTIONS -march=x86-64-v2)
      add_test(NAME engine/simd-x86-64-v2
        COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/spec/simd.sh ${CMAKE_BINARY_DIR}/simd-x86-64-v2
        WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
      # x86-64-v2 in /proc/cpuinfo's names: without one of them, simd.sh reports a skip.
      set(v2_env "APRON_SIMD_CPU_FLAGS=cx16 lahf_lm popcnt pni sse4_1 sse4_2 ssse3"
        APRON_SPECTEST_OUT=${CMAKE_BINARY_DIR}/simd-x86-64-v2/spectest)
      set_tests_properties(engine/simd-x86-64-v2 PROPERTIES LABELS unit TIMEOUT 600
        ENVIRONMENT "${v2_env}")
    endif()
  endif()
endif()

add_test(NAME spectest
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/spec/run.sh ${CMAKE_BINARY_DIR}
  WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(spectest PROPERTIES LABELS spec TIMEOUT 1800)
# The project's own engine scripts (tests/wast/*.wast), with the same runner; label `unit`.
add_test(NAME engine/wast
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tests/wast/run.sh ${CMAKE_BINARY_DIR}
  WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(engine/wast PROPERTIES LABELS unit TIMEOUT 300)

include(${CMAKE_CURRENT_SOURCE_DIR}/tests/guests/guests.cmake)
include(${CMAKE_CURRENT_SOURCE_DIR}/tests/integration/integration.cmake)
include(${CMAKE_CURRENT_SOURCE_DIR}/tests/integration/server.cmake)
include(${CMAKE_CURRENT_SOURCE_DIR}/tests/integration/isolation.cmake)
include(${CMAKE_CURRENT_SOURCE_DIR}/tests/integration/backends.cmake)
include(${CMAKE_CURRENT_SOURCE_DIR}/tests/integration/capabilities.cmake)
