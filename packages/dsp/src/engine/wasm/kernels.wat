;; David's WebAssembly SIMD kernels: the per-sample loops every file pays for (PCM conversion, constant gain).
;; Each does exactly what the JavaScript loops it replaces do, bit for bit (see kernels.test.ts): conversions to
;; 16-bit give floor(x · 32768 + 0.5) as in f64 (computed in f32, where that is exact) and saturate, NaN becomes 0;
;; the gain multiplies in f64 and rounds to f32.
;; They work on 4 frames per step and stop at the last multiple of 4; the caller does the rest.
;; Built into kernels-binary.ts by `npm run build:wasm -w @david/dsp` (wabt); a test checks the two agree.
(module
  (memory (export "memory") 208)

  ;; Interleaved 16-bit stereo at $src -> planar f32 at $l and $r (x / 32768, exact).
  (func (export "s16x2_to_f32") (param $src i32) (param $l i32) (param $r i32) (param $frames i32)
    (local $end i32) (local $v v128) (local $k v128)
    (local.set $k (f32x4.splat (f32.const 0x1p-15)))
    (local.set $end (i32.add (local.get $src) (i32.shl (i32.and (local.get $frames) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        ;; L0 R0 L1 R1 L2 R2 L3 R3 -> L0 L1 L2 L3 R0 R1 R2 R3
        (local.set $v (i8x16.shuffle 0 1 4 5 8 9 12 13 2 3 6 7 10 11 14 15 (v128.load (local.get $src)) (v128.const i64x2 0 0)))
        (v128.store (local.get $l) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (local.get $v))) (local.get $k)))
        (v128.store (local.get $r) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_high_i16x8_s (local.get $v))) (local.get $k)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $l (i32.add (local.get $l) (i32.const 16)))
        (local.set $r (i32.add (local.get $r) (i32.const 16)))
        (br $next))))

  ;; f32 samples -> the 16-bit values floor(x * 32768 + 0.5) in f64 would give, as i32 (saturated to 32 bits, NaN -> 0),
  ;; in single precision: v = x * 32768 is exact (a power of two; only an overflow to ±inf, which saturates the same),
  ;; floor(v) is exact, and so is the decision v − floor(v) >= 0.5 (the difference is exact for |v| >= 1 and for
  ;; v in [−1, 0.5); where it rounds, for v in (−0.5, 0), it is far from 0.5 either way). Then floor(v) + 1 or + 0,
  ;; exact below 2^24, and saturating beyond as the f64 path does. When written it was run against the f64 kernel it
  ;; replaced on all 2^32 inputs (stereo and mono: no difference); test/wasm-kernels.test.ts checks the 16 floats
  ;; either side of every tie and integer against the f64 formula.
  (func $round_s16 (param $x v128) (result v128)
    (local $v v128) (local $f v128)
    (local.set $v (f32x4.mul (local.get $x) (f32x4.splat (f32.const 32768))))
    (local.set $f (f32x4.floor (local.get $v)))
    (i32x4.trunc_sat_f32x4_s (f32x4.add (local.get $f)
      (v128.and (f32x4.ge (f32x4.sub (local.get $v) (local.get $f)) (f32x4.splat (f32.const 0.5))) (f32x4.splat (f32.const 1))))))

  ;; Planar f32 at $l and $r -> interleaved 16-bit stereo at $dst (round half up, saturating, NaN -> 0).
  (func (export "f32_to_s16x2") (param $l i32) (param $r i32) (param $dst i32) (param $frames i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $l) (i32.shl (i32.and (local.get $frames) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $l) (local.get $end)))
        ;; narrow -> L0 L1 L2 L3 R0 R1 R2 R3 (saturated to 16 bits), then interleave
        (v128.store (local.get $dst)
          (i8x16.shuffle 0 1 8 9 2 3 10 11 4 5 12 13 6 7 14 15
            (i16x8.narrow_i32x4_s (call $round_s16 (v128.load (local.get $l))) (call $round_s16 (v128.load (local.get $r))))
            (v128.const i64x2 0 0)))
        (local.set $l (i32.add (local.get $l) (i32.const 16)))
        (local.set $r (i32.add (local.get $r) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br $next))))

  ;; Mono: 16-bit at $src -> f32 at $dst, $n samples.
  (func (export "s16_to_f32") (param $src i32) (param $dst i32) (param $n i32)
    (local $end i32) (local $v v128) (local $k v128)
    (local.set $k (f32x4.splat (f32.const 0x1p-15)))
    (local.set $end (i32.add (local.get $src) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 1))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (v128.store (local.get $dst) (f32x4.mul (f32x4.convert_i32x4_s (i32x4.extend_low_i16x8_s (v128.load64_zero (local.get $src)))) (local.get $k)))
        (local.set $src (i32.add (local.get $src) (i32.const 8)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br $next))))

  ;; Mono: f32 at $src -> 16-bit at $dst, $n samples (as f32_to_s16x2).
  (func (export "f32_to_s16") (param $src i32) (param $dst i32) (param $n i32)
    (local $end i32) (local $v v128)
    (local.set $end (i32.add (local.get $src) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $v (call $round_s16 (v128.load (local.get $src))))
        (v128.store64_lane 0 (local.get $dst) (i16x8.narrow_i32x4_s (local.get $v) (local.get $v)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
        (br $next))))

  ;; Interleaved f32 stereo at $src -> planar f32 at $l and $r (bits moved, not computed).
  (func (export "f32x2_split") (param $src i32) (param $l i32) (param $r i32) (param $frames i32)
    (local $end i32) (local $a v128) (local $b v128)
    (local.set $end (i32.add (local.get $src) (i32.shl (i32.and (local.get $frames) (i32.const -4)) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $a (v128.load (local.get $src)))
        (local.set $b (v128.load offset=16 (local.get $src)))
        (v128.store (local.get $l) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a) (local.get $b)))
        (v128.store (local.get $r) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b)))
        (local.set $src (i32.add (local.get $src) (i32.const 32)))
        (local.set $l (i32.add (local.get $l) (i32.const 16)))
        (local.set $r (i32.add (local.get $r) (i32.const 16)))
        (br $next))))

  ;; Planar f32 at $l and $r -> interleaved f32 stereo at $dst.
  (func (export "f32x2_join") (param $l i32) (param $r i32) (param $dst i32) (param $frames i32)
    (local $end i32) (local $a v128) (local $b v128)
    (local.set $end (i32.add (local.get $l) (i32.shl (i32.and (local.get $frames) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $l) (local.get $end)))
        (local.set $a (v128.load (local.get $l)))
        (local.set $b (v128.load (local.get $r)))
        (v128.store (local.get $dst) (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b)))
        (v128.store offset=16 (local.get $dst) (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b)))
        (local.set $l (i32.add (local.get $l) (i32.const 16)))
        (local.set $r (i32.add (local.get $r) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (br $next))))

  ;; f32 at $p, $n samples, multiplied in place by $g: in f64, rounded to f32 (as `x[i] *= g` in JavaScript).
  (func (export "scale") (param $p i32) (param $n i32) (param $g f64)
    (local $end i32) (local $k v128) (local $x v128)
    (local.set $k (f64x2.splat (local.get $g)))
    (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $x (v128.load (local.get $p)))
        (v128.store (local.get $p)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (f64x2.mul (f64x2.promote_low_f32x4 (local.get $x)) (local.get $k)))
            (f32x4.demote_f64x2_zero (f64x2.mul
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $x) (local.get $x)))
              (local.get $k)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $next))))

  ;; Per chunk of 32 f32 samples at $src, the largest |x| (NaN if the chunk holds one, as Math.max gives), stored
;; as f32 at $dst; $chunks whole chunks.
  (func (export "chunk_abs_max32") (param $src i32) (param $dst i32) (param $chunks i32)
    (local $end i32) (local $m v128)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $chunks) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (local.set $m
          (f32x4.max
            (f32x4.max
              (f32x4.max (f32x4.abs (v128.load (local.get $src))) (f32x4.abs (v128.load offset=16 (local.get $src))))
              (f32x4.max (f32x4.abs (v128.load offset=32 (local.get $src))) (f32x4.abs (v128.load offset=48 (local.get $src)))))
            (f32x4.max
              (f32x4.max (f32x4.abs (v128.load offset=64 (local.get $src))) (f32x4.abs (v128.load offset=80 (local.get $src))))
              (f32x4.max (f32x4.abs (v128.load offset=96 (local.get $src))) (f32x4.abs (v128.load offset=112 (local.get $src)))))))
        (local.set $m (f32x4.max (local.get $m) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $m) (local.get $m))))
        (local.set $m (f32x4.max (local.get $m) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $m) (local.get $m))))
        (f32.store (local.get $dst) (f32x4.extract_lane 0 (local.get $m)))
        (local.set $src (i32.add (local.get $src) (i32.const 128)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (br $next))))

  ;; Over $n f32 samples at $src (a multiple of 4 is done): the sums of samples and of squares with even and odd
;; samples in separate accumulators, in f64, in sample order (what two JavaScript accumulators give), and how many
;; have |x| >= $clip. The sums start from s_even, s_odd, q_even, q_odd (f64) at $out and end there; the count
;; (i64) is written after them.
  (func (export "channel_stats") (param $src i32) (param $n i32) (param $clip f64) (param $out i32)
    (local $end i32) (local $s v128) (local $q v128) (local $c v128) (local $lim v128) (local $x v128) (local $a v128) (local $b v128)
    (local.set $lim (f64x2.splat (local.get $clip)))
    (local.set $s (v128.load (local.get $out)))
    (local.set $q (v128.load offset=16 (local.get $out)))
    (local.set $end (i32.add (local.get $src) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $x (v128.load (local.get $src)))
        (local.set $a (f64x2.promote_low_f32x4 (local.get $x)))
        (local.set $b (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $x) (local.get $x))))
        (local.set $s (f64x2.add (f64x2.add (local.get $s) (local.get $a)) (local.get $b)))
        (local.set $q (f64x2.add (f64x2.add (local.get $q) (f64x2.mul (local.get $a) (local.get $a))) (f64x2.mul (local.get $b) (local.get $b))))
        (local.set $c (i64x2.sub (i64x2.sub (local.get $c) (f64x2.ge (f64x2.abs (local.get $a)) (local.get $lim))) (f64x2.ge (f64x2.abs (local.get $b)) (local.get $lim))))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (br $next)))
    (v128.store (local.get $out) (local.get $s))
    (v128.store offset=16 (local.get $out) (local.get $q))
    (i64.store offset=32 (local.get $out) (i64.add (i64x2.extract_lane 0 (local.get $c)) (i64x2.extract_lane 1 (local.get $c)))))

  ;; True peak (engine/true-peak.ts, peakBetween over a range): Σ w[j]·x[j] over 32 taps with even and odd taps in
