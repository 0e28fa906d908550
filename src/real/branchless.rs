//! The logistic function and `tanh` without branches or calls, so that a loop over a gate vector
//! compiles to SIMD instructions (SSE2 on a default x86-64 build).
//!
//! `exp` follows Cephes (Moshier): `x = n ln 2 + r` with `|r| ≤ ln 2 / 2` (Cody–Waite split of
//! `ln 2`), a polynomial (`f32`, evaluated by Estrin's scheme: a recurrent step is a chain of
//! dependent operations, so latency is what counts) or Padé form (`f64`) for `e^r`, and `2^n`
//! assembled directly in the exponent bits. `n` is rounded by adding and subtracting `1.5·2^mantissa_bits`, which
//! leaves `n` in the low bits as well, so no float-to-integer conversion is needed. Inputs are
//! clamped to the range where `2^n` is a normal number; beyond it the results below saturate
//! correctly (`σ(−200) ≈ 6e-39` in `f32` instead of `1e-87`: an absolute error under `1e-38`).
//! In `f32`, `sigmoid` and `tanh` finish `e^x = 2^n (1 + q)` inside their own formulas (see
//! [`exp_split_f32`]).
//!
//! `tanh` uses Cephes' odd polynomial (`f32`) or rational function (`f64`) for `|x| < 0.625`,
//! where `1 − 2/(e^{2|x|} + 1)` would cancel, and that expression elsewhere; both are computed
//! and one is selected, which the compiler turns into a blend.

// The coefficients are written as Cephes publishes them, so they can be checked against it.
#![allow(clippy::excessive_precision)]

/// Below `-SMALL` or above `SMALL`, `tanh` takes the exponential form.
const TANH_SMALL: f64 = 0.625;

/// `e^x = 2^n (1 + q)` for `x` in `[-87, 88]`, given `x_log2e = x · log₂ e`, with
/// `q = p·r² + r`: returns `(2^n, r, r², p)`. The callers finish `e^x` inside their own
/// formulas, where `2^n` is ready long before `p`: forming `e^x` first and then `1 + e^x` put
/// three more dependent operations after the polynomial, on the chain that a layer at batch 1
/// or a recurrent step waits for.
#[inline(always)]
fn exp_split_f32(x: f32, x_log2e: f32) -> (f32, f32, f32, f32) {
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2^23
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let shifted = x_log2e + ROUND;
    let n = shifted - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let rr = r * r;
    let p = (5.000_000_1e-1 + 1.666_666_5e-1 * r)
        + rr * (4.166_579_6e-2 + 8.333_452e-3 * r)
        + (rr * rr) * (1.398_199_9e-3 + 1.987_569_1e-4 * r);
    let n_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    (f32::from_bits(n_bits.wrapping_add(127) << 23), r, rr, p)
}

#[inline(always)]
pub(crate) fn exp_f64(x: f64) -> f64 {
    const ROUND: f64 = 6_755_399_441_055_744.0; // 1.5 · 2^52
    const LN2_HI: f64 = 6.931_457_519_531_25e-1;
    const LN2_LO: f64 = 1.428_606_820_309_417_232_12e-6;
    let x = x.clamp(-708.0, 709.0);
    let shifted = x * core::f64::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let rr = r * r;
    let p = r * ((1.261_771_930_748_105_908_78e-4 * rr + 3.029_944_077_074_419_613e-2) * rr + 1.0);
    let q = ((3.001_985_051_386_644_550_42e-6 * rr + 2.524_483_403_496_841_041_92e-3) * rr
        + 2.272_655_482_081_550_287_66e-1)
        * rr
        + 2.0;
    let e_r = 1.0 + 2.0 * p / (q - p);
    let n_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    e_r * f64::from_bits(n_bits.wrapping_add(1023) << 52)
}

/// With `e^{-x} = 2^n (1 + q)`, `σ(x) = 1 / (1 + e^{-x}) = 1 / ((1 + 2^n) + 2^n q)`, where
/// `2^n q = p·(r²·2^n) + r·2^n` has the same bits (scaling by `2^n` is exact): `1 + 2^n` and the
/// products by `2^n` do not wait for the polynomial, so after it come two additions and the
/// division. From `x = 20` on the result is 1, and the clamp there keeps `r²·2^n` normal.
#[inline(always)]
pub(crate) fn sigmoid_f32(x: f32) -> f32 {
    let m = (-x).clamp(-20.0, 88.0);
    let (scale, r, rr, p) = exp_split_f32(m, m * core::f32::consts::LOG2_E);
    1.0 / ((1.0 + scale) + (p * (rr * scale) + r * scale))
}

#[inline(always)]
pub(crate) fn sigmoid_f64(x: f64) -> f64 {
    1.0 / (1.0 + exp_f64(-x))
}

