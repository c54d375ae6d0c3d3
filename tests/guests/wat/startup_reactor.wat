;; startup_reactor.wat — start-up order of a WASI reactor (WAPC.md §4 OURS): the start section,
;; then _initialize, then wapc_init; `main` is exported but never called. Each step appends a
;; letter to a record in memory (S start section, I _initialize, W wapc_init, M main, C each
;; __guest_call) and logs its name with __console_log; wapc_init also calls the host
;; (tarmac:logger:info, payload "wapc_init"), as waPC hosts allow during start-up.
;; Every operation answers the record so far: "SIWC" on a fresh instance.
(module
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (import "wapc" "__console_log" (func $console_log (param i32 i32)))
  (import "wapc" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "start section")
  (data (i32.const 120) "_initialize")
  (data (i32.const 140) "wapc_init")
  (data (i32.const 160) "main")
  (data (i32.const 180) "tarmacloggerinfo")
  (global $n (mut i32) (i32.const 0))
  ;; record[n++] = c (the record lives at 1024)
  (func $mark (param $c i32)
    (i32.store8 (i32.add (i32.const 1024) (global.get $n)) (local.get $c))
    (global.set $n (i32.add (global.get $n) (i32.const 1))))

  (func $start (call $mark (i32.const 0x53)) (call $console_log (i32.const 100) (i32.const 13)))
  (start $start)
  (func (export "_initialize")
    (call $mark (i32.const 0x49)) (call $console_log (i32.const 120) (i32.const 11)))
  (func (export "wapc_init")
    (call $mark (i32.const 0x57)) (call $console_log (i32.const 140) (i32.const 9))
    (drop (call $host_call (i32.const 180) (i32.const 6) (i32.const 186) (i32.const 6)
                           (i32.const 192) (i32.const 4) (i32.const 140) (i32.const 9))))
  (func (export "main") (param i32 i32) (result i32)
    (call $mark (i32.const 0x4d)) (call $console_log (i32.const 160) (i32.const 4)) (i32.const 0))

  (func (export "__guest_call") (param i32 i32) (result i32)
    (call $mark (i32.const 0x43))
    (call $guest_response (i32.const 1024) (global.get $n))
    (i32.const 1))
)
