;; wasmbus_guest.wat — a wasmCloud-style actor: the waPC functions imported from module `wasmbus`
;; instead of `wapc` (WAPC.md §9; the host aliases the two), one of them from both modules, and
;; the `__wasmbus_rpc_version` export wasmCloud actors carry (ignored by the host).
;; Operation by first byte:
;;   e  echo: answers the payload
;;   h  __host_call("wasmcloud", "wasmcloud:example", "Ping", payload): on success answers the
;;      host's response, on failure records the host's error text as the guest error
;;   l  logs the payload through wasmbus.__console_log, then "and through wapc" through
;;      wapc.__console_log; answers "logged"
;;   else: the guest error "unknown operation"
(module
  (import "wasmbus" "__guest_request" (func $guest_request (param i32 i32)))
  (import "wasmbus" "__guest_response" (func $guest_response (param i32 i32)))
  (import "wasmbus" "__guest_error" (func $guest_error (param i32 i32)))
  (import "wasmbus" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasmbus" "__host_response_len" (func $host_response_len (result i32)))
  (import "wasmbus" "__host_response" (func $host_response (param i32)))
  (import "wasmbus" "__host_error_len" (func $host_error_len (result i32)))
  (import "wasmbus" "__host_error" (func $host_error (param i32)))
  (import "wasmbus" "__console_log" (func $console_log (param i32 i32)))
  (import "wapc" "__console_log" (func $wapc_console_log (param i32 i32)))
  (memory (export "memory") 2)
  (data (i32.const 100) "wasmcloudwasmcloud:examplePing")
  (data (i32.const 200) "unknown operation")
  (data (i32.const 220) "logged")
  (data (i32.const 240) "and through wapc")

  (func (export "__wasmbus_rpc_version") (result i32) (i32.const 1))

  ;; the operation at 0, the payload at 1024; replies are built at 65536
  (func (export "__guest_call") (param $op_len i32) (param $pl_len i32) (result i32)
    (local $op i32) (local $n i32)
    (call $guest_request (i32.const 0) (i32.const 1024))
    (local.set $op (i32.load8_u (i32.const 0)))
    (if (i32.eq (local.get $op) (i32.const 0x65)) ;; e
      (then (call $guest_response (i32.const 1024) (local.get $pl_len)) (return (i32.const 1))))
    (if (i32.eq (local.get $op) (i32.const 0x68)) ;; h
      (then
        (if (call $host_call (i32.const 100) (i32.const 9) (i32.const 109) (i32.const 17)
                             (i32.const 126) (i32.const 4) (i32.const 1024) (local.get $pl_len))
          (then
            (local.set $n (call $host_response_len))
            (call $host_response (i32.const 65536))
            (call $guest_response (i32.const 65536) (local.get $n))
            (return (i32.const 1))))
        (local.set $n (call $host_error_len))
        (call $host_error (i32.const 65536))
        (call $guest_error (i32.const 65536) (local.get $n))
        (return (i32.const 0))))
    (if (i32.eq (local.get $op) (i32.const 0x6c)) ;; l
      (then
        (call $console_log (i32.const 1024) (local.get $pl_len))
        (call $wapc_console_log (i32.const 240) (i32.const 16))
        (call $guest_response (i32.const 220) (i32.const 6))
        (return (i32.const 1))))
    (call $guest_error (i32.const 200) (i32.const 17))
    (i32.const 0))
)
