;; ticker COUNT ITERS SLEEP_MS GROW_PAGES: COUNT times, ITERS steps of an LCG, then
;; "tick I X\n" straight to fd 1 (no buffering) and a SLEEP_MS sleep (poll_oneoff on the
;; monotonic clock). GROW_PAGES extra memory pages are grown and touched first. Exits 0.
;; The scheduler's test program: deterministic output, sleeps that block in a host call.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  ;; 0: iovec, 16: nwritten/nevents, 32: subscription, 96: event, 128: line, 230..250: digits,
  ;; 256: argc, 260: argv buf size, 512: argv pointers, 1024: argv strings

  (func $atoi (param $p i32) (result i32) (local $n i32) (local $c i32)
    (block $done
      (loop $l
        (local.set $c (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
        (br_if $done (i32.ge_u (local.get $c) (i32.const 10)))
        (local.set $n (i32.add (i32.mul (local.get $n) (i32.const 10)) (local.get $c)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $l)))
    (local.get $n))

  (func $arg (param $i i32) (param $default i32) (result i32)
    (if (result i32) (i32.gt_u (i32.load (i32.const 256)) (local.get $i))
      (then (call $atoi (i32.load (i32.add (i32.const 512) (i32.shl (local.get $i) (i32.const 2))))))
      (else (local.get $default))))

  (func $put (param $pos i32) (param $v i32) (result i32) (local $t i32)
    (local.set $t (i32.const 250))
    (loop $l
      (local.set $t (i32.sub (local.get $t) (i32.const 1)))
      (i32.store8 (local.get $t) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $l (local.get $v)))
    (block $d
      (loop $c
        (br_if $d (i32.ge_u (local.get $t) (i32.const 250)))
        (i32.store8 (local.get $pos) (i32.load8_u (local.get $t)))
        (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $c)))
    (local.get $pos))

  (func (export "_start")
    (local $count i32) (local $iters i32) (local $sleep i32) (local $grow i32)
    (local $i i32) (local $j i32) (local $x i32) (local $pos i32) (local $k i32)
    (drop (call $args_sizes (i32.const 256) (i32.const 260)))
    (drop (call $args_get (i32.const 512) (i32.const 1024)))
    (local.set $count (call $arg (i32.const 1) (i32.const 10)))
    (local.set $iters (call $arg (i32.const 2) (i32.const 100000)))
    (local.set $sleep (call $arg (i32.const 3) (i32.const 0)))
    (local.set $grow (call $arg (i32.const 4) (i32.const 0)))
    (if (local.get $grow)
      (then
        (drop (memory.grow (local.get $grow)))
        (loop $t
          (i32.store8 (i32.mul (i32.add (local.get $k) (i32.const 2)) (i32.const 65536)) (i32.const 1))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $t (i32.lt_u (local.get $k) (local.get $grow))))))
    (local.set $x (i32.const 1))
    (local.set $i (i32.const 1))
    (block $end
      (loop $tick
        (br_if $end (i32.gt_u (local.get $i) (local.get $count)))
        (local.set $j (i32.const 0))
        (block $b
          (loop $spin
            (br_if $b (i32.ge_u (local.get $j) (local.get $iters)))
            (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 1103515245)) (i32.const 12345)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $spin)))
        ;; "tick I X\n"
        (i32.store (i32.const 128) (i32.const 0x6b636974))
        (i32.store8 (i32.const 132) (i32.const 32))
        (local.set $pos (call $put (i32.const 133) (local.get $i)))
        (i32.store8 (local.get $pos) (i32.const 32))
        (local.set $pos (call $put (i32.add (local.get $pos) (i32.const 1)) (local.get $x)))
        (i32.store8 (local.get $pos) (i32.const 10))
        (i32.store (i32.const 0) (i32.const 128))
        (i32.store (i32.const 4) (i32.sub (i32.add (local.get $pos) (i32.const 1)) (i32.const 128)))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
        (if (local.get $sleep)
          (then
            (i64.store (i32.const 32) (i64.const 7))          ;; userdata
            (i32.store8 (i32.const 40) (i32.const 0))         ;; tag: clock
            (i32.store (i32.const 48) (i32.const 1))          ;; monotonic
            (i64.store (i32.const 56) (i64.mul (i64.extend_i32_u (local.get $sleep)) (i64.const 1000000)))
            (i64.store (i32.const 64) (i64.const 0))          ;; precision
            (i32.store16 (i32.const 72) (i32.const 0))        ;; relative
            (drop (call $poll (i32.const 32) (i32.const 96) (i32.const 1) (i32.const 16)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tick)))))
