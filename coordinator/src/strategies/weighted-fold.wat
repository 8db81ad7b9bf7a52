;; The SIMD kernel of the FedAvg-family fold (see weighted-fold-simd.ts). Compiled to weighted-fold-wasm.ts by
;; `npm run build:fold-wasm`; a test fails when that file is not what this source compiles to.
;;
;; Every element gets exactly the JS arithmetic of weighted-fold.ts: the float32 weight widened to float64
;; (f64x2.promote_low_f32x4 / f64.promote_f32, exact), multiplied by the factor (f64x2.mul, rounded once) and added to
;; the running sum (f64x2.add, rounded once), update after update in the order given. Only separately rounded IEEE
;; operations are used: no fused multiply-add exists in this instruction set (the relaxed-SIMD proposal's
;; f64x2.relaxed_madd is not enabled and not used), and wasm arithmetic never keeps extra precision.
;;
;; Pointers are byte offsets into the imported memory: sums are float64 (8-byte aligned), weights float32.
;; Each function returns the sum of the `count` values it wrote, which is finite exactly when all of them are.
(module
  (import "env" "memory" (memory 1))

  ;; dst[i] = src[i] + na·a[i] for i < count.
  (func (export "fold1")
      (param $dst i32) (param $src i32) (param $a i32) (param $na f64) (param $count i32) (result f64)
    (local $end i32) (local $s v128) (local $acc v128) (local $fa v128) (local $t f64)
    (local.set $fa (f64x2.splat (local.get $na)))
    (local.set $end (i32.add (local.get $dst) (i32.shl (i32.and (local.get $count) (i32.const -2)) (i32.const 3))))
    (block $pairs_done
      (loop $pairs
        (br_if $pairs_done (i32.ge_u (local.get $dst) (local.get $end)))
        (local.set $s (f64x2.add (v128.load (local.get $src))
          (f64x2.mul (local.get $fa) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $a))))))
        (v128.store (local.get $dst) (local.get $s))
        (local.set $acc (f64x2.add (local.get $acc) (local.get $s)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (br $pairs)))
    (if (i32.and (local.get $count) (i32.const 1))
      (then
        (local.set $t (f64.add (f64.load (local.get $src))
          (f64.mul (local.get $na) (f64.promote_f32 (f32.load (local.get $a))))))
        (f64.store (local.get $dst) (local.get $t))
        (local.set $acc (f64x2.add (local.get $acc) (f64x2.replace_lane 1 (f64x2.splat (local.get $t)) (f64.const 0))))))
    (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))

  ;; dst[i] = (((src[i] + na·a[i]) + nb·b[i]) + nc·c[i]) + nd·d[i] for i < count: four updates per pass, the partial
  ;; sum kept in a register between them.
  (func (export "fold4")
      (param $dst i32) (param $src i32) (param $a i32) (param $b i32) (param $c i32) (param $d i32)
      (param $na f64) (param $nb f64) (param $nc f64) (param $nd f64) (param $count i32) (result f64)
    (local $end i32) (local $s v128) (local $acc v128) (local $t f64)
    (local $fa v128) (local $fb v128) (local $fc v128) (local $fd v128)
    (local.set $fa (f64x2.splat (local.get $na)))
    (local.set $fb (f64x2.splat (local.get $nb)))
    (local.set $fc (f64x2.splat (local.get $nc)))
    (local.set $fd (f64x2.splat (local.get $nd)))
    (local.set $end (i32.add (local.get $dst) (i32.shl (i32.and (local.get $count) (i32.const -2)) (i32.const 3))))
    (block $pairs_done
      (loop $pairs
        (br_if $pairs_done (i32.ge_u (local.get $dst) (local.get $end)))
        (local.set $s (v128.load (local.get $src)))
        (local.set $s (f64x2.add (local.get $s)
          (f64x2.mul (local.get $fa) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $a))))))
        (local.set $s (f64x2.add (local.get $s)
          (f64x2.mul (local.get $fb) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $b))))))
        (local.set $s (f64x2.add (local.get $s)
          (f64x2.mul (local.get $fc) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $c))))))
        (local.set $s (f64x2.add (local.get $s)
          (f64x2.mul (local.get $fd) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $d))))))
        (v128.store (local.get $dst) (local.get $s))
        (local.set $acc (f64x2.add (local.get $acc) (local.get $s)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (local.set $c (i32.add (local.get $c) (i32.const 8)))
        (local.set $d (i32.add (local.get $d) (i32.const 8)))
        (br $pairs)))
    (if (i32.and (local.get $count) (i32.const 1))
      (then
        (local.set $t (f64.load (local.get $src)))
        (local.set $t (f64.add (local.get $t) (f64.mul (local.get $na) (f64.promote_f32 (f32.load (local.get $a))))))
        (local.set $t (f64.add (local.get $t) (f64.mul (local.get $nb) (f64.promote_f32 (f32.load (local.get $b))))))
        (local.set $t (f64.add (local.get $t) (f64.mul (local.get $nc) (f64.promote_f32 (f32.load (local.get $c))))))
        (local.set $t (f64.add (local.get $t) (f64.mul (local.get $nd) (f64.promote_f32 (f32.load (local.get $d))))))
        (f64.store (local.get $dst) (local.get $t))
        (local.set $acc (f64x2.add (local.get $acc) (f64x2.replace_lane 1 (f64x2.splat (local.get $t)) (f64.const 0))))))
    (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
)