;; separate f64 accumulators, as its JavaScript does.
  (func $dot32 (param $w i32) (param $x i32) (result f64)
    (local $acc v128) (local $end i32)
    (local.set $end (i32.add (local.get $w) (i32.const 256)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $w) (local.get $end)))
        (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (v128.load (local.get $w)) (v128.load (local.get $x)))))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $next)))
    (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))

  ;; For each i in [0, $n), peakBetween(x, i): the samples x[i + 15] and x[i + 16] (32 taps, centre 15) and the
  ;; points between them from the phases at $tab ($coarse phases of 32 f64, then $refine more, used only where the
  ;; coarse maximum times $margin exceeds the running maximum). Starts from $tp and returns the running maximum
  ;; after the range, as the JavaScript loop over peakBetween does.
  (func (export "true_peak_range") (param $x i32) (param $n i32) (param $tp f64) (param $tab i32) (param $coarse i32) (param $refine i32) (param $margin f64) (result f64)
    (local $end i32) (local $m f64) (local $a f64) (local $p i32) (local $pend i32)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $m (f64.max (f64.abs (f64.load offset=120 (local.get $x))) (f64.abs (f64.load offset=128 (local.get $x)))))
        (local.set $p (local.get $tab))
        (local.set $pend (i32.add (local.get $tab) (i32.shl (local.get $coarse) (i32.const 8))))
        (block $c_done
          (loop $c_next
            (br_if $c_done (i32.ge_u (local.get $p) (local.get $pend)))
            (local.set $a (f64.abs (call $dot32 (local.get $p) (local.get $x))))
            (if (f64.gt (local.get $a) (local.get $m)) (then (local.set $m (local.get $a))))
            (local.set $p (i32.add (local.get $p) (i32.const 256)))
            (br $c_next)))
        (if (i32.eqz (f64.le (f64.mul (local.get $m) (local.get $margin)) (local.get $tp)))
          (then
            (local.set $pend (i32.add (local.get $pend) (i32.shl (local.get $refine) (i32.const 8))))
            (block $r_done
              (loop $r_next
                (br_if $r_done (i32.ge_u (local.get $p) (local.get $pend)))
                (local.set $a (f64.abs (call $dot32 (local.get $p) (local.get $x))))
                (if (f64.gt (local.get $a) (local.get $m)) (then (local.set $m (local.get $a))))
                (local.set $p (i32.add (local.get $p) (i32.const 256)))
                (br $r_next)))))
        (if (f64.gt (local.get $m) (local.get $tp)) (then (local.set $tp (local.get $m))))
        (local.set $x (i32.add (local.get $x) (i32.const 8)))
        (br $next)))
    (local.get $tp))

  ;; WSOLA's overlap-add of a frame read between samples (engine/wsola.ts), in f32 as its JavaScript does: for i in
  ;; [0, $n) (a multiple of 4 is done), u = h0·x[i] + … + h7·x[i+7] and v = h8·x[i+8] + … + h15·x[i+15], each summed
  ;; in that order, then acc[i] += (u + v)·w[i]; four consecutive outputs are a vector's lanes.
  ;; $x: f32 (n + 15 samples), $w: f32 (n), $acc: f32 (n, read and written), $h: the 16 taps (f32).
  (func (export "frac_ola") (param $x i32) (param $w i32) (param $acc i32) (param $h i32) (param $n i32)
    (local $end i32) (local $u v128) (local $v v128)
    (local $h0 v128) (local $h1 v128) (local $h2 v128) (local $h3 v128) (local $h4 v128) (local $h5 v128) (local $h6 v128) (local $h7 v128) (local $h8 v128) (local $h9 v128) (local $h10 v128) (local $h11 v128) (local $h12 v128) (local $h13 v128) (local $h14 v128) (local $h15 v128)
    (local.set $h0 (v128.load32_splat offset=0 (local.get $h)))
    (local.set $h1 (v128.load32_splat offset=4 (local.get $h)))
    (local.set $h2 (v128.load32_splat offset=8 (local.get $h)))
    (local.set $h3 (v128.load32_splat offset=12 (local.get $h)))
    (local.set $h4 (v128.load32_splat offset=16 (local.get $h)))
    (local.set $h5 (v128.load32_splat offset=20 (local.get $h)))
    (local.set $h6 (v128.load32_splat offset=24 (local.get $h)))
    (local.set $h7 (v128.load32_splat offset=28 (local.get $h)))
    (local.set $h8 (v128.load32_splat offset=32 (local.get $h)))
    (local.set $h9 (v128.load32_splat offset=36 (local.get $h)))
    (local.set $h10 (v128.load32_splat offset=40 (local.get $h)))
    (local.set $h11 (v128.load32_splat offset=44 (local.get $h)))
    (local.set $h12 (v128.load32_splat offset=48 (local.get $h)))
    (local.set $h13 (v128.load32_splat offset=52 (local.get $h)))
    (local.set $h14 (v128.load32_splat offset=56 (local.get $h)))
    (local.set $h15 (v128.load32_splat offset=60 (local.get $h)))
    (local.set $end (i32.add (local.get $w) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $w) (local.get $end)))
        (local.set $u (f32x4.mul (local.get $h0) (v128.load offset=0 (local.get $x))))
        (local.set $u (f32x4.add (local.get $u) (f32x4.mul (local.get $h1) (v128.load offset=4 (local.get $x)))))
        (local.set $u (f32x4.add (local.get $u) (f32x4.mul (local.get $h2) (v128.load offset=8 (local.get $x)))))
        (local.set $u (f32x4.add (local.get $u) (f32x4.mul (local.get $h3) (v128.load offset=12 (local.get $x)))))
        (local.set $u (f32x4.add (local.get $u) (f32x4.mul (local.get $h4) (v128.load offset=16 (local.get $x)))))
        (local.set $u (f32x4.add (local.get $u) (f32x4.mul (local.get $h5) (v128.load offset=20 (local.get $x)))))
        (local.set $u (f32x4.add (local.get $u) (f32x4.mul (local.get $h6) (v128.load offset=24 (local.get $x)))))
        (local.set $u (f32x4.add (local.get $u) (f32x4.mul (local.get $h7) (v128.load offset=28 (local.get $x)))))
        (local.set $v (f32x4.mul (local.get $h8) (v128.load offset=32 (local.get $x))))
        (local.set $v (f32x4.add (local.get $v) (f32x4.mul (local.get $h9) (v128.load offset=36 (local.get $x)))))
        (local.set $v (f32x4.add (local.get $v) (f32x4.mul (local.get $h10) (v128.load offset=40 (local.get $x)))))
        (local.set $v (f32x4.add (local.get $v) (f32x4.mul (local.get $h11) (v128.load offset=44 (local.get $x)))))
        (local.set $v (f32x4.add (local.get $v) (f32x4.mul (local.get $h12) (v128.load offset=48 (local.get $x)))))
        (local.set $v (f32x4.add (local.get $v) (f32x4.mul (local.get $h13) (v128.load offset=52 (local.get $x)))))
        (local.set $v (f32x4.add (local.get $v) (f32x4.mul (local.get $h14) (v128.load offset=56 (local.get $x)))))
        (local.set $v (f32x4.add (local.get $v) (f32x4.mul (local.get $h15) (v128.load offset=60 (local.get $x)))))
        (v128.store (local.get $acc) (f32x4.add (v128.load (local.get $acc))
          (f32x4.mul (f32x4.add (local.get $u) (local.get $v)) (v128.load (local.get $w)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (local.set $acc (i32.add (local.get $acc) (i32.const 16)))
        (br $next))))

  ;; WSOLA's coarse search (engine/wsola.ts): for each offset j in [0, $count), Σ_{i<$tl} t[i]·c[i + j] summed in i
  ;; order (one sum per offset, as its JavaScript keeps them), f64, into out[j]. Offsets j and j+1 are the lanes of
  ;; one vector, four vectors at a time; the last 1–7 offsets run in the same vectors, their extra lanes unused.
  ;; $c must hold $tl + $count + 7 values (the caller pads with zeros).
  (func $xcorr (param $t i32) (param $tl i32) (param $c i32) (param $count i32) (param $out i32)
    (local $j i32) (local $i i32) (local $tv v128) (local $p i32) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $j) (local.get $count)))
        (local.set $s0 (v128.const i64x2 0 0))
        (local.set $s1 (v128.const i64x2 0 0))
        (local.set $s2 (v128.const i64x2 0 0))
        (local.set $s3 (v128.const i64x2 0 0))
        (local.set $p (i32.add (local.get $c) (i32.shl (local.get $j) (i32.const 3))))
        (local.set $i (i32.const 0))
        (block $i_done
          (loop $i_next
            (br_if $i_done (i32.ge_s (local.get $i) (local.get $tl)))
            (local.set $tv (v128.load64_splat (i32.add (local.get $t) (i32.shl (local.get $i) (i32.const 3)))))
            (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $tv) (v128.load (local.get $p)))))
            (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $tv) (v128.load offset=16 (local.get $p)))))
            (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $tv) (v128.load offset=32 (local.get $p)))))
            (local.set $s3 (f64x2.add (local.get $s3) (f64x2.mul (local.get $tv) (v128.load offset=48 (local.get $p)))))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $i_next)))
        (local.set $p (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 3))))
        (v128.store (local.get $p) (local.get $s0))
        (v128.store offset=16 (local.get $p) (local.get $s1))
        (v128.store offset=32 (local.get $p) (local.get $s2))
        (v128.store offset=48 (local.get $p) (local.get $s3))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $next))))

  ;; WSOLA's sub-sample step (engine/wsola.ts): for the three positions q = $b - 1, $b, $b + 1, Σ_{i<$n} a[i]·m[q + i]
  ;; and Σ m[q + i]², each summed in i order in f64 (its JavaScript's sums), into out: s(b−1), s(b), s(b+1), then the
  ;; three energies. $a and $m are f32; m must hold $b − 1 … $b + $n + 2.
  (func $ncc3 (param $a i32) (param $m i32) (param $b i32) (param $n i32) (param $out i32)
    (local $end i32) (local $p i32) (local $av v128) (local $v01 v128) (local $v23 v128)
    (local $s01 v128) (local $e01 v128) (local $s23 v128) (local $e23 v128)
    (local.set $p (i32.add (local.get $m) (i32.shl (i32.sub (local.get $b) (i32.const 1)) (i32.const 2))))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $av (f64x2.splat (f64.promote_f32 (f32.load (local.get $a)))))
        (local.set $v01 (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p))))
        (local.set $v23 (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $p))))
        (local.set $s01 (f64x2.add (local.get $s01) (f64x2.mul (local.get $av) (local.get $v01))))
        (local.set $e01 (f64x2.add (local.get $e01) (f64x2.mul (local.get $v01) (local.get $v01))))
        (local.set $s23 (f64x2.add (local.get $s23) (f64x2.mul (local.get $av) (local.get $v23))))
        (local.set $e23 (f64x2.add (local.get $e23) (f64x2.mul (local.get $v23) (local.get $v23))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $next)))
    (v128.store (local.get $out) (local.get $s01))
    (f64.store offset=16 (local.get $out) (f64x2.extract_lane 0 (local.get $s23)))
    (v128.store offset=24 (local.get $out) (local.get $e01))
    (f64.store offset=40 (local.get $out) (f64x2.extract_lane 0 (local.get $e23))))

  ;; The resampler at an arbitrary ratio (engine/resampler.ts, its `fine` path), for outputs n = $m … $m + $count − 1
  ;; of one or two channels, in f32 as its JavaScript does: t = n·$step, the input frame floor(t), phase
  ;; x = (t − floor(t))·$phases, r = trunc(x), f = f32(x − r); weights w[j] = lo[j] + (hi[j] − lo[j])·f from rows r and
  ;; r + 1 of the table (rows of $taps weights padded with zeros to a multiple of 4); four partial sums of x[b + j]·w[j]
  ;; over j ≡ 0, 1, 2, 3 (mod 4) (the lanes), samples past the last tap counted as 0; the output (s0 + s1) + (s2 + s3).
  ;; b = floor(t) − $origin. $x1 and $out1 are used when $two is 1.
  (func (export "resample_fine") (param $x0 i32) (param $x1 i32) (param $two i32) (param $tab i32) (param $taps i32)
      (param $phases f64) (param $step f64) (param $m f64) (param $count i32) (param $origin f64) (param $out0 i32) (param $out1 i32)
    (local $k i32) (local $t f64) (local $fl f64) (local $x f64) (local $r i32) (local $f v128) (local $lo i32) (local $row i32)
    (local $b0 i32) (local $b1 i32) (local $g i32) (local $full i32) (local $mask v128) (local $w v128) (local $wl v128)
    (local $a0 v128) (local $a1 v128)
    (local.set $full (i32.shr_u (local.get $taps) (i32.const 2))) ;; whole groups of 4 taps
    (local.set $row (i32.shl (i32.and (i32.add (local.get $taps) (i32.const 3)) (i32.const -4)) (i32.const 2))) ;; bytes per row
    ;; The last, partial group: lanes below taps mod 4 kept.
    (local.set $mask (i32x4.lt_s (v128.const i32x4 0 1 2 3) (i32x4.splat (i32.and (local.get $taps) (i32.const 3)))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $k) (local.get $count)))
        (local.set $t (f64.mul (f64.add (local.get $m) (f64.convert_i32_s (local.get $k))) (local.get $step)))
        (local.set $fl (f64.floor (local.get $t)))
        (local.set $x (f64.mul (f64.sub (local.get $t) (local.get $fl)) (local.get $phases)))
        (local.set $r (i32.trunc_f64_s (local.get $x)))
        (local.set $f (f32x4.splat (f32.demote_f64 (f64.sub (local.get $x) (f64.convert_i32_s (local.get $r))))))
        (local.set $lo (i32.add (local.get $tab) (i32.mul (local.get $r) (local.get $row))))
        (local.set $b0 (i32.shl (i32.trunc_f64_s (f64.sub (local.get $fl) (local.get $origin))) (i32.const 2)))
        (local.set $b1 (i32.add (local.get $x1) (local.get $b0)))
        (local.set $b0 (i32.add (local.get $x0) (local.get $b0)))
        (local.set $a0 (v128.const i64x2 0 0))
        (local.set $a1 (v128.const i64x2 0 0))
        (local.set $g (i32.const 0))
        (block $g_done
          (loop $g_next
            (br_if $g_done (i32.ge_s (local.get $g) (local.get $full)))
            (local.set $wl (v128.load (local.get $lo)))
            (local.set $w (f32x4.add (local.get $wl) (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $lo) (local.get $row))) (local.get $wl)) (local.get $f))))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (local.get $b0)) (local.get $w))))
            (if (local.get $two) (then
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load (local.get $b1)) (local.get $w))))))
            (local.set $lo (i32.add (local.get $lo) (i32.const 16)))
            (local.set $b0 (i32.add (local.get $b0) (i32.const 16)))
            (local.set $b1 (i32.add (local.get $b1) (i32.const 16)))
            (local.set $g (i32.add (local.get $g) (i32.const 1)))
            (br $g_next)))
        (if (i32.and (local.get $taps) (i32.const 3)) (then
          (local.set $wl (v128.load (local.get $lo)))
          (local.set $w (f32x4.add (local.get $wl) (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $lo) (local.get $row))) (local.get $wl)) (local.get $f))))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.and (v128.load (local.get $b0)) (local.get $mask)) (local.get $w))))
          (if (local.get $two) (then
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.and (v128.load (local.get $b1)) (local.get $mask)) (local.get $w))))))))
        ;; (s0 + s1) + (s2 + s3)
        (local.set $a0 (f32x4.add (local.get $a0) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $a0) (local.get $a0))))
        (f32.store (i32.add (local.get $out0) (i32.shl (local.get $k) (i32.const 2)))
          (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 2 (local.get $a0))))
        (if (local.get $two) (then
          (local.set $a1 (f32x4.add (local.get $a1) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $a1) (local.get $a1))))
          (f32.store (i32.add (local.get $out1) (i32.shl (local.get $k) (i32.const 2)))
            (f32.add (f32x4.extract_lane 0 (local.get $a1)) (f32x4.extract_lane 2 (local.get $a1))))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next))))

  ;; WSOLA's score (engine/wsola.ts): Σ m[a + i]·m[b + i] over i = 0, stride, 2·stride, … < $H, alternate terms in two
  ;; f64 sums (s0 takes i = 0, 2·stride, …; s1 the others), s0 + s1. $m is f32; a and b are sample indices.
  (func $score (param $m i32) (param $a i32) (param $b i32) (param $stride i32) (param $H i32) (result f64)
    (local $i i32) (local $s0 f64) (local $s1 f64) (local $pa i32) (local $pb i32) (local $st i32)
    (local.set $st (i32.shl (local.get $stride) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (i32.add (local.get $i) (local.get $stride)) (local.get $H)))
        (local.set $pa (i32.add (local.get $m) (i32.shl (i32.add (local.get $a) (local.get $i)) (i32.const 2))))
        (local.set $pb (i32.add (local.get $m) (i32.shl (i32.add (local.get $b) (local.get $i)) (i32.const 2))))
        (local.set $s0 (f64.add (local.get $s0) (f64.mul (f64.promote_f32 (f32.load (local.get $pa))) (f64.promote_f32 (f32.load (local.get $pb))))))
        (local.set $s1 (f64.add (local.get $s1) (f64.mul
          (f64.promote_f32 (f32.load (i32.add (local.get $pa) (local.get $st))))
          (f64.promote_f32 (f32.load (i32.add (local.get $pb) (local.get $st)))))))
        (local.set $i (i32.add (local.get $i) (i32.shl (local.get $stride) (i32.const 1))))
        (br $next)))
    (if (i32.lt_s (local.get $i) (local.get $H)) (then
      (local.set $s0 (f64.add (local.get $s0) (f64.mul
        (f64.promote_f32 (f32.load (i32.add (local.get $m) (i32.shl (i32.add (local.get $a) (local.get $i)) (i32.const 2)))))
        (f64.promote_f32 (f32.load (i32.add (local.get $m) (i32.shl (i32.add (local.get $b) (local.get $i)) (i32.const 2))))))))))
    (f64.add (local.get $s0) (local.get $s1)))

  ;; Box sums of 8 f32 samples from index $from, $count of them, each summed in order in f64, into $dst (f64).
  (func $decimate8 (param $m i32) (param $from i32) (param $count i32) (param $dst i32)
    (local $i i32) (local $p i32) (local $s f64) (local $j i32)
    (local.set $p (i32.add (local.get $m) (i32.shl (local.get $from) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $count)))
        (local.set $s (f64.const 0))
        (local.set $j (i32.const 0))
        (block $j_done
          (loop $j_next
            (br_if $j_done (i32.ge_s (local.get $j) (i32.const 8)))
            (local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.load (local.get $p)))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $j_next)))
        (f64.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 3))) (local.get $s))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; WSOLA's whole search for one frame (engine/wsola.ts, Wsola.search), on the mono mix at $m (f32; positions are
  ;; indices into it): the template at $t0, candidates from $lo to $hi, frames of $H. The coarse pass on 8× box sums
  ;; (first best offset), the refinement by score at stride 4 over every other position within 8 of it, then at
  ;; stride 2 around that, and the three normalised-correlation sums around the winner. Writes the winner (f64) at
  ;; $out and the six sums of ncc3 after it. $scratch holds the box sums and the coarse sums (f64).
  (func (export "wsola_search") (param $m i32) (param $t0 i32) (param $lo i32) (param $hi i32) (param $H i32) (param $scratch i32) (param $out i32)
    (local $tl i32) (local $cl i32) (local $last i32) (local $dc i32) (local $sums i32) (local $j i32) (local $best f64) (local $bestJ i32)
    (local $v f64) (local $centre i32) (local $from i32) (local $to i32) (local $p i32) (local $bestPos i32) (local $mid i32) (local $end i32)
    (local.set $tl (i32.shr_s (local.get $H) (i32.const 3)))
    (local.set $cl (i32.shr_s (i32.add (i32.sub (local.get $hi) (local.get $lo)) (local.get $H)) (i32.const 3)))
    (local.set $last (i32.sub (local.get $cl) (local.get $tl)))
    (local.set $dc (i32.add (local.get $scratch) (i32.shl (local.get $tl) (i32.const 3))))
    (local.set $sums (i32.add (local.get $dc) (i32.shl (i32.add (local.get $cl) (i32.const 8)) (i32.const 3))))
    (call $decimate8 (local.get $m) (local.get $t0) (local.get $tl) (local.get $scratch))
    (call $decimate8 (local.get $m) (local.get $lo) (local.get $cl) (local.get $dc))
    ;; zeros after the box sums: the coarse kernel's unused lanes read them
    (v128.store (i32.add (local.get $dc) (i32.shl (local.get $cl) (i32.const 3))) (v128.const i64x2 0 0))
    (v128.store offset=16 (i32.add (local.get $dc) (i32.shl (local.get $cl) (i32.const 3))) (v128.const i64x2 0 0))
    (v128.store offset=32 (i32.add (local.get $dc) (i32.shl (local.get $cl) (i32.const 3))) (v128.const i64x2 0 0))
    (v128.store offset=48 (i32.add (local.get $dc) (i32.shl (local.get $cl) (i32.const 3))) (v128.const i64x2 0 0))
    (local.set $best (f64.const -inf))
    (if (i32.ge_s (local.get $last) (i32.const 0)) (then
      (call $xcorr (local.get $scratch) (local.get $tl) (local.get $dc) (i32.add (local.get $last) (i32.const 1)) (local.get $sums))
      (block $c_done
        (loop $c_next
          (br_if $c_done (i32.gt_s (local.get $j) (local.get $last)))
          (local.set $v (f64.load (i32.add (local.get $sums) (i32.shl (local.get $j) (i32.const 3)))))
          (if (f64.gt (local.get $v) (local.get $best)) (then (local.set $best (local.get $v)) (local.set $bestJ (local.get $j))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $c_next)))))
    (local.set $centre (i32.add (local.get $lo) (i32.shl (local.get $bestJ) (i32.const 3))))
    (local.set $from (select (local.get $lo) (i32.sub (local.get $centre) (i32.const 8)) (i32.gt_s (local.get $lo) (i32.sub (local.get $centre) (i32.const 8)))))
    (local.set $to (select (local.get $hi) (i32.add (local.get $centre) (i32.const 8)) (i32.lt_s (local.get $hi) (i32.add (local.get $centre) (i32.const 8)))))
    (local.set $bestPos (local.get $centre))
    (local.set $best (f64.const -inf))
    (local.set $p (local.get $from))
    (block $r_done
      (loop $r_next
        (br_if $r_done (i32.gt_s (local.get $p) (local.get $to)))
        (local.set $v (call $score (local.get $m) (local.get $t0) (local.get $p) (i32.const 4) (local.get $H)))
        (if (f64.gt (local.get $v) (local.get $best)) (then (local.set $best (local.get $v)) (local.set $bestPos (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (br $r_next)))
    (local.set $mid (local.get $bestPos))
    (local.set $best (f64.const -inf))
    (local.set $p (select (local.get $from) (i32.sub (local.get $mid) (i32.const 1)) (i32.gt_s (local.get $from) (i32.sub (local.get $mid) (i32.const 1)))))
    (local.set $end (select (local.get $to) (i32.add (local.get $mid) (i32.const 1)) (i32.lt_s (local.get $to) (i32.add (local.get $mid) (i32.const 1)))))
    (block $s_done
      (loop $s_next
        (br_if $s_done (i32.gt_s (local.get $p) (local.get $end)))
        (local.set $v (call $score (local.get $m) (local.get $t0) (local.get $p) (i32.const 2) (local.get $H)))
        (if (f64.gt (local.get $v) (local.get $best)) (then (local.set $best (local.get $v)) (local.set $bestPos (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $s_next)))
    (f64.store (local.get $out) (f64.convert_i32_s (local.get $bestPos)))
    (call $ncc3
      (i32.add (local.get $m) (i32.shl (local.get $t0) (i32.const 2)))
      (local.get $m) (local.get $bestPos) (local.get $H) (i32.add (local.get $out) (i32.const 8))))

  ;; engine/util.ts's fastSin: the sine of a phase in cycles from a table of $size + 2 f64 at $tab, interpolated.
  (func $fast_sin (param $tab i32) (param $size f64) (param $p f64) (result f64)
    (local $q f64) (local $i i32) (local $a f64)
    (local.set $q (f64.mul (f64.sub (local.get $p) (f64.floor (local.get $p))) (local.get $size)))
    (local.set $i (i32.trunc_f64_s (local.get $q)))
    (local.set $a (f64.load (i32.add (local.get $tab) (i32.shl (local.get $i) (i32.const 3)))))
    (f64.add (local.get $a) (f64.mul
      (f64.sub (f64.load offset=8 (i32.add (local.get $tab) (i32.shl (local.get $i) (i32.const 3)))) (local.get $a))
      (f64.sub (local.get $q) (f64.convert_i32_s (local.get $i))))))

  ;; The modulated delay line of chorus and flanger (effects/time/modulated.ts), one channel, $n samples at $x in
  ;; place, every step its JavaScript's arithmetic: per grid cell of 16 frames each voice's LFO at the cell's two
  ;; ends (fastSin, f64) made into the excursion at the cell's start and its step per frame (f32); per frame, in f32,
  ;; each voice's q = frac + excursion (held at ≥ 1 − whole), read at whole + q frames back, linearly from the
  ;; mirrored line (2·$size f32 at $line), summed in voice order; the line takes x (+ feedback × mean);
  ;; out = x·dry + sum·wet. The state is at $st: the phase at the cell's start (f64), then pos and the frame in the
  ;; cell (i32); updated there. $par: depth, cell step, channel offset (f64), frac, dry, wet, feedback (f32), whole
  ;; (i32), then from offset 48 the voices' offsets (f64); $l: scratch (per voice excursion and step, f32).
  (func (export "mod_delay") (param $x i32) (param $n i32) (param $line i32) (param $size i32) (param $voices i32)
      (param $par i32) (param $st i32) (param $sin i32) (param $sinSize f64) (param $l i32)
    (local $end i32) (local $xend i32) (local $k i32) (local $v i32) (local $pos i32) (local $phase f64)
    (local $depth f64) (local $cellStep f64) (local $choff f64) (local $frac f32) (local $dry f32) (local $wet f32)
    (local $fb f32) (local $whole i32) (local $qmin f32) (local $q5 f32) (local $vf f32) (local $top i32)
    (local $off f64) (local $a f64) (local $xv f32) (local $sum f32) (local $q f32) (local $c f32) (local $j i32)
    (local $u f32) (local $val f32) (local $w f32) (local $kf f32) (local $pl i32)
    (local $kv v128) (local $q4 v128) (local $c4 v128) (local $u0 v128) (local $val4 v128) (local $sum4 v128)
    (local $x4 v128) (local $w4 v128) (local $frac4 v128) (local $q54 v128) (local $dry4 v128) (local $wet4 v128) (local $fbv4 v128)
    (local.set $depth (f64.load (local.get $par)))
    (local.set $cellStep (f64.load offset=8 (local.get $par)))
    (local.set $choff (f64.load offset=16 (local.get $par)))
    (local.set $frac (f32.load offset=24 (local.get $par)))
    (local.set $dry (f32.load offset=28 (local.get $par)))
    (local.set $wet (f32.load offset=32 (local.get $par)))
    (local.set $fb (f32.load offset=36 (local.get $par)))
    (local.set $whole (i32.load offset=40 (local.get $par)))
    (local.set $qmin (f32.convert_i32_s (i32.sub (i32.const 1) (local.get $whole))))
    (local.set $q5 (f32.convert_i32_s (i32.sub (i32.const 5) (local.get $whole))))
    (local.set $vf (f32.convert_i32_s (local.get $voices)))
    (local.set $frac4 (f32x4.splat (local.get $frac)))
    (local.set $q54 (f32x4.splat (local.get $q5)))
    (local.set $dry4 (f32x4.splat (local.get $dry)))
    (local.set $wet4 (f32x4.splat (local.get $wet)))
    (local.set $fbv4 (f32x4.splat (local.get $fb)))
    (local.set $phase (f64.load (local.get $st)))
    (local.set $pos (i32.load offset=8 (local.get $st)))
    (local.set $k (i32.load offset=12 (local.get $st)))
    (local.set $xend (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $cells
        (br_if $done (i32.ge_u (local.get $x) (local.get $xend)))
        ;; one grid cell, or the part of it left in this block
        (local.set $end (i32.add (local.get $x) (i32.shl (i32.sub (i32.const 16) (local.get $k)) (i32.const 2))))
        (if (i32.gt_u (local.get $end) (local.get $xend)) (then (local.set $end (local.get $xend))))
        (local.set $v (i32.const 0))
        (block $v_done
          (loop $v_next
            (br_if $v_done (i32.ge_s (local.get $v) (local.get $voices)))
            (local.set $off (f64.add (f64.add (local.get $phase) (f64.load offset=48 (i32.add (local.get $par) (i32.shl (local.get $v) (i32.const 3))))) (local.get $choff)))
            (local.set $a (call $fast_sin (local.get $sin) (local.get $sinSize) (local.get $off)))
            (f32.store (i32.add (local.get $l) (i32.shl (local.get $v) (i32.const 3))) (f32.demote_f64 (f64.mul (local.get $depth) (local.get $a))))
            (f32.store offset=4 (i32.add (local.get $l) (i32.shl (local.get $v) (i32.const 3)))
              (f32.demote_f64 (f64.div (f64.mul (local.get $depth)
                (f64.sub (call $fast_sin (local.get $sin) (local.get $sinSize) (f64.add (local.get $off) (local.get $cellStep))) (local.get $a))) (f64.const 16))))
            (local.set $v (i32.add (local.get $v) (i32.const 1)))
            (br $v_next)))
        ;; Four frames at a time (the lanes of f32x4 vectors, the same arithmetic per lane) while the group is
        ;; aligned in its cell, inside the block and the line, every delay is at least 5 frames (no read can see a
        ;; write of the group; the hold at one frame cannot apply) and each voice reads four consecutive samples
        ;; (the same ceil(q) in all four lanes: q moves by far less than a frame per frame, so it almost always
        ;; does); otherwise frame by frame below.
        (block $cell_done
         (loop $retry
        (block $g_done
          (loop $g_next
            (br_if $g_done (i32.or (i32.and (local.get $k) (i32.const 3))
              (i32.or (i32.gt_u (i32.add (local.get $x) (i32.const 16)) (local.get $end))
                (i32.gt_s (i32.add (local.get $pos) (i32.const 4)) (local.get $size)))))
            (local.set $kv (f32x4.add (f32x4.splat (f32.convert_i32_s (local.get $k))) (v128.const f32x4 0 1 2 3)))
            (local.set $top (i32.sub (i32.add (local.get $pos) (local.get $size)) (local.get $whole)))
            (local.set $v (i32.const 0))
            (block $gv_done
              (loop $gv_next
                (br_if $gv_done (i32.ge_s (local.get $v) (local.get $voices)))
                (local.set $pl (i32.add (local.get $l) (i32.shl (local.get $v) (i32.const 3))))
                (local.set $q4 (f32x4.add (local.get $frac4)
                  (f32x4.add (v128.load32_splat (local.get $pl)) (f32x4.mul (v128.load32_splat offset=4 (local.get $pl)) (local.get $kv)))))
                (br_if $g_done (i32.eqz (i32x4.all_true (f32x4.ge (local.get $q4) (local.get $q54)))))
                (local.set $c4 (f32x4.ceil (local.get $q4)))
                (br_if $g_done (i32.eqz (i32x4.all_true (f32x4.eq (local.get $c4)
                  (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $c4) (local.get $c4))))))
                (local.set $pl (i32.add (local.get $line) (i32.shl
                  (i32.sub (local.get $top) (i32.trunc_f32_s (f32x4.extract_lane 0 (local.get $c4)))) (i32.const 2))))
                (local.set $u0 (v128.load (local.get $pl)))
                (local.set $val4 (f32x4.add (local.get $u0) (f32x4.mul (f32x4.sub (v128.load offset=4 (local.get $pl)) (local.get $u0))
                  (f32x4.sub (local.get $c4) (local.get $q4)))))
                (local.set $sum4 (if (result v128) (local.get $v)
                  (then (f32x4.add (local.get $sum4) (local.get $val4)))
                  (else (local.get $val4))))
                (local.set $v (i32.add (local.get $v) (i32.const 1)))
                (br $gv_next)))
            ;; the four frames' writes
            (local.set $x4 (v128.load (local.get $x)))
            (local.set $w4 (if (result v128) (f32.eq (local.get $fb) (f32.const 0))
              (then (local.get $x4))
              (else (f32x4.add (local.get $x4) (f32x4.mul (local.get $fbv4) (f32x4.div (local.get $sum4) (f32x4.splat (local.get $vf))))))))
            (local.set $pl (i32.add (local.get $line) (i32.shl (local.get $pos) (i32.const 2))))
            (v128.store (local.get $pl) (local.get $w4))
            (v128.store (i32.add (local.get $pl) (i32.shl (local.get $size) (i32.const 2))) (local.get $w4))
            (v128.store (local.get $x) (f32x4.add (f32x4.mul (local.get $x4) (local.get $dry4))
              (f32x4.mul (local.get $sum4) (local.get $wet4))))
            (local.set $pos (i32.add (local.get $pos) (i32.const 4)))
            (if (i32.eq (local.get $pos) (local.get $size)) (then (local.set $pos (i32.const 0))))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (br $g_next)))
        ;; frame by frame up to the next group of four in the cell, then the vectors again
        (br_if $cell_done (i32.ge_u (local.get $x) (local.get $end)))
        (block $f_done
          (loop $f_next
            (local.set $xv (f32.load (local.get $x)))
            (local.set $kf (f32.convert_i32_s (local.get $k)))
            (local.set $top (i32.sub (i32.add (local.get $pos) (local.get $size)) (local.get $whole)))
            (local.set $v (i32.const 0))
            (block $s_done
              (loop $s_next
                (br_if $s_done (i32.ge_s (local.get $v) (local.get $voices)))
                (local.set $pl (i32.add (local.get $l) (i32.shl (local.get $v) (i32.const 3))))
                (local.set $q (f32.add (local.get $frac)
                  (f32.add (f32.load (local.get $pl)) (f32.mul (f32.load offset=4 (local.get $pl)) (local.get $kf)))))
                (if (f32.lt (local.get $q) (local.get $qmin)) (then (local.set $q (local.get $qmin))))
                (local.set $c (f32.ceil (local.get $q)))
                (local.set $j (i32.add (local.get $line) (i32.shl (i32.sub (local.get $top) (i32.trunc_f32_s (local.get $c))) (i32.const 2))))
                (local.set $u (f32.load (local.get $j)))
                (local.set $val (f32.add (local.get $u) (f32.mul (f32.sub (f32.load offset=4 (local.get $j)) (local.get $u))
                  (f32.sub (local.get $c) (local.get $q)))))
                (local.set $sum (if (result f32) (local.get $v) (then (f32.add (local.get $sum) (local.get $val))) (else (local.get $val))))
                (local.set $v (i32.add (local.get $v) (i32.const 1)))
                (br $s_next)))
            (local.set $w (if (result f32) (f32.eq (local.get $fb) (f32.const 0))
              (then (local.get $xv))
              (else (f32.add (local.get $xv) (f32.mul (local.get $fb) (f32.div (local.get $sum) (local.get $vf)))))))
            (f32.store (i32.add (local.get $line) (i32.shl (local.get $pos) (i32.const 2))) (local.get $w))
            (f32.store (i32.add (local.get $line) (i32.shl (i32.add (local.get $pos) (local.get $size)) (i32.const 2))) (local.get $w))
            (f32.store (local.get $x) (f32.add (f32.mul (local.get $xv) (local.get $dry)) (f32.mul (local.get $sum) (local.get $wet))))
            (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
            (if (i32.eq (local.get $pos) (local.get $size)) (then (local.set $pos (i32.const 0))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (local.set $x (i32.add (local.get $x) (i32.const 4)))
            (br_if $f_next (i32.and (i32.lt_u (local.get $x) (local.get $end)) (i32.ne (i32.and (local.get $k) (i32.const 3)) (i32.const 0))))))
        (br $retry)))
        (if (i32.eq (local.get $k) (i32.const 16)) (then
          (local.set $k (i32.const 0))
          (local.set $phase (f64.add (local.get $phase) (local.get $cellStep)))
          (if (f64.ge (local.get $phase) (f64.const 1)) (then (local.set $phase (f64.sub (local.get $phase) (f64.const 1)))))))
        (br $cells)))
    (f64.store (local.get $st) (local.get $phase))
    (i32.store offset=8 (local.get $st) (local.get $pos))
    (i32.store offset=12 (local.get $st) (local.get $k)))

  ;; Analysis (analysis/analyze.ts, mixDown for stereo): mono[i] = (l[i] + r[i])·0.5 and energy[i] =
  ;; (l[i]² + r[i]²)·0.5 in f64 ($l, $r f32; $mono, $energy f64; $n frames), then the zero crossings of the mono
  ;; mix: a sample with a sign (not 0, not NaN) opposite to the last sign seen counts one. The last sign before the
  ;; block (−1, 0 or 1) is read at $sign and the block's last is written there; returns the count. No branches per
  ;; sample: signs change unpredictably.
  (func (export "mix2") (param $l i32) (param $r i32) (param $n i32) (param $mono i32) (param $energy i32) (param $sign i32) (result i32)
    (local $i i32) (local $a v128) (local $b v128) (local $pm i32) (local $pe i32) (local $half v128) (local $x f64) (local $y f64)
    (local $m f64) (local $s i32) (local $last i32) (local $cnt i32) (local $end i32)
    (local.set $half (f64x2.splat (f64.const 0.5)))
    (local.set $pm (local.get $mono))
    (local.set $pe (local.get $energy))
    (block $done
      (loop $next
        (br_if $done (i32.gt_s (i32.add (local.get $i) (i32.const 2)) (local.get $n)))
        (local.set $a (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $l) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $b (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $r) (i32.shl (local.get $i) (i32.const 2))))))
        (v128.store (local.get $pm) (f64x2.mul (f64x2.add (local.get $a) (local.get $b)) (local.get $half)))
        (v128.store (local.get $pe) (f64x2.mul (f64x2.add (f64x2.mul (local.get $a) (local.get $a)) (f64x2.mul (local.get $b) (local.get $b))) (local.get $half)))
        (local.set $pm (i32.add (local.get $pm) (i32.const 16)))
        (local.set $pe (i32.add (local.get $pe) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $next)))
    (if (i32.lt_s (local.get $i) (local.get $n)) (then
      (local.set $x (f64.promote_f32 (f32.load (i32.add (local.get $l) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $y (f64.promote_f32 (f32.load (i32.add (local.get $r) (i32.shl (local.get $i) (i32.const 2))))))
      (f64.store (local.get $pm) (f64.mul (f64.add (local.get $x) (local.get $y)) (f64.const 0.5)))
      (f64.store (local.get $pe) (f64.mul (f64.add (f64.mul (local.get $x) (local.get $x)) (f64.mul (local.get $y) (local.get $y))) (f64.const 0.5)))))
    (local.set $last (i32.load (local.get $sign)))
    (local.set $pm (local.get $mono))
    (local.set $end (i32.add (local.get $mono) (i32.shl (local.get $n) (i32.const 3))))
    (block $c_done
      (loop $c_next
        (br_if $c_done (i32.ge_u (local.get $pm) (local.get $end)))
        (local.set $m (f64.load (local.get $pm)))
        (local.set $s (i32.sub (f64.gt (local.get $m) (f64.const 0)) (f64.lt (local.get $m) (f64.const 0))))
        ;; s · last is −1 exactly at a crossing (0 when either is 0)
        (local.set $cnt (i32.add (local.get $cnt) (i32.shr_u (i32.mul (local.get $s) (local.get $last)) (i32.const 31))))
        (local.set $last (select (local.get $s) (local.get $last) (local.get $s)))
        (local.set $pm (i32.add (local.get $pm) (i32.const 8)))
        (br $c_next)))
    (i32.store (local.get $sign) (local.get $last))
    (local.get $cnt))

  ;; Loudness (analysis/loudness.ts, filterEnergyStereo): both channels' K-weighting — two biquad sections in
  ;; transposed direct form II — and their sums of squares, left and right as the lanes of each vector, every step
  ;; the JavaScript's arithmetic. $l, $r: f32 ($n frames); $c: a0…a4, b0…b4 (f64); $st: z1, z2, y1, y2 of left then
  ;; right (f64), read and written; the two sums (f64) at $out are added to, in order.
  (func (export "kfilter2") (param $l i32) (param $r i32) (param $n i32) (param $c i32) (param $st i32) (param $out i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128) (local $b4 v128)
    (local $z1 v128) (local $z2 v128) (local $y1 v128) (local $y2 v128) (local $u v128) (local $v v128) (local $sum v128)
    (local $x v128) (local $i i32)
    (local.set $a0 (v128.load64_splat (local.get $c)))
    (local.set $a1 (v128.load64_splat offset=8 (local.get $c)))
    (local.set $a2 (v128.load64_splat offset=16 (local.get $c)))
    (local.set $a3 (v128.load64_splat offset=24 (local.get $c)))
    (local.set $a4 (v128.load64_splat offset=32 (local.get $c)))
    (local.set $b0 (v128.load64_splat offset=40 (local.get $c)))
    (local.set $b1 (v128.load64_splat offset=48 (local.get $c)))
    (local.set $b2 (v128.load64_splat offset=56 (local.get $c)))
    (local.set $b3 (v128.load64_splat offset=64 (local.get $c)))
    (local.set $b4 (v128.load64_splat offset=72 (local.get $c)))
    ;; state: left z1 z2 y1 y2 at 0…24, right at 32…56 → vectors (left, right)
    (local.set $z1 (f64x2.replace_lane 1 (v128.load64_splat (local.get $st)) (f64.load offset=32 (local.get $st))))
    (local.set $z2 (f64x2.replace_lane 1 (v128.load64_splat offset=8 (local.get $st)) (f64.load offset=40 (local.get $st))))
    (local.set $y1 (f64x2.replace_lane 1 (v128.load64_splat offset=16 (local.get $st)) (f64.load offset=48 (local.get $st))))
    (local.set $y2 (f64x2.replace_lane 1 (v128.load64_splat offset=24 (local.get $st)) (f64.load offset=56 (local.get $st))))
    (local.set $sum (v128.load (local.get $out))) ;; the sums go on from there
    (block $done
      (loop $next
        (br_if $done (i32.gt_s (i32.add (local.get $i) (i32.const 2)) (local.get $n)))
        ;; l[i] r[i] l[i+1] r[i+1]
        (local.set $x (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23
          (v128.load64_zero (i32.add (local.get $l) (i32.shl (local.get $i) (i32.const 2))))
          (v128.load64_zero (i32.add (local.get $r) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $u (f64x2.add (f64x2.mul (local.get $a0) (f64x2.promote_low_f32x4 (local.get $x))) (local.get $z1)))
        (local.set $z1 (f64x2.add (f64x2.sub (f64x2.mul (local.get $a1) (f64x2.promote_low_f32x4 (local.get $x))) (f64x2.mul (local.get $a3) (local.get $u))) (local.get $z2)))
        (local.set $z2 (f64x2.sub (f64x2.mul (local.get $a2) (f64x2.promote_low_f32x4 (local.get $x))) (f64x2.mul (local.get $a4) (local.get $u))))
        (local.set $v (f64x2.add (f64x2.mul (local.get $b0) (local.get $u)) (local.get $y1)))
        (local.set $y1 (f64x2.add (f64x2.sub (f64x2.mul (local.get $b1) (local.get $u)) (f64x2.mul (local.get $b3) (local.get $v))) (local.get $y2)))
        (local.set $y2 (f64x2.sub (f64x2.mul (local.get $b2) (local.get $u)) (f64x2.mul (local.get $b4) (local.get $v))))
        (local.set $sum (f64x2.add (local.get $sum) (f64x2.mul (local.get $v) (local.get $v))))
        (local.set $x (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x)))
        (local.set $u (f64x2.add (f64x2.mul (local.get $a0) (f64x2.promote_low_f32x4 (local.get $x))) (local.get $z1)))
        (local.set $z1 (f64x2.add (f64x2.sub (f64x2.mul (local.get $a1) (f64x2.promote_low_f32x4 (local.get $x))) (f64x2.mul (local.get $a3) (local.get $u))) (local.get $z2)))
        (local.set $z2 (f64x2.sub (f64x2.mul (local.get $a2) (f64x2.promote_low_f32x4 (local.get $x))) (f64x2.mul (local.get $a4) (local.get $u))))
        (local.set $v (f64x2.add (f64x2.mul (local.get $b0) (local.get $u)) (local.get $y1)))
        (local.set $y1 (f64x2.add (f64x2.sub (f64x2.mul (local.get $b1) (local.get $u)) (f64x2.mul (local.get $b3) (local.get $v))) (local.get $y2)))
        (local.set $y2 (f64x2.sub (f64x2.mul (local.get $b2) (local.get $u)) (f64x2.mul (local.get $b4) (local.get $v))))
        (local.set $sum (f64x2.add (local.get $sum) (f64x2.mul (local.get $v) (local.get $v))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $next)))
    (if (i32.lt_s (local.get $i) (local.get $n)) (then
      (local.set $x (f64x2.replace_lane 1
        (f64x2.splat (f64.promote_f32 (f32.load (i32.add (local.get $l) (i32.shl (local.get $i) (i32.const 2))))))
        (f64.promote_f32 (f32.load (i32.add (local.get $r) (i32.shl (local.get $i) (i32.const 2)))))))
        (local.set $u (f64x2.add (f64x2.mul (local.get $a0) (local.get $x)) (local.get $z1)))
        (local.set $z1 (f64x2.add (f64x2.sub (f64x2.mul (local.get $a1) (local.get $x)) (f64x2.mul (local.get $a3) (local.get $u))) (local.get $z2)))
        (local.set $z2 (f64x2.sub (f64x2.mul (local.get $a2) (local.get $x)) (f64x2.mul (local.get $a4) (local.get $u))))
        (local.set $v (f64x2.add (f64x2.mul (local.get $b0) (local.get $u)) (local.get $y1)))
        (local.set $y1 (f64x2.add (f64x2.sub (f64x2.mul (local.get $b1) (local.get $u)) (f64x2.mul (local.get $b3) (local.get $v))) (local.get $y2)))
        (local.set $y2 (f64x2.sub (f64x2.mul (local.get $b2) (local.get $u)) (f64x2.mul (local.get $b4) (local.get $v))))
        (local.set $sum (f64x2.add (local.get $sum) (f64x2.mul (local.get $v) (local.get $v))))
))
    (f64.store (local.get $st) (f64x2.extract_lane 0 (local.get $z1)))
    (f64.store offset=8 (local.get $st) (f64x2.extract_lane 0 (local.get $z2)))
    (f64.store offset=16 (local.get $st) (f64x2.extract_lane 0 (local.get $y1)))
    (f64.store offset=24 (local.get $st) (f64x2.extract_lane 0 (local.get $y2)))
    (f64.store offset=32 (local.get $st) (f64x2.extract_lane 1 (local.get $z1)))
    (f64.store offset=40 (local.get $st) (f64x2.extract_lane 1 (local.get $z2)))
    (f64.store offset=48 (local.get $st) (f64x2.extract_lane 1 (local.get $y1)))
    (f64.store offset=56 (local.get $st) (f64x2.extract_lane 1 (local.get $y2)))
    (v128.store (local.get $out) (local.get $sum)))

  ;; A cascade of up to three biquad sections (engine/biquad.ts, BiquadCascade, stereo) in one pass: transposed
  ;; direct form II per section, left and right as a vector's lanes, each section's output rounded to f32 before the
  ;; next (the JavaScript runs a pass per section and stores every output): the JavaScript's arithmetic. $l, $r: f32
  ;; in place ($n frames); $c: b0 b1 b2 a1 a2 per section (f64); $st: z1 z2 per section, left then right (f64 at
  ;; 0 and 48), read and written. Unused sections ($sections < 3) are skipped.
  (func (export "biquad3") (param $l i32) (param $r i32) (param $n i32) (param $sections i32) (param $c i32) (param $st i32)
    (local $b0_0 v128) (local $b1_0 v128) (local $b2_0 v128) (local $a1_0 v128) (local $a2_0 v128) (local $z1_0 v128) (local $z2_0 v128) (local $b0_1 v128) (local $b1_1 v128) (local $b2_1 v128) (local $a1_1 v128) (local $a2_1 v128) (local $z1_1 v128) (local $z2_1 v128) (local $b0_2 v128) (local $b1_2 v128) (local $b2_2 v128) (local $a1_2 v128) (local $a2_2 v128) (local $z1_2 v128) (local $z2_2 v128)
    (local $x v128) (local $y v128) (local $i i32) (local $pl i32) (local $pr i32)
    (local.set $b0_0 (v128.load64_splat offset=0 (local.get $c)))
    (local.set $b1_0 (v128.load64_splat offset=8 (local.get $c)))
    (local.set $b2_0 (v128.load64_splat offset=16 (local.get $c)))
    (local.set $a1_0 (v128.load64_splat offset=24 (local.get $c)))
    (local.set $a2_0 (v128.load64_splat offset=32 (local.get $c)))
    (local.set $z1_0 (f64x2.replace_lane 1 (v128.load64_splat offset=0 (local.get $st)) (f64.load offset=48 (local.get $st))))
    (local.set $z2_0 (f64x2.replace_lane 1 (v128.load64_splat offset=8 (local.get $st)) (f64.load offset=56 (local.get $st))))
    (local.set $b0_1 (v128.load64_splat offset=40 (local.get $c)))
    (local.set $b1_1 (v128.load64_splat offset=48 (local.get $c)))
    (local.set $b2_1 (v128.load64_splat offset=56 (local.get $c)))
    (local.set $a1_1 (v128.load64_splat offset=64 (local.get $c)))
    (local.set $a2_1 (v128.load64_splat offset=72 (local.get $c)))
    (local.set $z1_1 (f64x2.replace_lane 1 (v128.load64_splat offset=16 (local.get $st)) (f64.load offset=64 (local.get $st))))
    (local.set $z2_1 (f64x2.replace_lane 1 (v128.load64_splat offset=24 (local.get $st)) (f64.load offset=72 (local.get $st))))
    (local.set $b0_2 (v128.load64_splat offset=80 (local.get $c)))
    (local.set $b1_2 (v128.load64_splat offset=88 (local.get $c)))
    (local.set $b2_2 (v128.load64_splat offset=96 (local.get $c)))
    (local.set $a1_2 (v128.load64_splat offset=104 (local.get $c)))
    (local.set $a2_2 (v128.load64_splat offset=112 (local.get $c)))
    (local.set $z1_2 (f64x2.replace_lane 1 (v128.load64_splat offset=32 (local.get $st)) (f64.load offset=80 (local.get $st))))
    (local.set $z2_2 (f64x2.replace_lane 1 (v128.load64_splat offset=40 (local.get $st)) (f64.load offset=88 (local.get $st))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $pl (i32.add (local.get $l) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $pr (i32.add (local.get $r) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $x (f64x2.replace_lane 1 (f64x2.splat (f64.promote_f32 (f32.load (local.get $pl)))) (f64.promote_f32 (f32.load (local.get $pr)))))
        (local.set $y (f64x2.add (f64x2.mul (local.get $b0_0) (local.get $x)) (local.get $z1_0)))
        (local.set $z1_0 (f64x2.add (f64x2.sub (f64x2.mul (local.get $b1_0) (local.get $x)) (f64x2.mul (local.get $a1_0) (local.get $y))) (local.get $z2_0)))
        (local.set $z2_0 (f64x2.sub (f64x2.mul (local.get $b2_0) (local.get $x)) (f64x2.mul (local.get $a2_0) (local.get $y))))
        ;; the section's output is stored as f32 before the next reads it, as the JavaScript's passes store it
        (local.set $x (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (local.get $y))))
        (if (i32.gt_s (local.get $sections) (i32.const 1)) (then
          (local.set $y (f64x2.add (f64x2.mul (local.get $b0_1) (local.get $x)) (local.get $z1_1)))
          (local.set $z1_1 (f64x2.add (f64x2.sub (f64x2.mul (local.get $b1_1) (local.get $x)) (f64x2.mul (local.get $a1_1) (local.get $y))) (local.get $z2_1)))
          (local.set $z2_1 (f64x2.sub (f64x2.mul (local.get $b2_1) (local.get $x)) (f64x2.mul (local.get $a2_1) (local.get $y))))
          ;; the section's output is stored as f32 before the next reads it, as the JavaScript's passes store it
          (local.set $x (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (local.get $y))))
          (if (i32.gt_s (local.get $sections) (i32.const 2)) (then
            (local.set $y (f64x2.add (f64x2.mul (local.get $b0_2) (local.get $x)) (local.get $z1_2)))
            (local.set $z1_2 (f64x2.add (f64x2.sub (f64x2.mul (local.get $b1_2) (local.get $x)) (f64x2.mul (local.get $a1_2) (local.get $y))) (local.get $z2_2)))
            (local.set $z2_2 (f64x2.sub (f64x2.mul (local.get $b2_2) (local.get $x)) (f64x2.mul (local.get $a2_2) (local.get $y))))
            ;; the section's output is stored as f32 before the next reads it, as the JavaScript's passes store it
            (local.set $x (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (local.get $y))))
))))
        (f32.store (local.get $pl) (f32.demote_f64 (f64x2.extract_lane 0 (local.get $x))))
        (f32.store (local.get $pr) (f32.demote_f64 (f64x2.extract_lane 1 (local.get $x))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (f64.store offset=0 (local.get $st) (f64x2.extract_lane 0 (local.get $z1_0)))
    (f64.store offset=8 (local.get $st) (f64x2.extract_lane 0 (local.get $z2_0)))
    (f64.store offset=48 (local.get $st) (f64x2.extract_lane 1 (local.get $z1_0)))
    (f64.store offset=56 (local.get $st) (f64x2.extract_lane 1 (local.get $z2_0)))
    (f64.store offset=16 (local.get $st) (f64x2.extract_lane 0 (local.get $z1_1)))
    (f64.store offset=24 (local.get $st) (f64x2.extract_lane 0 (local.get $z2_1)))
    (f64.store offset=64 (local.get $st) (f64x2.extract_lane 1 (local.get $z1_1)))
    (f64.store offset=72 (local.get $st) (f64x2.extract_lane 1 (local.get $z2_1)))
    (f64.store offset=32 (local.get $st) (f64x2.extract_lane 0 (local.get $z1_2)))
    (f64.store offset=40 (local.get $st) (f64x2.extract_lane 0 (local.get $z2_2)))
    (f64.store offset=80 (local.get $st) (f64x2.extract_lane 1 (local.get $z1_2)))
    (f64.store offset=88 (local.get $st) (f64x2.extract_lane 1 (local.get $z2_2)))
)

  ;; The noise gate (effects/dynamics/noise-gate.ts) over one or two channels in place, without a branch per frame
  ;; (the detector's comparisons go either way unpredictably): the stereo-linked peak, the envelope (instant rise,
  ;; exponential fall), open at `open`, closed after `hold` frames below `close`, the gain ramping by `up` or `down`
  ;; per frame between `floor` and 1, every step the JavaScript's arithmetic and order. $p: open, close, floor, up,
  ;; down, envRel (f64), hold (f64, whole frames). $st: env, gain (f64), isOpen, held (i32 at 16, 20), read and
  ;; written. $x1 is used when $two is 1.
  (func (export "gate") (param $x0 i32) (param $x1 i32) (param $two i32) (param $n i32) (param $p i32) (param $st i32)
    (local $open f64) (local $close f64) (local $floor f64) (local $up f64) (local $down f64) (local $rel f64) (local $rel1 f64)
    (local $hold i32) (local $env f64) (local $gain f64) (local $isOpen i32) (local $held i32) (local $end i32)
    (local $a f64) (local $b f64) (local $level f64) (local $openNow i32) (local $c i32) (local $gu f64) (local $gd f64)
    (local.set $open (f64.load (local.get $p)))
    (local.set $close (f64.load offset=8 (local.get $p)))
    (local.set $floor (f64.load offset=16 (local.get $p)))
    (local.set $up (f64.load offset=24 (local.get $p)))
    (local.set $down (f64.load offset=32 (local.get $p)))
    (local.set $rel (f64.load offset=40 (local.get $p)))
    (local.set $rel1 (f64.sub (f64.const 1) (local.get $rel)))
    (local.set $hold (i32.trunc_sat_f64_s (f64.load offset=48 (local.get $p))))
    (local.set $env (f64.load (local.get $st)))
    (local.set $gain (f64.load offset=8 (local.get $st)))
    (local.set $isOpen (i32.load offset=16 (local.get $st)))
    (local.set $held (i32.load offset=20 (local.get $st)))
    (if (i32.eqz (local.get $two)) (then (local.set $x1 (local.get $x0))))
    (local.set $end (i32.add (local.get $x0) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x0) (local.get $end)))
        (local.set $a (f64.promote_f32 (f32.load (local.get $x0))))
        (local.set $b (f64.promote_f32 (f32.load (local.get $x1))))
        (local.set $level (f64.max (f64.abs (local.get $a)) (f64.abs (local.get $b))))
        (local.set $env (select (local.get $level)
          (f64.add (f64.mul (local.get $rel) (local.get $env)) (f64.mul (local.get $rel1) (local.get $level)))
          (f64.gt (local.get $level) (local.get $env))))
        ;; if (env >= open) { open, held = 0 } else if (isOpen && env < close && ++held > hold) closed
        (local.set $openNow (f64.ge (local.get $env) (local.get $open)))
        (local.set $c (i32.and (i32.and (i32.eqz (local.get $openNow)) (local.get $isOpen)) (f64.lt (local.get $env) (local.get $close))))
        (local.set $held (select (i32.const 0) (i32.add (local.get $held) (local.get $c)) (local.get $openNow)))
        (local.set $isOpen (i32.or (local.get $openNow)
          (i32.and (local.get $isOpen) (i32.eqz (i32.and (local.get $c) (i32.gt_s (local.get $held) (local.get $hold)))))))
        (local.set $gu (f64.mul (local.get $gain) (local.get $up)))
        (local.set $gd (f64.mul (local.get $gain) (local.get $down)))
        (local.set $gain (select
          (select (local.get $gu) (f64.const 1) (f64.lt (local.get $gu) (f64.const 1)))
          (select (local.get $gd) (local.get $floor) (f64.gt (local.get $gd) (local.get $floor)))
          (local.get $isOpen)))
        (f32.store (local.get $x0) (f32.demote_f64 (f64.mul (local.get $a) (local.get $gain))))
        (if (local.get $two) (then (f32.store (local.get $x1) (f32.demote_f64 (f64.mul (local.get $b) (local.get $gain))))))
        (local.set $x0 (i32.add (local.get $x0) (i32.const 4)))
        (local.set $x1 (i32.add (local.get $x1) (i32.const 4)))
        (br $next)))
    (f64.store (local.get $st) (local.get $env))
    (f64.store offset=8 (local.get $st) (local.get $gain))
    (i32.store offset=16 (local.get $st) (local.get $isOpen))
    (i32.store offset=20 (local.get $st) (local.get $held)))

  ;; The delay's echo without damping (effects/time/delay.ts, echo) over $n frames whose line positions do not
  ;; wrap and are each visited once: d = line[i]; line[i] = x[i] + fb·d; x[i] = x[i]·dry + d·wet, in f64 as its
  ;; JavaScript computes, two frames per vector (no frame reads what another writes). $line and $x are f32.
  (func (export "echo") (param $line i32) (param $x i32) (param $n i32) (param $fb f64) (param $dry f64) (param $wet f64)
    (local $end i32) (local $d v128) (local $v v128) (local $f v128) (local $dr v128) (local $w v128) (local $a f64) (local $b f64)
    (local.set $f (f64x2.splat (local.get $fb)))
    (local.set $dr (f64x2.splat (local.get $dry)))
    (local.set $w (f64x2.splat (local.get $wet)))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $d (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $line))))
        (local.set $v (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $x))))
        (v128.store64_lane 0 (local.get $line) (f32x4.demote_f64x2_zero (f64x2.add (local.get $v) (f64x2.mul (local.get $f) (local.get $d)))))
        (v128.store64_lane 0 (local.get $x) (f32x4.demote_f64x2_zero
          (f64x2.add (f64x2.mul (local.get $v) (local.get $dr)) (f64x2.mul (local.get $d) (local.get $w)))))
        (local.set $line (i32.add (local.get $line) (i32.const 8)))
        (local.set $x (i32.add (local.get $x) (i32.const 8)))
        (br $next)))
    (if (i32.and (local.get $n) (i32.const 1)) (then
      (local.set $a (f64.promote_f32 (f32.load (local.get $line))))
      (local.set $b (f64.promote_f32 (f32.load (local.get $x))))
      (f32.store (local.get $line) (f32.demote_f64 (f64.add (local.get $b) (f64.mul (local.get $fb) (local.get $a)))))
      (f32.store (local.get $x) (f32.demote_f64 (f64.add (f64.mul (local.get $b) (local.get $dry)) (f64.mul (local.get $a) (local.get $wet))))))))

  ;; The compressor (effects/dynamics/compressor.ts) over $n ≤ 16,384 frames of a mono or stereo block ($x1 = $x0 for
  ;; mono), in the JavaScript's order of operations, in four passes so that only the smoothing runs frame by frame:
  ;;   1. each frame's level (peak: two frames per vector; RMS: its running mean square, one by one) into $lv;
  ;;   2. two frames per vector, its target reduction: lnFast(level) in dB (engine/util.ts), staticCurveDb, minus the
  ;;      level; every case computed and the JavaScript's choice selected, into $tg;
  ;;   3. one by one, the held and applied reductions (the only recurrence), over $tg in place;
  ;;   4. two frames per vector, the gain (dbToGainFast) applied in place, or with $gains ≠ 0 written there as f64
  ;;      for the caller to apply (through the lookahead's ring, or to more than two channels).
  ;; Pass 3 stops before a frame the JavaScript does otherwise (an infinite level, a gain outside dbToGainFast's
  ;; range); the kernel returns how many frames it did. Lanes past the last frame compute what they compute and are
  ;; never used. $p: f64 constants (compressorRun in index.ts); $st: held, reductionDb, meanSquare, carried in and
  ;; out; $lv: three scratch arrays of 16,384 f64 (levels, targets then reductions, mean squares).
  (func (export "compressor") (param $x0 i32) (param $x1 i32) (param $two i32) (param $n i32) (param $p i32) (param $st i32) (param $gains i32) (param $lv i32) (result i32)
    (local $tg i32) (local $msa i32) (local $i i32) (local $j i32) (local $done i32)
    (local $att f64) (local $rel f64) (local $rc f64) (local $makeup f64) (local $dbToLog2 f64)
    (local $held f64) (local $red f64) (local $ms f64) (local $ms0 f64) (local $level f64) (local $target f64) (local $x f64)
    (local $v v128) (local $bits v128) (local $e v128) (local $m v128) (local $big v128) (local $s v128) (local $z v128)
    (local $ldb v128) (local $over v128) (local $kx v128) (local $curve v128) (local $k v128) (local $t v128) (local $t2 v128)
    (local $t4 v128) (local $g v128) (local $w v128)
    (local $thrV v128) (local $ratioV v128) (local $kneeV v128) (local $kneePos v128) (local $kneeStartV v128) (local $lnToDbV v128)
    (local $slopeV v128) (local $halfKneeV v128) (local $twoKneeV v128) (local $ln2V v128) (local $sqrt2V v128)
    (local $c3 v128) (local $c5 v128) (local $c7 v128) (local $c9 v128) (local $c11 v128) (local $c13 v128)
    (local $i6 v128) (local $i24 v128) (local $i120 v128) (local $i720 v128) (local $i5040 v128) (local $makeupV v128) (local $dbToLog2V v128)
    (local.set $tg (i32.add (local.get $lv) (i32.const 131072)))
    (local.set $msa (i32.add (local.get $lv) (i32.const 262144)))
    (local.set $att (f64.load (local.get $p)))
    (local.set $rel (f64.load offset=8 (local.get $p)))
    (local.set $rc (f64.load offset=16 (local.get $p)))
    (local.set $makeup (f64.load offset=24 (local.get $p)))
    (local.set $dbToLog2 (f64.load offset=80 (local.get $p)))
    (local.set $held (f64.load (local.get $st)))
    (local.set $red (f64.load offset=8 (local.get $st)))
    (local.set $ms (f64.load offset=16 (local.get $st)))
    (local.set $ms0 (local.get $ms))
    (if (i32.eqz (local.get $two)) (then (local.set $x1 (local.get $x0))))

    ;; 1. levels
    (if (f64.ne (f64.load offset=64 (local.get $p)) (f64.const 0))
      (then
        (block $end1 (loop $rms
          (br_if $end1 (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $j (i32.shl (local.get $i) (i32.const 2)))
          (local.set $level (f64.max
            (f64.abs (f64.promote_f32 (f32.load (i32.add (local.get $x0) (local.get $j)))))
            (f64.abs (f64.promote_f32 (f32.load (i32.add (local.get $x1) (local.get $j)))))))
          ;; meanSquare = rmsCoef·meanSquare + (1 − rmsCoef)·level·level; level = √meanSquare
          (local.set $ms (f64.add (f64.mul (local.get $rc) (local.get $ms))
            (f64.mul (f64.mul (f64.sub (f64.const 1) (local.get $rc)) (local.get $level)) (local.get $level))))
          (local.set $j (i32.shl (local.get $i) (i32.const 3)))
          (f64.store (i32.add (local.get $msa) (local.get $j)) (local.get $ms))
          (f64.store (i32.add (local.get $lv) (local.get $j)) (f64.sqrt (local.get $ms)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $rms))))
      (else
        (block $end1 (loop $peak
          (br_if $end1 (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $j (i32.shl (local.get $i) (i32.const 2)))
          (v128.store (i32.add (local.get $lv) (i32.shl (local.get $i) (i32.const 3))) (f64x2.max
            (f64x2.abs (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $x0) (local.get $j)))))
            (f64x2.abs (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $x1) (local.get $j)))))))
          (local.set $i (i32.add (local.get $i) (i32.const 2)))
          (br $peak)))))

    ;; 2. targets
    (local.set $thrV (f64x2.splat (f64.load offset=32 (local.get $p))))
    (local.set $ratioV (f64x2.splat (f64.load offset=40 (local.get $p))))
    (local.set $kneeV (f64x2.splat (f64.load offset=48 (local.get $p))))
    (local.set $kneePos (f64x2.gt (local.get $kneeV) (f64x2.splat (f64.const 0))))
    (local.set $kneeStartV (f64x2.splat (f64.load offset=56 (local.get $p))))
    (local.set $lnToDbV (f64x2.splat (f64.load offset=72 (local.get $p))))
    (local.set $c3 (f64x2.splat (f64.load offset=88 (local.get $p))))
    (local.set $c5 (f64x2.splat (f64.load offset=96 (local.get $p))))
    (local.set $c7 (f64x2.splat (f64.load offset=104 (local.get $p))))
    (local.set $c9 (f64x2.splat (f64.load offset=112 (local.get $p))))
    (local.set $c11 (f64x2.splat (f64.load offset=120 (local.get $p))))
    (local.set $c13 (f64x2.splat (f64.load offset=128 (local.get $p))))
    (local.set $ln2V (f64x2.splat (f64.load offset=136 (local.get $p))))
    (local.set $sqrt2V (f64x2.splat (f64.load offset=144 (local.get $p))))
    ;; the JavaScript's 1 / ratio − 1, kneeDb / 2 and 2 · kneeDb
    (local.set $slopeV (f64x2.sub (f64x2.div (f64x2.splat (f64.const 1)) (local.get $ratioV)) (f64x2.splat (f64.const 1))))
    (local.set $halfKneeV (f64x2.div (local.get $kneeV) (f64x2.splat (f64.const 2))))
    (local.set $twoKneeV (f64x2.mul (f64x2.splat (f64.const 2)) (local.get $kneeV)))
    (local.set $i (i32.const 0))
    (block $end2 (loop $targets
      (br_if $end2 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $j (i32.shl (local.get $i) (i32.const 3)))
      (local.set $v (v128.load (i32.add (local.get $lv) (local.get $j))))
      ;; lnFast: v = 2^e·m, m in [√½, √2), s = (m − 1)/(m + 1), z = s²
      (local.set $bits (i64x2.shr_u (local.get $v) (i32.const 52)))
      (local.set $e (f64x2.convert_low_i32x4_s (i32x4.sub
        (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $bits) (local.get $bits))
        (i32x4.splat (i32.const 1023)))))
      (local.set $m (v128.or (v128.and (local.get $v) (v128.const i64x2 0x000fffffffffffff 0x000fffffffffffff))
        (v128.const i64x2 0x3ff0000000000000 0x3ff0000000000000)))
      (local.set $big (f64x2.gt (local.get $m) (local.get $sqrt2V)))
      (local.set $m (v128.bitselect (f64x2.mul (local.get $m) (f64x2.splat (f64.const 0.5))) (local.get $m) (local.get $big)))
      (local.set $e (v128.bitselect (f64x2.add (local.get $e) (f64x2.splat (f64.const 1))) (local.get $e) (local.get $big)))
      (local.set $s (f64x2.div (f64x2.sub (local.get $m) (f64x2.splat (f64.const 1))) (f64x2.add (local.get $m) (f64x2.splat (f64.const 1)))))
      (local.set $z (f64x2.mul (local.get $s) (local.get $s)))
      ;; (e·LN2 + 2s·(1 + z·(1/3 + z·(1/5 + z·(1/7 + z·(1/9 + z·(1/11 + z·1/13))))))) · 20/ln 10
      (local.set $ldb (f64x2.mul (f64x2.add (f64x2.mul (local.get $e) (local.get $ln2V))
        (f64x2.mul (f64x2.mul (f64x2.splat (f64.const 2)) (local.get $s))
          (f64x2.add (f64x2.splat (f64.const 1)) (f64x2.mul (local.get $z)
          (f64x2.add (local.get $c3) (f64x2.mul (local.get $z)
          (f64x2.add (local.get $c5) (f64x2.mul (local.get $z)
          (f64x2.add (local.get $c7) (f64x2.mul (local.get $z)
          (f64x2.add (local.get $c9) (f64x2.mul (local.get $z)
          (f64x2.add (local.get $c11) (f64x2.mul (local.get $z) (local.get $c13)))))))))))))))
        (local.get $lnToDbV)))
      ;; staticCurveDb: below the knee the level itself; in it the quadratic; above it the ratio's line
      (local.set $over (f64x2.sub (local.get $ldb) (local.get $thrV)))
      (local.set $kx (f64x2.add (local.get $over) (local.get $halfKneeV)))
      (local.set $curve (v128.bitselect
        (local.get $ldb)
        (v128.bitselect
          (f64x2.add (local.get $ldb) (f64x2.div (f64x2.mul (f64x2.mul (local.get $slopeV) (local.get $kx)) (local.get $kx)) (local.get $twoKneeV)))
          (f64x2.add (local.get $thrV) (f64x2.div (local.get $over) (local.get $ratioV)))
          (v128.and (local.get $kneePos) (f64x2.le (f64x2.mul (f64x2.splat (f64.const 2)) (f64x2.abs (local.get $over))) (local.get $kneeV))))
        (f64x2.lt (f64x2.mul (f64x2.splat (f64.const 2)) (local.get $over)) (f64x2.neg (local.get $kneeV)))))
      (v128.store (i32.add (local.get $tg) (local.get $j)) (v128.and
        (f64x2.sub (local.get $curve) (local.get $ldb))
        (f64x2.gt (local.get $v) (local.get $kneeStartV))))
      (local.set $i (i32.add (local.get $i) (i32.const 2)))
      (br $targets)))

    ;; 3. the smoothing, frame by frame
    (local.set $i (i32.const 0))
    (block $end3 (loop $smooth
      (br_if $end3 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $j (i32.shl (local.get $i) (i32.const 3)))
      (br_if $end3 (f64.eq (f64.load (i32.add (local.get $lv) (local.get $j))) (f64.const inf)))
      (local.set $target (f64.load (i32.add (local.get $tg) (local.get $j))))
      ;; held = target < held ? target : rel·held + (1 − rel)·target
      (local.set $target (select (local.get $target)
        (f64.add (f64.mul (local.get $rel) (local.get $held)) (f64.mul (f64.sub (f64.const 1) (local.get $rel)) (local.get $target)))
        (f64.lt (local.get $target) (local.get $held))))
      ;; reductionDb = held < reductionDb ? att·reductionDb + (1 − att)·held : held
      (local.set $x (select
        (f64.add (f64.mul (local.get $att) (local.get $red)) (f64.mul (f64.sub (f64.const 1) (local.get $att)) (local.get $target)))
        (local.get $target)
        (f64.lt (local.get $target) (local.get $red))))
      (br_if $end3 (i32.eqz (i32.and
        (f64.gt (f64.mul (local.get $x) (local.get $dbToLog2)) (f64.const -63))
        (f64.lt (f64.mul (local.get $x) (local.get $dbToLog2)) (f64.const 63)))))
      (local.set $held (local.get $target))
      (local.set $red (local.get $x))
      (f64.store (i32.add (local.get $tg) (local.get $j)) (local.get $red))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $smooth)))
    (local.set $done (local.get $i))
    (f64.store (local.get $st) (local.get $held))
    (f64.store offset=8 (local.get $st) (local.get $red))
    (f64.store offset=16 (local.get $st) (select (local.get $ms0)
      (f64.load (i32.add (local.get $msa) (i32.shl (i32.sub (local.get $done) (i32.const 1)) (i32.const 3))))
      (i32.or (i32.eqz (local.get $done)) (f64.eq (f64.load offset=64 (local.get $p)) (f64.const 0)))))

    ;; 4. gains: reductionDb > −1e-9 ? makeup : dbToGainFast(reductionDb)·makeup, where dbToGainFast is 2^x as a power
    ;; of two times e^((x − round(x))·ln 2) (degree 7, Estrin's scheme; Math.round rounds ties toward +∞)
    (local.set $makeupV (f64x2.splat (local.get $makeup)))
    (local.set $dbToLog2V (f64x2.splat (local.get $dbToLog2)))
    (local.set $i6 (f64x2.splat (f64.div (f64.const 1) (f64.const 6))))
    (local.set $i24 (f64x2.splat (f64.div (f64.const 1) (f64.const 24))))
    (local.set $i120 (f64x2.splat (f64.div (f64.const 1) (f64.const 120))))
    (local.set $i720 (f64x2.splat (f64.div (f64.const 1) (f64.const 720))))
    (local.set $i5040 (f64x2.splat (f64.div (f64.const 1) (f64.const 5040))))
    (local.set $i (i32.const 0))
    (block $end4 (loop $apply
      (br_if $end4 (i32.ge_u (local.get $i) (local.get $done)))
      (local.set $j (i32.shl (local.get $i) (i32.const 3)))
      (local.set $v (v128.load (i32.add (local.get $tg) (local.get $j))))
      (local.set $w (f64x2.mul (local.get $v) (local.get $dbToLog2V)))
      (local.set $k (f64x2.ceil (local.get $w)))
      (local.set $k (v128.bitselect (f64x2.sub (local.get $k) (f64x2.splat (f64.const 1))) (local.get $k)
        (f64x2.gt (f64x2.sub (local.get $k) (f64x2.splat (f64.const 0.5))) (local.get $w))))
      (local.set $t (f64x2.mul (f64x2.sub (local.get $w) (local.get $k)) (local.get $ln2V)))
      (local.set $t2 (f64x2.mul (local.get $t) (local.get $t)))
      (local.set $t4 (f64x2.mul (local.get $t2) (local.get $t2)))
      (local.set $g (v128.bitselect (local.get $makeupV)
        (f64x2.mul (f64x2.mul
          (f64x2.add
            (f64x2.add (f64x2.add (f64x2.splat (f64.const 1)) (local.get $t)) (f64x2.mul (local.get $t2) (f64x2.add (f64x2.splat (f64.const 0.5)) (f64x2.mul (local.get $t) (local.get $i6)))))
            (f64x2.mul (local.get $t4) (f64x2.add
              (f64x2.add (local.get $i24) (f64x2.mul (local.get $t) (local.get $i120)))
              (f64x2.mul (local.get $t2) (f64x2.add (local.get $i720) (f64x2.mul (local.get $t) (local.get $i5040)))))))
          ;; 2^k: k + 1023 in the exponent's bits
          (i64x2.shl (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $k))) (v128.const i64x2 1023 1023)) (i32.const 52)))
          (local.get $makeupV))
        (f64x2.gt (local.get $v) (f64x2.splat (f64.const -1e-9)))))
      (if (local.get $gains)
        (then (v128.store (i32.add (local.get $gains) (local.get $j)) (local.get $g)))
        (else
          (local.set $j (i32.shl (local.get $i) (i32.const 2)))
          (v128.store64_lane 0 (i32.add (local.get $x0) (local.get $j)) (f32x4.demote_f64x2_zero (f64x2.mul
            (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $x0) (local.get $j)))) (local.get $g))))
          (if (local.get $two) (then
            (v128.store64_lane 0 (i32.add (local.get $x1) (local.get $j)) (f32x4.demote_f64x2_zero (f64x2.mul
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $x1) (local.get $j)))) (local.get $g))))))))
      (local.set $i (i32.add (local.get $i) (i32.const 2)))
      (br $apply)))
    (local.get $done))
)
