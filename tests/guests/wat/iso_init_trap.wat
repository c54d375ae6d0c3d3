;; iso_init_trap.wat — the trapping-start-up test guest (tests/integration/isolation.sh). wapc_init
;; asks the kvstore for the key "init-trap" and, when it is there, traps (unreachable). The handler
;; answers "started"; given the payload "arm" it stores the key and traps instead, so the server
;; drops this instance and must start a new one, whose wapc_init then traps: every request that
;; needs a new instance fails ("wapc_init" ... "unreachable"), while other functions keep serving.
;; The first instance is made at start-up, hence the switch (like iso_init_loop.wat).
(module
  (import "wapc" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wapc" "__guest_request" (func $request (param i32 i32)))
  (import "wapc" "__guest_response" (func $response (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "tarmackvstoregetset")          ;; binding 0+6, namespace 6+7, ops 13+3, 16+3
  (data (i32.const 32) "\0a\09init-trap")             ;; KVStoreGet {key}, 11 bytes
  (data (i32.const 48) "\0a\09init-trap\12\01x")      ;; KVStoreSet {key, data}, 14 bytes
  (data (i32.const 64) "started")
  (func (export "wapc_init")
    (if (call $host_call (i32.const 0) (i32.const 6) (i32.const 6) (i32.const 7)
                         (i32.const 13) (i32.const 3) (i32.const 32) (i32.const 11))
      (then (unreachable))))
  (func (export "__guest_call") (param $op_len i32) (param $len i32) (result i32)
    (if (i32.gt_u (local.get $len) (i32.const 1024))
      (then (return (i32.const 0))))
    (call $request (i32.const 1024) (i32.const 2048))
    (if (i32.and (i32.eq (local.get $len) (i32.const 3))
                 (i32.eq (i32.load8_u (i32.const 2048)) (i32.const 97))) ;; "a"rm
      (then
        (drop (call $host_call (i32.const 0) (i32.const 6) (i32.const 6) (i32.const 7)
                               (i32.const 16) (i32.const 3) (i32.const 48) (i32.const 14)))
        (unreachable)))
    (call $response (i32.const 64) (i32.const 7))
    (i32.const 1)))