#[inline(always)]
pub(crate) fn tanh_f32(x: f32) -> f32 {
    let sign = x.to_bits() & 0x8000_0000;
    let a = f32::from_bits(x.to_bits() & 0x7fff_ffff);
    let z = x * x;
    let small = ((((-5.704_988_7e-3 * z + 2.063_908_9e-2) * z - 5.373_971_6e-2) * z + 1.333_144_2e-1) * z
        - 3.333_328_2e-1)
        * z
        * x
        + x;
    // tanh a = 1 − 2 / (e^{2a} + 1) with e^{2a} = 2^n (1 + q), the denominator summed as
    // (2^n + 1) + 2^n q: scaling by 2^n is exact, so 2^n q = p·(rr·2^n) + r·2^n has the same
    // bits, and only two additions follow the polynomial (e^{2a} first cost three operations
    // more). From a = 10 on the result is 1, which the clamp keeps (and NaN stays NaN).
    let c = if a > 10.0 { 10.0 } else { a };
    let (scale, r, rr, p) = exp_split_f32(c + c, c * (2.0 * core::f32::consts::LOG2_E));
    let large = 1.0 - 2.0 / ((scale + 1.0) + (p * (rr * scale) + r * scale));
    let large = f32::from_bits(large.to_bits() | sign);
    if a < TANH_SMALL as f32 { small } else { large }
}

