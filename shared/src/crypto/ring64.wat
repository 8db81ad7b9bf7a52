;; The SIMD kernel of Ring64Sum (ring64-simd.ts). Compiled to ring64-wasm.ts by `npm run build:fold-wasm`; a test
;; fails when that file is not what this source compiles to.
;;
;; Ring vectors as the memory holds them: `count` little-endian uint64 elements (a Ring64's words on a little-endian
;; host), added or subtracted element-wise mod 2^64 — i64x2.add / i64x2.sub wrap exactly as the ring does, two
;; elements per instruction, and an odd last element with i64.add / i64.sub. Pointers are byte offsets into the
;; imported memory; `dst` and `src` are 16-byte aligned by the caller (alignment is only a hint in wasm anyway).

(module
  (import "env" "memory" (memory 1))

  ;; dst[i] += src[i] (mod 2^64) for i < count.
  (func (export "add") (param $dst i32) (param $src i32) (param $count i32)
    (local $end i32) (local $pairs_end i32)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $count) (i32.const 3))))
    (local.set $pairs_end
      (i32.add (local.get $dst) (i32.shl (i32.and (local.get $count) (i32.const -2)) (i32.const 3))))
    (block $pairs_done
      (loop $pairs
        (br_if $pairs_done (i32.ge_u (local.get $dst) (local.get $pairs_end)))
        (v128.store (local.get $dst) (i64x2.add (v128.load (local.get $dst)) (v128.load (local.get $src))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (br $pairs)))
    (if (i32.lt_u (local.get $dst) (local.get $end))
      (then (i64.store (local.get $dst) (i64.add (i64.load (local.get $dst)) (i64.load (local.get $src)))))))

  ;; dst[i] −= src[i] (mod 2^64) for i < count.
  (func (export "sub") (param $dst i32) (param $src i32) (param $count i32)
    (local $end i32) (local $pairs_end i32)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $count) (i32.const 3))))
    (local.set $pairs_end
      (i32.add (local.get $dst) (i32.shl (i32.and (local.get $count) (i32.const -2)) (i32.const 3))))
    (block $pairs_done
      (loop $pairs
        (br_if $pairs_done (i32.ge_u (local.get $dst) (local.get $pairs_end)))
        (v128.store (local.get $dst) (i64x2.sub (v128.load (local.get $dst)) (v128.load (local.get $src))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (br $pairs)))
    (if (i32.lt_u (local.get $dst) (local.get $end))
      (then (i64.store (local.get $dst) (i64.sub (i64.load (local.get $dst)) (i64.load (local.get $src))))))))
