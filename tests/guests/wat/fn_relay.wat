;; fn_relay.wat — waPC guest for fuzz-cap (tests/fuzz/fuzz_cap.c): its payload says which host call
;; to make next, so one input can build a chain of function-to-function calls of any depth, or end
;; it in any other capability:
;;   [n][namespace: n bytes][m][operation: m bytes][rest]
;; calls tarmac:<namespace>:<operation> with rest and answers the host's response, or fails with
;; the host's error. n = 0: answers the rest as it is; n = 255: traps (unreachable); a payload
;; shorter than its lengths fails with "short payload".
(module
  (import "wapc" "__guest_request" (func $request (param i32 i32)))
  (import "wapc" "__guest_response" (func $response (param i32 i32)))
  (import "wapc" "__guest_error" (func $error (param i32 i32)))
  (import "wapc" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wapc" "__host_response_len" (func $response_len (result i32)))
  (import "wapc" "__host_response" (func $host_response (param i32)))
  (import "wapc" "__host_error_len" (func $error_len (result i32)))
  (import "wapc" "__host_error" (func $host_error (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "tarmacshort payload")

  ;; grows memory so that [0, end) is addressable; traps when it cannot
  (func $fit (param $end i32)
    (local $pages i32)
    (local.set $pages (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
          (then unreachable)))))

  ;; the operation name at 1024, the payload at 64 KiB, the host's answer right after it
  (func (export "__guest_call") (param $op_len i32) (param $len i32) (result i32)
    (local $n i32) (local $m i32) (local $rest i32) (local $out i32) (local $alen i32)
    (call $fit (i32.add (i32.const 65536) (local.get $len)))
    (call $request (i32.const 1024) (i32.const 65536))
    (if (i32.eqz (local.get $len))
      (then
        (call $error (i32.const 6) (i32.const 13))
        (return (i32.const 0))))
    (local.set $n (i32.load8_u (i32.const 65536)))
    (if (i32.eqz (local.get $n))
      (then
        (call $response (i32.const 65537) (i32.sub (local.get $len) (i32.const 1)))
        (return (i32.const 1))))
    (if (i32.eq (local.get $n) (i32.const 255)) (then unreachable))
    (if (i32.lt_u (local.get $len) (i32.add (local.get $n) (i32.const 2)))
      (then
        (call $error (i32.const 6) (i32.const 13))
        (return (i32.const 0))))
    (local.set $m (i32.load8_u (i32.add (i32.const 65537) (local.get $n))))
    (local.set $rest (i32.add (i32.add (local.get $n) (local.get $m)) (i32.const 2)))
    (if (i32.lt_u (local.get $len) (local.get $rest))
      (then
        (call $error (i32.const 6) (i32.const 13))
        (return (i32.const 0))))
    (local.set $out (i32.add (i32.const 65536) (local.get $len)))
    (if (i32.eqz
          (call $host_call (i32.const 0) (i32.const 6)
                           (i32.const 65537) (local.get $n)
                           (i32.add (i32.const 65538) (local.get $n)) (local.get $m)
                           (i32.add (i32.const 65536) (local.get $rest))
                           (i32.sub (local.get $len) (local.get $rest))))
      (then
        (local.set $alen (call $error_len))
        (call $fit (i32.add (local.get $out) (local.get $alen)))
        (call $host_error (local.get $out))
        (call $error (local.get $out) (local.get $alen))
        (return (i32.const 0))))
    (local.set $alen (call $response_len))
    (call $fit (i32.add (local.get $out) (local.get $alen)))
    (call $host_response (local.get $out))
    (call $response (local.get $out) (local.get $alen))
    (i32.const 1)))
