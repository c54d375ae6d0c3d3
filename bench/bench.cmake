# bench/bench.cmake — in-process engine benchmarks (included by the top-level CMakeLists.txt).
# bench-reset (bench/reset.c): wa_instance_reset against re-instantiation on a 1 MiB guest,
# bench/reset.wat built with wabt's wat2wasm into build/bench-reset.wasm. `make bench` runs it.
find_program(APRON_BENCH_WAT2WASM wat2wasm)
add_executable(bench-reset ${CMAKE_CURRENT_LIST_DIR}/reset.c)
target_link_libraries(bench-reset PRIVATE apron_wasm)
if(APRON_BENCH_WAT2WASM)
  add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/bench-reset.wasm
    COMMAND ${APRON_BENCH_WAT2WASM} ${CMAKE_CURRENT_LIST_DIR}/reset.wat
            -o ${CMAKE_BINARY_DIR}/bench-reset.wasm
    DEPENDS ${CMAKE_CURRENT_LIST_DIR}/reset.wat
    COMMENT "wat2wasm bench/reset.wat")
  add_custom_target(bench-reset-guest ALL DEPENDS ${CMAKE_BINARY_DIR}/bench-reset.wasm)
  add_dependencies(bench-reset bench-reset-guest)
endif()
