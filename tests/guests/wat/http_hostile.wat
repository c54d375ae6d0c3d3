;; http_hostile.wat — misbehaviour over HTTP, chosen by the first byte of the request body, for the
;; isolation and limits test (tests/integration/isolation.sh):
;;   l  loops forever: the deadline (timeout_ms) traps "deadline exceeded", HTTP 504
;;   r  recurses without end: "call stack exhausted", 500
;;   g  grows memory one page at a time until memory.grow gives -1, then answers "grew to N"
;;      with N = memory.size in decimal (max_memory_pages)
;;   o  calls __host_call with pointers far out of range: "out of bounds memory access", 500
;;   p  calls __host_call with an 8 KiB payload: past max_host_payload, 500
;;   anything else: answers "fine"
(module
  (import "wapc" "__guest_request" (func $request (param i32 i32)))
  (import "wapc" "__guest_response" (func $response (param i32 i32)))
  (import "wapc" "__host_call"
    (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "fine")
  (data (i32.const 16) "grew to ")
  (func $recurse (param i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  ;; writes n in decimal at 24 and returns the end offset
  (func $decimal (param $n i32) (result i32)
    (local $digits i32) (local $t i32) (local $p i32)
    (local.set $t (local.get $n))
    (loop $count
      (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
      (local.set $t (i32.div_u (local.get $t) (i32.const 10)))
      (br_if $count (local.get $t)))
    (local.set $p (i32.add (i32.const 24) (local.get $digits)))
    (local.set $t (local.get $p))
    (loop $emit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $emit (local.get $n)))
    (local.get $t))
  (func (export "__guest_call") (param $op_len i32) (param $len i32) (result i32)
    (local $c i32)
    (if (i32.eqz (local.get $len))
      (then (call $response (i32.const 0) (i32.const 4)) (return (i32.const 1))))
    ;; operation at 256, payload at 512 (both fit: the test sends one byte)
    (call $request (i32.const 256) (i32.const 512))
    (local.set $c (i32.load8_u (i32.const 512)))
    (if (i32.eq (local.get $c) (i32.const 108)) ;; l
      (then (loop $forever (br $forever))))
    (if (i32.eq (local.get $c) (i32.const 114)) ;; r
      (then (drop (call $recurse (i32.const 0)))))
    (if (i32.eq (local.get $c) (i32.const 103)) ;; g
      (then
        (block $full (loop $grow
          (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
          (br $grow)))
        (call $response (i32.const 16) (i32.sub (call $decimal (memory.size)) (i32.const 16)))
        (return (i32.const 1))))
    (if (i32.eq (local.get $c) (i32.const 111)) ;; o
      (then (drop (call $host_call (i32.const -16) (i32.const 1000) (i32.const 0) (i32.const 1)
                                   (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1)))))
    (if (i32.eq (local.get $c) (i32.const 112)) ;; p
      (then (drop (call $host_call (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 4)
                                   (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 8192)))))
    (call $response (i32.const 0) (i32.const 4))
    (i32.const 1)))
