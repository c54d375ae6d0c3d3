# tests/integration/server.cmake — the integration scripts that start the real `apron serve` on
# loopback and drive it over HTTP and HTTPS. CTest label `integration`; `ctest -L integration`
# runs them.

# apron_serve_test(NAME SCRIPT [ENV...]): tests/integration/SCRIPT with the build folder as its
# argument, as CTest test integration/NAME (5 minutes at most), with the ENV settings if any.
function(apron_serve_test name script)
  add_test(NAME integration/${name}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/${script} ${CMAKE_BINARY_DIR}
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(integration/${name} PROPERTIES LABELS integration TIMEOUT 300)
  if(ARGN)
    set_tests_properties(integration/${name} PROPERTIES ENVIRONMENT "${ARGN}")
  endif()
endfunction()

# server.sh: TARMAC.md §8.2 over HTTP and HTTPS (TLS policy, mTLS), graceful shutdown. Also with
# http_threading "connection" (a thread per connection; the default is "event-loop": epoll
# threads that run quick functions themselves, wasm workers for the others).
apron_serve_test(server server.sh)
apron_serve_test(server_connection server.sh APP_HTTP_THREADING=connection)

# serve_features.sh: init retries/backoff, job exit codes, scheduled tasks, function-to-function
# calls, guest WASI output in the log, SIGHUP reload under load, promtool.
apron_serve_test(serve_features serve_features.sh)

# http_context.sh: issue 9's request context and response control, examples/items.
apron_serve_test(http_context http_context.sh)

# server_limits.sh: header/URI limits, idle timeout, pool wait 503, payload + error, maintenance
# mode, enable_pprof statistics, mTLS with two CAs and ignore_client_cert, start-up failures;
# under both threadings.
apron_serve_test(server_limits server_limits.sh)
apron_serve_test(server_limits_connection server_limits.sh APP_HTTP_THREADING=connection)

# event_loop.sh: which functions the event-loop threads run themselves (quick, never waiting)
# and which go to the wasm workers; a long wait never holds an event-loop thread.
apron_serve_test(event_loop event_loop.sh)

# make_run.sh: `make run` (tools/run.sh) on a free port, with its data in a temporary folder:
# every example route of examples/tarmac.json answers (key-value on LMDB, SQL on SQLite).
apron_serve_test(make_run make_run.sh)
