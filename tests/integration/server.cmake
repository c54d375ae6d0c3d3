# tests/integration/server.cmake — the `apron serve` integration test (tests/integration/server.sh):
# starts the real binary on loopback and drives it with curl over HTTP and HTTPS. CTest label
# `integration`; `ctest -L integration` runs it.
add_test(NAME integration/server
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/server.sh ${CMAKE_BINARY_DIR}
  WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(integration/server PROPERTIES LABELS integration TIMEOUT 300)
# The same checks with http_threading "connection" (a thread per connection; the default is
# "event-loop": epoll threads that run quick functions themselves, wasm workers for the others).
add_test(NAME integration/server_connection
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/server.sh ${CMAKE_BINARY_DIR}
  WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(integration/server_connection PROPERTIES LABELS integration TIMEOUT 300
  ENVIRONMENT APP_HTTP_THREADING=connection)

# serve_features.sh: init retries/backoff, job exit codes, scheduled tasks, function-to-function
# calls, guest WASI output in the log, SIGHUP reload under load, promtool.
add_test(NAME integration/serve_features
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/serve_features.sh ${CMAKE_BINARY_DIR}
  WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(integration/serve_features PROPERTIES LABELS integration TIMEOUT 300)

# http_context.sh: issue 9's request context and response control, examples/items.
add_test(NAME integration/http_context
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/http_context.sh ${CMAKE_BINARY_DIR}
  WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(integration/http_context PROPERTIES LABELS integration TIMEOUT 300)

# server_limits.sh: header/URI limits, idle timeout, pool wait 503, payload + error, maintenance
# mode, enable_pprof statistics, mTLS with two CAs and ignore_client_cert, start-up failures.
add_test(NAME integration/server_limits
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/server_limits.sh ${CMAKE_BINARY_DIR}
  WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(integration/server_limits PROPERTIES LABELS integration TIMEOUT 300)
add_test(NAME integration/server_limits_connection
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/server_limits.sh ${CMAKE_BINARY_DIR}
  WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(integration/server_limits_connection PROPERTIES LABELS integration
  TIMEOUT 300 ENVIRONMENT APP_HTTP_THREADING=connection)

# event_loop.sh: which functions the event-loop threads run themselves (quick, never waiting)
# and which go to the wasm workers; a long wait never holds an event-loop thread.
add_test(NAME integration/event_loop
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/event_loop.sh ${CMAKE_BINARY_DIR}
  WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(integration/event_loop PROPERTIES LABELS integration TIMEOUT 300)

# make_run.sh: `make run` (tools/run.sh) on a free port, with its data in a temporary folder:
# every example route of examples/tarmac.json answers (key-value on LMDB, SQL on SQLite).
add_test(NAME integration/make_run
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/make_run.sh ${CMAKE_BINARY_DIR}
  WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(integration/make_run PROPERTIES LABELS integration TIMEOUT 300)
