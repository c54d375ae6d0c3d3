;; reset.wat — the guest of bench/reset.c: 1 MiB of memory (16 pages) with a data segment, a
;; mutable global, and `work`, which bumps the global, reads one word from each of `read` 4 KiB
;; pages (as a guest reads its data and heap) and writes one word into each of `pages` pages,
;; spread over the memory (3 pages apart, from page `at`, wrapping around at 1 MiB).
(module
  (memory (export "memory") 16)
  (global $calls (export "calls") (mut i32) (i32.const 0))
  (global $sink (mut i32) (i32.const 0))
  (data (i32.const 1024) "data segment: part of the snapshot")
  (func (export "work") (param $pages i32) (param $read i32) (param $at i32) (result i32)
    (local $i i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $read)))
        (global.set $sink (i32.add (global.get $sink)
                                   (i32.load (i32.mul (local.get $i) (i32.const 4096)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.set $i (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $pages)))
        (i32.store (i32.mul (i32.and (i32.add (local.get $at) (i32.mul (local.get $i) (i32.const 3)))
                                     (i32.const 255))
                            (i32.const 4096))
                   (global.get $calls))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (global.get $calls)))
