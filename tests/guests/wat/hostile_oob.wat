;; hostile_oob.wat — a waPC guest that hands the host out-of-range (ptr, len) pairs, one import per
;; operation. Each must trap the guest cleanly ("out of bounds memory access (<import>: ptr+len)"):
;; the host never reads or writes outside the guest's one page of memory.
;; Operations are chosen by the first byte of the operation name:
;;   q  __guest_request, operation buffer past the end      Q  payload buffer past the end
;;   r  __guest_response at 0xffffffff, 2 bytes             R  __guest_response with a 4 GiB length
;;   e  __guest_error straddling the end of memory
;;   b/n/o/p  __host_call with binding / namespace / operation / payload out of range
;;   h  __host_response to 0xfffffffe after a successful host call (host must reply non-empty)
;;   H  __host_error to the last byte after a failed host call (host must fail)
;;   l  __console_log with a 4 GiB length                   L  __console_log at 0xffffffff
;;   z  zero lengths at wild pointers everywhere: legal, answers "ok"
(module
  (import "wapc" "__guest_request" (func $guest_request (param i32 i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (import "wapc" "__guest_error" (func $guest_error (param i32 i32)))
  (import "wapc" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wapc" "__host_response_len" (func $host_response_len (result i32)))
  (import "wapc" "__host_response" (func $host_response (param i32)))
  (import "wapc" "__host_error_len" (func $host_error_len (result i32)))
  (import "wapc" "__host_error" (func $host_error (param i32)))
  (import "wapc" "__console_log" (func $console_log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 256) "ok")

  (func (export "__guest_call") (param $op_len i32) (param $pl_len i32) (result i32)
    (local $op i32)
    (if (i32.eqz (local.get $op_len)) (then (return (i32.const 0))))
    ;; operation at 0, payload at 1024 (both small in these tests)
    (call $guest_request (i32.const 0) (i32.const 1024))
    (local.set $op (i32.load8_u (i32.const 0)))

    (if (i32.eq (local.get $op) (i32.const 0x71)) ;; q
      (then (call $guest_request (i32.const 65536) (i32.const 1024))))
    (if (i32.eq (local.get $op) (i32.const 0x51)) ;; Q
      (then (call $guest_request (i32.const 0) (i32.const 0xfffffff0))))
    (if (i32.eq (local.get $op) (i32.const 0x72)) ;; r
      (then (call $guest_response (i32.const 0xffffffff) (i32.const 2))))
    (if (i32.eq (local.get $op) (i32.const 0x52)) ;; R
      (then (call $guest_response (i32.const 16) (i32.const 0xffffffff))))
    (if (i32.eq (local.get $op) (i32.const 0x65)) ;; e
      (then (call $guest_error (i32.const 65530) (i32.const 7))))
    (if (i32.eq (local.get $op) (i32.const 0x62)) ;; b
      (then (drop (call $host_call (i32.const 0x10000) (i32.const 1) (i32.const 0) (i32.const 1)
                                   (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1)))))
    (if (i32.eq (local.get $op) (i32.const 0x6e)) ;; n
      (then (drop (call $host_call (i32.const 0) (i32.const 1) (i32.const 8) (i32.const 0x80000000)
                                   (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1)))))
    (if (i32.eq (local.get $op) (i32.const 0x6f)) ;; o
      (then (drop (call $host_call (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1)
                                   (i32.const 0xffffffff) (i32.const 0xffffffff) (i32.const 0) (i32.const 1)))))
    (if (i32.eq (local.get $op) (i32.const 0x70)) ;; p
      (then (drop (call $host_call (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1)
                                   (i32.const 0) (i32.const 1) (i32.const 65000) (i32.const 65536)))))
    (if (i32.eq (local.get $op) (i32.const 0x68)) ;; h
      (then
        (drop (call $host_call (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1)
                               (i32.const 0) (i32.const 1) (i32.const 1024) (local.get $pl_len)))
        (call $host_response (i32.const 0xfffffffe))))
    (if (i32.eq (local.get $op) (i32.const 0x48)) ;; H
      (then
        (drop (call $host_call (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1)
                               (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 0)))
        (call $host_error (i32.const 65535))))
    (if (i32.eq (local.get $op) (i32.const 0x6c)) ;; l
      (then (call $console_log (i32.const 0) (i32.const 0xffffffff))))
    (if (i32.eq (local.get $op) (i32.const 0x4c)) ;; L
      (then (call $console_log (i32.const 0xffffffff) (i32.const 1))))
    (if (i32.eq (local.get $op) (i32.const 0x7a)) ;; z
      (then
        (call $guest_error (i32.const 0xffffffff) (i32.const 0))
        (call $console_log (i32.const 0xffffffff) (i32.const 0))
        (drop (call $host_call (i32.const 0xffffffff) (i32.const 0) (i32.const 0xffffffff) (i32.const 0)
                               (i32.const 0xffffffff) (i32.const 0) (i32.const 0xffffffff) (i32.const 0)))
        (call $guest_response (i32.const 256) (i32.const 2))
        (return (i32.const 1))))
    (i32.const 0))
)
