;; The SIMD kernel of the FedAvg-family fold (see weighted-fold-simd.ts). Compiled to weighted-fold-wasm.ts by
;; `npm run build:fold-wasm`; a test fails when that file is not what this source compiles to.
;;
;; Every element gets exactly the JS arithmetic of weighted-fold.ts: the float32 weight widened to float64
;; (f64x2.promote_low_f32x4 / f64.promote_f32, exact), multiplied by the factor (f64x2.mul / f64.mul, rounded once)
;; and added to the running sum (f64x2.add / f64.add, rounded once), update after update in the order given. Only
;; separately rounded IEEE operations are used: this instruction set has no fused multiply-add (only the relaxed-SIMD
;; proposal's f64x2.relaxed_madd, which is neither enabled nor used), and wasm arithmetic never keeps extra precision.
;;
;; Pointers are byte offsets into the imported memory. $dst and $src point at float64 sums (they may be equal: each
;; element is read before it is written); $src advances by $src_step bytes per four elements: 32 to read a sum, or 0 to
;; read the same four zeros for every element (the first fold into an accumulator: the old sum, all zeros, is never
;; read, and the arithmetic is still 0 + n·w, -0 included). $w points at the first of the staged float32 update
;; blocks; update j of a call is staged 65,536 bytes (16,384 float32, BLOCK in weighted-fold-simd.ts) after update
;; j − 1, so it is read at a constant offset from the same pointer. Each function writes dst[i] for i < count (at most
;; 16,384) and returns the sum of the values written: finite exactly when all are.
(module
  (import "env" "memory" (memory 1))

  ;; dst[i] = src[i] + na·a[i].
  (func (export "fold1")
      (param $dst i32) (param $src i32) (param $src_step i32) (param $w i32) (param $na f64) (param $count i32) (result f64)
    (local $quads_end i32) (local $end i32) (local $s0 v128) (local $s1 v128) (local $acc0 v128) (local $acc1 v128)
    (local $t f64) (local $tail f64) (local $fa v128)
    (local.set $fa (f64x2.splat (local.get $na)))
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $count) (i32.const 3))))
    (local.set $quads_end
      (i32.add (local.get $dst) (i32.shl (i32.and (local.get $count) (i32.const -4)) (i32.const 3))))
    ;; Four elements (two float64 pairs) per iteration.
    (block $quads_done
      (loop $quads
        (br_if $quads_done (i32.ge_u (local.get $dst) (local.get $quads_end)))
        (local.set $s0 (v128.load (local.get $src)))
        (local.set $s1 (v128.load offset=16 (local.get $src)))
        (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $fa) (f64x2.promote_low_f32x4 (v128.load64_zero offset=0 (local.get $w))))))
        (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $fa) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $w))))))
        (v128.store (local.get $dst) (local.get $s0))
        (v128.store offset=16 (local.get $dst) (local.get $s1))
        (local.set $acc0 (f64x2.add (local.get $acc0) (local.get $s0)))
        (local.set $acc1 (f64x2.add (local.get $acc1) (local.get $s1)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (local.set $src (i32.add (local.get $src) (local.get $src_step)))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (br $quads)))
    ;; The last count mod 4 elements one by one, with the same scalar operations.
    (block $rest_done
      (loop $rest
        (br_if $rest_done (i32.ge_u (local.get $dst) (local.get $end)))
        (local.set $t (f64.load (local.get $src)))
        (local.set $t (f64.add (local.get $t) (f64.mul (local.get $na) (f64.promote_f32 (f32.load offset=0 (local.get $w))))))
        (f64.store (local.get $dst) (local.get $t))
        (local.set $tail (f64.add (local.get $tail) (local.get $t)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
        (local.set $src (i32.add (local.get $src) (i32.shr_u (local.get $src_step) (i32.const 2))))
        (local.set $w (i32.add (local.get $w) (i32.const 4)))
        (br $rest)))
    (local.set $acc0 (f64x2.add (local.get $acc0) (local.get $acc1)))
    (f64.add (local.get $tail) (f64.add (f64x2.extract_lane 0 (local.get $acc0)) (f64x2.extract_lane 1 (local.get $acc0)))))

  ;; dst[i] = (src[i] + na·a[i]) + nb·b[i].
  (func (export "fold2")
      (param $dst i32) (param $src i32) (param $src_step i32) (param $w i32) (param $na f64) (param $nb f64) (param $count i32) (result f64)
    (local $quads_end i32) (local $end i32) (local $s0 v128) (local $s1 v128) (local $acc0 v128) (local $acc1 v128)
    (local $t f64) (local $tail f64) (local $fa v128) (local $fb v128)
    (local.set $fa (f64x2.splat (local.get $na)))
    (local.set $fb (f64x2.splat (local.get $nb)))
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $count) (i32.const 3))))
    (local.set $quads_end
      (i32.add (local.get $dst) (i32.shl (i32.and (local.get $count) (i32.const -4)) (i32.const 3))))
    ;; Four elements (two float64 pairs) per iteration.
    (block $quads_done
      (loop $quads
        (br_if $quads_done (i32.ge_u (local.get $dst) (local.get $quads_end)))
        (local.set $s0 (v128.load (local.get $src)))
        (local.set $s1 (v128.load offset=16 (local.get $src)))
        (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $fa) (f64x2.promote_low_f32x4 (v128.load64_zero offset=0 (local.get $w))))))
        (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $fb) (f64x2.promote_low_f32x4 (v128.load64_zero offset=65536 (local.get $w))))))
        (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $fa) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $w))))))
        (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $fb) (f64x2.promote_low_f32x4 (v128.load64_zero offset=65544 (local.get $w))))))
        (v128.store (local.get $dst) (local.get $s0))
        (v128.store offset=16 (local.get $dst) (local.get $s1))
        (local.set $acc0 (f64x2.add (local.get $acc0) (local.get $s0)))
        (local.set $acc1 (f64x2.add (local.get $acc1) (local.get $s1)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (local.set $src (i32.add (local.get $src) (local.get $src_step)))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (br $quads)))
    ;; The last count mod 4 elements one by one, with the same scalar operations.
    (block $rest_done
      (loop $rest
        (br_if $rest_done (i32.ge_u (local.get $dst) (local.get $end)))
        (local.set $t (f64.load (local.get $src)))
        (local.set $t (f64.add (local.get $t) (f64.mul (local.get $na) (f64.promote_f32 (f32.load offset=0 (local.get $w))))))
        (local.set $t (f64.add (local.get $t) (f64.mul (local.get $nb) (f64.promote_f32 (f32.load offset=65536 (local.get $w))))))
        (f64.store (local.get $dst) (local.get $t))
        (local.set $tail (f64.add (local.get $tail) (local.get $t)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
        (local.set $src (i32.add (local.get $src) (i32.shr_u (local.get $src_step) (i32.const 2))))
        (local.set $w (i32.add (local.get $w) (i32.const 4)))
        (br $rest)))
    (local.set $acc0 (f64x2.add (local.get $acc0) (local.get $acc1)))
    (f64.add (local.get $tail) (f64.add (f64x2.extract_lane 0 (local.get $acc0)) (f64x2.extract_lane 1 (local.get $acc0)))))

  ;; dst[i] = (((src[i] + na·a[i]) + nb·b[i]) + nc·c[i]) + nd·d[i]: four updates per pass, the partial sum kept in a
  ;; register between them.
  (func (export "fold4")
      (param $dst i32) (param $src i32) (param $src_step i32) (param $w i32) (param $na f64) (param $nb f64) (param $nc f64) (param $nd f64) (param $count i32) (result f64)
    (local $quads_end i32) (local $end i32) (local $s0 v128) (local $s1 v128) (local $acc0 v128) (local $acc1 v128)
    (local $t f64) (local $tail f64) (local $fa v128) (local $fb v128) (local $fc v128) (local $fd v128)
    (local.set $fa (f64x2.splat (local.get $na)))
    (local.set $fb (f64x2.splat (local.get $nb)))
    (local.set $fc (f64x2.splat (local.get $nc)))
    (local.set $fd (f64x2.splat (local.get $nd)))
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $count) (i32.const 3))))
    (local.set $quads_end
      (i32.add (local.get $dst) (i32.shl (i32.and (local.get $count) (i32.const -4)) (i32.const 3))))
    ;; Four elements (two float64 pairs) per iteration.
    (block $quads_done
      (loop $quads
        (br_if $quads_done (i32.ge_u (local.get $dst) (local.get $quads_end)))
        (local.set $s0 (v128.load (local.get $src)))
        (local.set $s1 (v128.load offset=16 (local.get $src)))
        (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $fa) (f64x2.promote_low_f32x4 (v128.load64_zero offset=0 (local.get $w))))))
        (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $fa) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $w))))))
        (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $fb) (f64x2.promote_low_f32x4 (v128.load64_zero offset=65536 (local.get $w))))))
        (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $fb) (f64x2.promote_low_f32x4 (v128.load64_zero offset=65544 (local.get $w))))))
        (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $fc) (f64x2.promote_low_f32x4 (v128.load64_zero offset=131072 (local.get $w))))))
        (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $fc) (f64x2.promote_low_f32x4 (v128.load64_zero offset=131080 (local.get $w))))))
        (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $fd) (f64x2.promote_low_f32x4 (v128.load64_zero offset=196608 (local.get $w))))))
        (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $fd) (f64x2.promote_low_f32x4 (v128.load64_zero offset=196616 (local.get $w))))))
        (v128.store (local.get $dst) (local.get $s0))
        (v128.store offset=16 (local.get $dst) (local.get $s1))
        (local.set $acc0 (f64x2.add (local.get $acc0) (local.get $s0)))
        (local.set $acc1 (f64x2.add (local.get $acc1) (local.get $s1)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (local.set $src (i32.add (local.get $src) (local.get $src_step)))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (br $quads)))
    ;; The last count mod 4 elements one by one, with the same scalar operations.
    (block $rest_done
      (loop $rest
        (br_if $rest_done (i32.ge_u (local.get $dst) (local.get $end)))
        (local.set $t (f64.load (local.get $src)))
        (local.set $t (f64.add (local.get $t) (f64.mul (local.get $na) (f64.promote_f32 (f32.load offset=0 (local.get $w))))))
        (local.set $t (f64.add (local.get $t) (f64.mul (local.get $nb) (f64.promote_f32 (f32.load offset=65536 (local.get $w))))))
        (local.set $t (f64.add (local.get $t) (f64.mul (local.get $nc) (f64.promote_f32 (f32.load offset=131072 (local.get $w))))))
        (local.set $t (f64.add (local.get $t) (f64.mul (local.get $nd) (f64.promote_f32 (f32.load offset=196608 (local.get $w))))))
        (f64.store (local.get $dst) (local.get $t))
        (local.set $tail (f64.add (local.get $tail) (local.get $t)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
        (local.set $src (i32.add (local.get $src) (i32.shr_u (local.get $src_step) (i32.const 2))))
        (local.set $w (i32.add (local.get $w) (i32.const 4)))
        (br $rest)))
    (local.set $acc0 (f64x2.add (local.get $acc0) (local.get $acc1)))
    (f64.add (local.get $tail) (f64.add (f64x2.extract_lane 0 (local.get $acc0)) (f64x2.extract_lane 1 (local.get $acc0)))))
)