#[inline(always)]
pub(crate) fn tanh_f64(x: f64) -> f64 {
    let sign = x.to_bits() & 0x8000_0000_0000_0000;
    let a = f64::from_bits(x.to_bits() & 0x7fff_ffff_ffff_ffff);
    let z = x * x;
    let p =
        (-9.643_991_794_250_522_386_28e-1 * z - 9.928_772_310_019_185_865_64e1) * z - 1.614_687_684_417_084_479_52e3;
    let q = ((z + 1.128_116_784_916_329_314_02e2) * z + 2.235_488_390_601_004_485_83e3) * z
        + 4.844_063_053_251_254_860_48e3;
    let small = x + x * z * p / q;
    let large = 1.0 - 2.0 / (exp_f64(a + a) + 1.0);
    let large = f64::from_bits(large.to_bits() | sign);
    if a < TANH_SMALL { small } else { large }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `e^x` from the split, as `sigmoid_f32` and `tanh_f32` once computed it.
    fn exp_f32(x: f32) -> f32 {
        let x = x.clamp(-87.0, 88.0);
        let (scale, r, rr, p) = exp_split_f32(x, x * core::f32::consts::LOG2_E);
        (p * rr + r + 1.0) * scale
    }

    /// Distance in units in the last place between two finite `f32` (±0 count as one value).
    fn ulps_f32(a: f32, b: f32) -> u64 {
        let ordered = |v: f32| {
            let magnitude = i64::from(v.to_bits() & 0x7fff_ffff);
            if v < 0.0 { -magnitude } else { magnitude }
        };
        (ordered(a) - ordered(b)).unsigned_abs()
    }

    fn ulps_f64(a: f64, b: f64) -> u64 {
        let ordered = |v: f64| {
            let magnitude = i128::from(v.abs().to_bits());
            if v < 0.0 { -magnitude } else { magnitude }
        };
        (ordered(a) - ordered(b)).unsigned_abs() as u64
    }

    /// 200 001 points on [-lo, hi], plus the points where the formulas switch.
    fn sweep(lo: f64, hi: f64) -> impl Iterator<Item = f64> {
        (0..=200_000)
            .map(move |i| lo + (hi - lo) * i as f64 / 200_000.0)
            .chain([0.0, -0.0, 0.625, -0.625, 1e-30, -1e-30, 1e-8])
    }

    /// Every `step`-th `f32` from `2^-30` up to 128 (below, `tanh x = x` and `σ(x) = 1/2` to
    /// rounding; beyond, both are constant), of both signs, and the points where the formulas
    /// switch or saturate. With `step` 1 that is every input on which they compute anything.
    fn floats(step: usize) -> impl Iterator<Item = f32> {
        let (lo, hi) = (2f32.powi(-30).to_bits(), 128f32.to_bits());
        (lo..=hi)
            .step_by(step)
            .flat_map(|bits| [f32::from_bits(bits), -f32::from_bits(bits)])
            .chain([0.0, -0.0, 0.625, -0.625, 10.0, -10.0, 87.0, -87.0, 88.0, -88.0])
    }

    /// The worst distances from the correctly rounded `e^x` (on `[-87, 88]`), `σ(x)` (from −87
    /// on: below, the result is the saturated value of `extremes_saturate_without_nan`) and
    /// `tanh x`, with an input where each occurs.
    fn worst_f32(step: usize) -> [(u64, f32); 3] {
        let mut worst = [(0, 0.0); 3];
        let reference = |v: f64| v as f32; // f64 std is far more accurate than f32 needs
        for x in floats(step) {
            let wide = f64::from(x);
            let errors = [
                (-87.0..=88.0)
                    .contains(&x)
                    .then(|| ulps_f32(exp_f32(x), reference(wide.exp()))),
                (x >= -87.0).then(|| ulps_f32(sigmoid_f32(x), reference(1.0 / (1.0 + (-wide).exp())))),
                Some(ulps_f32(tanh_f32(x), reference(wide.tanh()))),
            ];
            for (worst, error) in worst.iter_mut().zip(errors) {
                if let Some(error) = error.filter(|&e| e > worst.0) {
                    *worst = (error, x);
                }
            }
        }
        worst
    }

    #[test]
    fn f32_functions_are_within_a_few_ulp_of_the_correctly_rounded_value() {
        // 2.4 million inputs, every binade sampled densely; the ignored test below takes all.
        let [exp, sig, tanh] = worst_f32(257);
        assert!(
            exp.0 <= 1 && sig.0 <= 2 && tanh.0 <= 2,
            "exp {exp:?}, sigmoid {sig:?}, tanh {tanh:?} (ulp, at)"
        );
    }

    /// All 620 million inputs: about 40 s in release (`cargo test --release --lib
    /// real::branchless -- --ignored`). Measured: exp 1 ulp, sigmoid 2, tanh 1.
    #[test]
    #[ignore = "every f32 input: run in release"]
    fn f32_functions_are_within_a_few_ulp_on_every_input() {
        let [exp, sig, tanh] = worst_f32(1);
        assert!(
            exp.0 <= 1 && sig.0 <= 2 && tanh.0 <= 2,
            "exp {exp:?}, sigmoid {sig:?}, tanh {tanh:?} (ulp, at)"
        );
    }

    /// The vector loops that `simd::widest` compiles for AVX2 and AVX-512 give the bits of the
    /// plain loop (SSE2 on a default build, and what every other target computes): no operation
    /// is fused or reordered. In a release build (`cargo test --release --lib real::branchless`)
    /// these are the 8- and 16-lane loops themselves.
    #[cfg(x86_kernels)]
    #[test]
    fn every_x86_instruction_set_gives_the_same_bits() {
        // A macro, not a function pointer: called through a pointer, the function would not be
        // inlined into the loop that `Isa::run` compiles.
        macro_rules! same_bits {
            ($f:ident, $inputs:expr) => {
                let inputs = $inputs;
                let plain: Vec<_> = inputs.iter().map(|&x| $f(x).to_bits()).collect();
                for isa in crate::x86::Isa::detect() {
                    let mut wide = vec![Default::default(); inputs.len()];
                    isa.run(
                        #[inline(always)]
                        || {
                            for (out, &x) in wide.iter_mut().zip(&inputs) {
                                *out = $f(x);
                            }
                        },
                    );
                    let wide: Vec<_> = wide.iter().map(|v| v.to_bits()).collect();
                    assert!(plain == wide, "{} on {:?}", stringify!($f), isa.instruction_set());
                }
            };
        }
        let inputs: Vec<f32> = floats(1009).collect();
        same_bits!(sigmoid_f32, inputs.clone());
        same_bits!(tanh_f32, inputs.clone());
        let wide_inputs: Vec<f64> = inputs.iter().map(|&x| f64::from(x) * 5.5).collect();
        same_bits!(sigmoid_f64, wide_inputs.clone());
        same_bits!(tanh_f64, wide_inputs);
    }

    #[test]
    fn f64_functions_are_within_a_few_ulp_of_the_maths_library() {
        let (mut exp, mut sig, mut tanh) = (0, 0, 0);
        for x in sweep(-700.0, 700.0).chain(sweep(-3.0, 3.0)) {
            exp = exp.max(ulps_f64(exp_f64(x), x.exp()));
            sig = sig.max(ulps_f64(sigmoid_f64(x), 1.0 / (1.0 + (-x).exp())));
            tanh = tanh.max(ulps_f64(tanh_f64(x), x.tanh()));
        }
        assert!(
            exp <= 2 && sig <= 2 && tanh <= 2,
            "exp {exp}, sigmoid {sig}, tanh {tanh} ulp"
        );
    }

    #[test]
    fn extremes_saturate_without_nan() {
        for x in [f32::MAX, 1e10, 200.0, 89.0] {
            assert_eq!(sigmoid_f32(x), 1.0);
            assert!(sigmoid_f32(-x) < 1e-37);
            assert_eq!(tanh_f32(x), 1.0);
            assert_eq!(tanh_f32(-x), -1.0);
            assert!(exp_f32(x).is_finite() && exp_f32(-x) >= 0.0);
        }
        for x in [f64::MAX, 1e300, 800.0] {
            assert_eq!(sigmoid_f64(x), 1.0);
            assert!(sigmoid_f64(-x) < 1e-300);
            assert_eq!(tanh_f64(x), 1.0);
            assert_eq!(tanh_f64(-x), -1.0);
        }
        assert_eq!(tanh_f32(0.0), 0.0);
        assert_eq!(sigmoid_f64(0.0), 0.5);
    }
}
