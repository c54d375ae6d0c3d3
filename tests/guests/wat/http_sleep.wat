;; http_sleep.wat — waPC guest for the server tests: sleeps 100 ms per payload byte through WASI
;; poll_oneoff (one relative monotonic-clock subscription), then answers "slept". A slow request
;; whose duration does not depend on the machine's speed, unlike http_spin.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wapc" "__guest_response" (func $response (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 300) "slept")
  (func (export "__guest_call") (param $op_len i32) (param $len i32) (result i32)
    ;; preview1 subscription at 0 (48 bytes): userdata 0, tag 0 (clock) at 8, clock id 1
    ;; (monotonic) at 16, timeout in ns at 24, precision at 32, flags 0 (relative) at 40.
    (i64.store (i32.const 0) (i64.const 0))
    (i32.store8 (i32.const 8) (i32.const 0))
    (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24)
      (i64.mul (i64.extend_i32_u (local.get $len)) (i64.const 100000000)))
    (i64.store (i32.const 32) (i64.const 0))
    (i32.store16 (i32.const 40) (i32.const 0))
    ;; one event (32 bytes) at 64, the count at 128
    (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128)))
    (call $response (i32.const 300) (i32.const 5))
    (i32.const 1)))
