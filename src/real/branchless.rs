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
//!
//! `tanh` uses Cephes' odd polynomial (`f32`) or rational function (`f64`) for `|x| < 0.625`,
//! where `1 − 2/(e^{2|x|} + 1)` would cancel, and that expression elsewhere; both are computed
//! and one is selected, which the compiler turns into a blend.

// The coefficients are written as Cephes publishes them, so they can be checked against it.
#![allow(clippy::excessive_precision)]

/// Below `-SMALL` or above `SMALL`, `tanh` takes the exponential form.
const TANH_SMALL: f64 = 0.625;

#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2^23
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * core::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let rr = r * r;
    let p = (5.000_000_1e-1 + 1.666_666_5e-1 * r)
        + rr * (4.166_579_6e-2 + 8.333_452e-3 * r)
        + (rr * rr) * (1.398_199_9e-3 + 1.987_569_1e-4 * r);
    let e_r = p * rr + r + 1.0;
    let n_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    e_r * f32::from_bits(n_bits.wrapping_add(127) << 23)
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

#[inline(always)]
pub(crate) fn sigmoid_f32(x: f32) -> f32 {
    1.0 / (1.0 + exp_f32(-x))
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
    let large = 1.0 - 2.0 / (exp_f32(a + a) + 1.0);
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

    #[test]
    fn f32_functions_are_within_a_few_ulp_of_the_correctly_rounded_value() {
        let (mut exp, mut sig, mut tanh) = (0, 0, 0);
        for x in sweep(-80.0, 80.0).map(|x| x as f32) {
            let reference = |v: f64| v as f32; // f64 std is far more accurate than f32 needs
            exp = exp.max(ulps_f32(exp_f32(x), reference(f64::from(x).exp())));
            sig = sig.max(ulps_f32(sigmoid_f32(x), reference(1.0 / (1.0 + (-f64::from(x)).exp()))));
            tanh = tanh.max(ulps_f32(tanh_f32(x), reference(f64::from(x).tanh())));
        }
        assert!(
            exp <= 1 && sig <= 2 && tanh <= 2,
            "exp {exp}, sigmoid {sig}, tanh {tanh} ulp"
        );
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
