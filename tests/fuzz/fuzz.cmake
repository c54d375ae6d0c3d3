# tests/fuzz/fuzz.cmake — libFuzzer targets beyond the engine's (included by CMakeLists.txt; built
# only with -DAPRON_FUZZ=ON, clang): fuzz-tarmac (tarmac.json), fuzz-settings (config file,
# APP_* variables, key=value), fuzz-cap (every capability callback's payload decoding, and
# tarmac:function into loaded guests), fuzz-http (router, request/response host calls, sniffing)
# and fuzz-server (raw HTTP/1.1 bytes through libmicrohttpd into src/http/server.c, real guests).
# `make fuzz` runs each for FUZZ_TIME seconds.
if(APRON_FUZZ)
  foreach(t tarmac settings cap http server)
    add_executable(fuzz-${t} ${CMAKE_CURRENT_LIST_DIR}/fuzz_${t}.c)
    target_link_libraries(fuzz-${t} PRIVATE apron_core)
    target_link_options(fuzz-${t} PRIVATE -fsanitize=fuzzer,address,undefined)
  endforeach()
  # fuzz-cap and fuzz-server load this build's test guests (wat2wasm; http_ctx.wasm from the C SDK).
  foreach(t cap server)
    target_compile_definitions(fuzz-${t} PRIVATE APRON_GUESTS_DIR="${CMAKE_BINARY_DIR}/tests/guests")
    foreach(g wat_guests guest_examples)
      if(TARGET ${g})
        add_dependencies(fuzz-${t} ${g})
      endif()
    endforeach()
  endforeach()
endif()
