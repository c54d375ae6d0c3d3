;; iso_secret.wat — the request-isolation test guest (tests/integration/isolation.sh): every
;; invocation answers "calls=N <6 bytes at 1024>" and then leaves a secret behind: the global
;; counter goes up and "SECRET" is written at 1024. Pool isolation: the next call answers
;; "calls=1 SECRET". Request isolation: always "calls=0 ......", the state after start-up.
(module
  (import "wapc" "__guest_response" (func $response (param i32 i32)))
  (memory (export "memory") 1)
  (global $calls (mut i32) (i32.const 0))
  (data (i32.const 1024) "......")
  (data (i32.const 2048) "calls=? ")
  (func (export "__guest_call") (param $op_len i32) (param $len i32) (result i32)
    (i32.store8 (i32.const 2054) (i32.add (i32.const 48) (i32.rem_u (global.get $calls) (i32.const 10))))
    (memory.copy (i32.const 2056) (i32.const 1024) (i32.const 6))
    (call $response (i32.const 2048) (i32.const 14))
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.store (i32.const 1024) (i32.const 0x52434553)) ;; "SECR"
    (i32.store16 (i32.const 1028) (i32.const 0x5445))   ;; "ET"
    (i32.const 1)))
