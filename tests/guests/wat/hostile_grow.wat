;; hostile_grow.wat — memory.grow to the limit. Operation by first byte:
;;   g  grows one page at a time until memory.grow answers -1, writes the last byte of the grown
;;      memory, then answers "grew to N pages" (N in decimal; 4096 under waPC's default cap)
;;   u  asks for 65536 pages at once: answers "refused" when memory.grow gives -1
(module
  (import "wapc" "__guest_request" (func $guest_request (param i32 i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "grew to ")
  (data (i32.const 200) " pages")
  (data (i32.const 300) "refused")

  ;; writes n in decimal at 108, then " pages"; returns the text length from 100
  (func $answer (param $n i32) (result i32)
    (local $digits i32) (local $t i32) (local $i i32)
    (local.set $t (local.get $n))
    (loop $count
      (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
      (local.set $t (i32.div_u (local.get $t) (i32.const 10)))
      (br_if $count (local.get $t)))
    (local.set $i (local.get $digits))
    (local.set $t (local.get $n))
    (loop $put
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (i32.store8 (i32.add (i32.const 108) (local.get $i))
                  (i32.add (i32.const 0x30) (i32.rem_u (local.get $t) (i32.const 10))))
      (local.set $t (i32.div_u (local.get $t) (i32.const 10)))
      (br_if $put (local.get $i)))
    (memory.copy (i32.add (i32.const 108) (local.get $digits)) (i32.const 200) (i32.const 6))
    (i32.add (i32.const 14) (local.get $digits)))

  (func (export "__guest_call") (param $op_len i32) (param $pl_len i32) (result i32)
    (call $guest_request (i32.const 0) (i32.const 1024))
    (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 0x67)) ;; g
      (then
        (block $full
          (loop $more
            (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
            (br $more)))
        (i32.store8 (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 1)) (i32.const 1))
        (call $guest_response (i32.const 100) (call $answer (memory.size)))
        (return (i32.const 1))))
    (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 0x75)) ;; u
      (then
        (if (i32.eq (memory.grow (i32.const 65536)) (i32.const -1))
          (then (call $guest_response (i32.const 300) (i32.const 7)) (return (i32.const 1))))))
    (i32.const 0))
)
