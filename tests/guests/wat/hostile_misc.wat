;; hostile_misc.wat — odd but legal behaviour, and AssemblyScript's env.abort.
;; The start section logs "from the start section" and calls __guest_request (no invocation is
;; running, so nothing is written) and __host_call (dispatched like any other).
;; Operation by first byte:
;;   a  env.abort with UTF-16 text (an accent and a surrogate pair): "abort: héllo 😀 at f.ts:1:2"
;;   A  env.abort with pointers out of range: decoded as "?", still a clean trap
;;   2  __guest_call returns 2 and records nothing: `call to "2..." was unsuccessful`
;;   E  a response, then an error, then returns 1: the error wins (WAPC.md §6.3 rule 3)
;;   R  two responses: the last one wins ("second")
;;   g  host call, then memory.grow, then __host_response into the new page: the host re-reads
;;      the memory size, and the reply (the payload echoed by the host) comes back
(module
  (import "wapc" "__guest_request" (func $guest_request (param i32 i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (import "wapc" "__guest_error" (func $guest_error (param i32 i32)))
  (import "wapc" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wapc" "__host_response_len" (func $host_response_len (result i32)))
  (import "wapc" "__host_response" (func $host_response (param i32)))
  (import "wapc" "__console_log" (func $console_log (param i32 i32)))
  (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "from the start section")
  (data (i32.const 200) "firstsecondbad news")
  (data (i32.const 300) "startuphello")
  ;; AssemblyScript strings: byte length at ptr-4, then UTF-16LE. "héllo 😀" at 404, "f.ts" at 504.
  (data (i32.const 400) "\10\00\00\00h\00\e9\00l\00l\00o\00 \00\3d\d8\00\de")
  (data (i32.const 500) "\08\00\00\00f\00.\00t\00s\00")

  (func $init
    (call $console_log (i32.const 100) (i32.const 22))
    (call $guest_request (i32.const 0xffffffff) (i32.const 0xffffffff))
    (drop (call $host_call (i32.const 300) (i32.const 7) (i32.const 300) (i32.const 0)
                           (i32.const 307) (i32.const 5) (i32.const 0) (i32.const 0))))
  (start $init)

  (func (export "__guest_call") (param $op_len i32) (param $pl_len i32) (result i32)
    (local $op i32) (local $n i32) (local $at i32)
    (call $guest_request (i32.const 0) (i32.const 1024))
    (local.set $op (i32.load8_u (i32.const 0)))
    (if (i32.eq (local.get $op) (i32.const 0x61)) ;; a
      (then (call $abort (i32.const 404) (i32.const 504) (i32.const 1) (i32.const 2)) (unreachable)))
    (if (i32.eq (local.get $op) (i32.const 0x41)) ;; A
      (then (call $abort (i32.const 0xfffffff0) (i32.const 2) (i32.const 7) (i32.const 8))
            (unreachable)))
    (if (i32.eq (local.get $op) (i32.const 0x32)) ;; 2
      (then (return (i32.const 2))))
    (if (i32.eq (local.get $op) (i32.const 0x45)) ;; E
      (then (call $guest_response (i32.const 200) (i32.const 5))
            (call $guest_error (i32.const 211) (i32.const 8))
            (return (i32.const 1))))
    (if (i32.eq (local.get $op) (i32.const 0x52)) ;; R
      (then (call $guest_response (i32.const 200) (i32.const 5))
            (call $guest_response (i32.const 205) (i32.const 6))
            (return (i32.const 1))))
    (if (i32.eq (local.get $op) (i32.const 0x67)) ;; g
      (then
        (if (i32.eqz (call $host_call (i32.const 300) (i32.const 7) (i32.const 300) (i32.const 0)
                                      (i32.const 307) (i32.const 5) (i32.const 1024) (local.get $pl_len)))
          (then (return (i32.const 0))))
        (local.set $n (call $host_response_len))
        (local.set $at (i32.mul (memory.grow (i32.const 1)) (i32.const 65536)))
        (call $host_response (local.get $at))
        (call $guest_response (local.get $at) (local.get $n))
        (return (i32.const 1))))
    (i32.const 0))
)
