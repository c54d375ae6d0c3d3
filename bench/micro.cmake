# bench/micro.cmake — bench-micro (bench/micro.c): the engine's call, load and instantiation
# costs, in process. `make bench` runs it.
add_executable(bench-micro ${CMAKE_CURRENT_LIST_DIR}/micro.c)
target_link_libraries(bench-micro PRIVATE apron_wasm)
