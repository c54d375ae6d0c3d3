;; hostile_exit.wat — WASI proc_exit in the middle of an invocation, and in start-up.
;; `_start` calls proc_exit(0), as TinyGo ≥ 0.35 command modules do: the instance stays usable.
;; Operation by first byte:
;;   x  proc_exit(3) mid-call: "guest exited with code 3"
;;   0  proc_exit(0) mid-call: "guest exited with code 0" (success with no payload in Tarmac mode)
;;   k  answers "alive" (proves start-up's exit(0) left the instance usable)
;;   r  __guest_response("partial") then proc_exit(0); R: the same then proc_exit(4). In Tarmac
;;      mode the response given is the answer (TARMAC.md §11.2); otherwise "guest exited …"
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wapc" "__guest_request" (func $guest_request (param i32 i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "alive")
  (data (i32.const 200) "partial")
  (global $started (mut i32) (i32.const 0))

  (func (export "_start")
    (global.set $started (i32.const 1))
    (call $proc_exit (i32.const 0)))

  (func (export "__guest_call") (param $op_len i32) (param $pl_len i32) (result i32)
    (call $guest_request (i32.const 0) (i32.const 1024))
    (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 0x78)) ;; x
      (then (call $proc_exit (i32.const 3))))
    (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 0x30)) ;; 0
      (then (call $proc_exit (i32.const 0))))
    (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 0x72)) ;; r
      (then (call $guest_response (i32.const 200) (i32.const 7)) (call $proc_exit (i32.const 0))))
    (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 0x52)) ;; R
      (then (call $guest_response (i32.const 200) (i32.const 7)) (call $proc_exit (i32.const 4))))
    (if (i32.and (i32.eq (i32.load8_u (i32.const 0)) (i32.const 0x6b)) (global.get $started)) ;; k
      (then (call $guest_response (i32.const 100) (i32.const 5)) (return (i32.const 1))))
    (i32.const 0))
)
