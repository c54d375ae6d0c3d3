# tests/fuzz/fuzz.cmake — libFuzzer targets beyond the engine's (included by CMakeLists.txt; built
# only with -DAPRON_FUZZ=ON, clang): fuzz-tarmac (tarmac.json), fuzz-settings (config file,
# APP_* variables, key=value), fuzz-cap (every capability callback's payload decoding) and
# fuzz-http (router, request/response host calls, sniffing). `make fuzz` runs each for FUZZ_TIME
# seconds.
if(APRON_FUZZ)
  foreach(t tarmac settings cap http)
    add_executable(fuzz-${t} ${CMAKE_CURRENT_LIST_DIR}/fuzz_${t}.c)
    target_link_libraries(fuzz-${t} PRIVATE apron_core)
    target_link_options(fuzz-${t} PRIVATE -fsanitize=fuzzer,address,undefined)
  endforeach()
endif()
