;; hostile_loop.wat — guests that never finish. Operation by first byte:
;;   h  calls __host_call forever: stopped by the per-invocation host-call limit
;;      (ap_wapc_config.max_host_calls, `apron run --max-host-calls`), a trap
;;   l  spins in a plain loop: stopped by a deadline (`apron run --timeout-ms`, a watchdog calling
;;      ap_wapc_interrupt → wa_store_interrupt), a trap
;;   c  counts: a global incremented per call, answered as one ASCII digit (state persists across
;;      invocations of one instance)
(module
  (import "wapc" "__guest_request" (func $guest_request (param i32 i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (import "wapc" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "tarmacloggerinfo")
  (global $count (mut i32) (i32.const 0))

  (func (export "__guest_call") (param $op_len i32) (param $pl_len i32) (result i32)
    (local $op i32)
    (call $guest_request (i32.const 0) (i32.const 1024))
    (local.set $op (i32.load8_u (i32.const 0)))
    (if (i32.eq (local.get $op) (i32.const 0x68)) ;; h
      (then (loop $again
        (drop (call $host_call (i32.const 100) (i32.const 6) (i32.const 106) (i32.const 6)
                               (i32.const 112) (i32.const 4) (i32.const 0) (i32.const 0)))
        (br $again))))
    (if (i32.eq (local.get $op) (i32.const 0x6c)) ;; l
      (then (loop $spin (br $spin))))
    (if (i32.eq (local.get $op) (i32.const 0x63)) ;; c
      (then
        (global.set $count (i32.add (global.get $count) (i32.const 1)))
        (i32.store8 (i32.const 200) (i32.add (i32.const 0x30) (global.get $count)))
        (call $guest_response (i32.const 200) (i32.const 1))
        (return (i32.const 1))))
    (i32.const 0))
)
