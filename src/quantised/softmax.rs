//! `int8` softmax with TensorFlow Lite's fixed-point arithmetic.

#[cfg(feature = "alloc")]
use alloc::vec::Vec;
use nalgebra::SMatrix;

use super::{
    Affine, Int8Context, Int8Layer, arithmetic, rounding_divide_by_power_of_two, saturating_rounding_doubling_high_mul,
};
#[cfg(feature = "alloc")]
use super::{Converted, Quantise, QuantiseContext, QuantiseError};
#[cfg(feature = "alloc")]
use crate::{Layer, Real, Softmax};

/// The output encoding TFLite's specification fixes for int8 `SOFTMAX`: scale 1/256, zero
/// point −128, so that −128 is probability 0 and 127 is 255/256.
pub const SOFTMAX_OUTPUT: Affine = Affine {
    scale: 1.0 / 256.0,
    zero_point: -128,
};

/// TFLite's `kScaledDiffIntegerBits`: differences from the row's maximum enter the exponential
/// as Q5.26, so that every difference down to −32 is representable.
const SCALED_DIFF_INTEGER_BITS: i32 = 5;
/// TFLite's `kAccumulationIntegerBits`: the sum of exponentials is Q12.19.
const ACCUMULATION_INTEGER_BITS: i32 = 12;

/// Softmax over the rows of each column (each sample) of an `int8` input, computing the
/// integers TensorFlow Lite Micro's reference kernel computes (`reference_ops::Softmax` with gemmlowp's `exp_on_negative_values` and
/// `one_over_one_plus_x_for_x_in_0_1`), into [`SOFTMAX_OUTPUT`].
///
/// The fields are what TFLite's prepare step (`CalculateSoftmaxParams`) computes from the
/// input scale and `beta`; [`Int8Softmax::new`] (beta 1) and [`Int8Softmax::with_beta`]
/// compute them. The output depends on differences from the
/// column's maximum only, so the input's zero point plays no part.
///
/// ```
/// use static_nn::quantised::{Int8Layer, Int8Softmax};
/// use nalgebra::Vector3;
///
/// let softmax = Int8Softmax::new(0.1).unwrap();
/// // Logits 1, 0 and −10 (in steps of 0.1): probabilities 0.73, 0.27 and 0.00001.
/// let p = softmax.forward(&Vector3::new(10_i8, 0, -100));
/// assert_eq!(p, Vector3::new(59, -59, -128));
/// ```
///
/// Rows of 512 values or more can make the sum of exponentials so large that TFLite's kernel
/// refuses to run (`TFLITE_CHECK(0 <= exponent && exponent <= 31)`); here the exponent is
/// then capped at 31 instead, and likewise for parameters no input scale gives, so that no
/// input panics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Zeroable)]
pub struct Int8Softmax {
    /// `beta` times the input scale times `2^26` (capped at `2^31 − 1`) as [`quantize_multiplier`]
    /// encodes it: the mantissa (`PreprocessSoftmaxScaling`).
    ///
    /// [`quantize_multiplier`]: super::quantize_multiplier
    pub input_multiplier: i32,
    /// Its power of two, from 1 to 31.
    pub input_left_shift: i8,
    /// Differences from the maximum below this give probability 0 (−128) without an
    /// exponential (`-CalculateInputRadius(5, input_left_shift)`).
    pub diff_min: i32,
}

impl Int8Softmax {
    /// The parameters for an input of scale `input_scale` (TFLite's `PreprocessSoftmaxScaling`
    /// with `beta = 1` and `CalculateInputRadius`), or `None` where TFLite's prepare step
    /// refuses the scale: not finite, or not above `2^-26` (`QuantizeMultiplierGreaterThanOne`
    /// needs a multiplier above 1).
    pub fn new(input_scale: f32) -> Option<Self> {
        Self::with_beta(input_scale, 1.0)
    }

    /// The parameters of `softmax(beta · x)`, as TFLite's `SOFTMAX` with its `beta` option:
    /// `None` unless `beta · input_scale` (in `f64`) is above `2^-26` and both are finite.
    pub fn with_beta(input_scale: f32, beta: f32) -> Option<Self> {
        let real = (f64::from(beta) * f64::from(input_scale) * f64::from(1u32 << (31 - SCALED_DIFF_INTEGER_BITS)))
            .min(f64::from(i32::MAX));
        if !(input_scale.is_finite() && beta.is_finite() && real > 1.0) {
            return None;
        }
        // `QuantizeMultiplier` without the saturation at a shift of 30 that
        // `quantize_multiplier` applies: TFLite's default build gives a shift of 31 for the
        // capped multiplier, and `diff_min` depends on it.
        let (mantissa, shift) = arithmetic::fraction_and_exponent(real);
        let radius = (((1i64 << SCALED_DIFF_INTEGER_BITS) - 1) << (31 - SCALED_DIFF_INTEGER_BITS)) >> shift;
        Some(Self {
            input_multiplier: mantissa as i32,
            input_left_shift: shift as i8,
            diff_min: -(radius as i32),
        })
    }

    /// `exp(diff · input_scale)` in Q0.31 for a difference from the maximum that is at least
    /// `diff_min` (`MultiplyByQuantizedMultiplierGreaterThanOne`, then the exponential).
    #[inline(always)]
    fn exponential(&self, diff: i32) -> i32 {
        let shift = i32::from(self.input_left_shift).clamp(0, 31) as u32;
        exp_on_negative_values(saturating_rounding_doubling_high_mul(
            diff.wrapping_shl(shift),
            self.input_multiplier,
        ))
    }
}

/// gemmlowp's `SaturatingRoundingMultiplyByPOT` for a positive exponent: `x · 2^exponent`,
/// saturated to the `int32` range.
#[inline(always)]
fn saturating_shift_left(x: i32, exponent: u32) -> i32 {
    let threshold = (1i32 << (31 - exponent)) - 1;
    if x > threshold {
        i32::MAX
    } else if x < -threshold {
        i32::MIN
    } else {
        x << exponent
    }
}

/// gemmlowp's `RoundingHalfSum`: `(a + b) / 2`, rounded half away from zero.
#[inline(always)]
fn rounding_half_sum(a: i32, b: i32) -> i32 {
    let sum = i64::from(a) + i64::from(b);
    let sign = if sum >= 0 { 1 } else { -1 };
    ((sum + sign) / 2) as i32
}

/// gemmlowp's `exp_on_interval_between_negative_one_quarter_and_0_excl`: a Taylor expansion
/// around −1/8, Q0.31 to Q0.31.
#[inline(always)]
fn exp_on_interval_between_negative_one_quarter_and_zero(a: i32) -> i32 {
    const EXP_MINUS_ONE_EIGHTH: i32 = 1_895_147_668;
    const ONE_THIRD: i32 = 715_827_883;
    let x = a.wrapping_add(1 << 28);
    let x2 = saturating_rounding_doubling_high_mul(x, x);
    let x3 = saturating_rounding_doubling_high_mul(x2, x);
    let x4 = saturating_rounding_doubling_high_mul(x2, x2);
    let x4_over_4 = rounding_divide_by_power_of_two(x4, 2);
    let polynomial = rounding_divide_by_power_of_two(
        saturating_rounding_doubling_high_mul(x4_over_4.wrapping_add(x3), ONE_THIRD).wrapping_add(x2),
        1,
    );
    EXP_MINUS_ONE_EIGHTH.wrapping_add(saturating_rounding_doubling_high_mul(
        EXP_MINUS_ONE_EIGHTH,
        x.wrapping_add(polynomial),
    ))
}

/// gemmlowp's `exp_on_negative_values` for a Q5.26 input: Q0.31 `exp(a)`, from the expansion
/// on `a mod 1/4` and one factor `exp(-2^k)` per bit of the rest.
#[inline(always)]
fn exp_on_negative_values(a: i32) -> i32 {
    const FRACTIONAL_BITS: i32 = 31 - SCALED_DIFF_INTEGER_BITS;
    /// `(k, exp(-2^k) in Q0.31)`.
    const BARREL_SHIFTER: [(i32, i32); 7] = [
        (-2, 1_672_461_947),
        (-1, 1_302_514_674),
        (0, 790_015_084),
        (1, 290_630_308),
        (2, 39_332_535),
        (3, 720_401),
        (4, 242),
    ];
    let one_quarter = 1i32 << (FRACTIONAL_BITS - 2);
    let modulo_quarter_minus_quarter = (a & (one_quarter - 1)).wrapping_sub(one_quarter);
    let mut result = exp_on_interval_between_negative_one_quarter_and_zero(saturating_shift_left(
        modulo_quarter_minus_quarter,
        SCALED_DIFF_INTEGER_BITS as u32,
    ));
    let remainder = modulo_quarter_minus_quarter.wrapping_sub(a);
    for (exponent, multiplier) in BARREL_SHIFTER {
        if remainder & (1 << (FRACTIONAL_BITS + exponent)) != 0 {
            result = saturating_rounding_doubling_high_mul(result, multiplier);
        }
    }
    if a == 0 { i32::MAX } else { result }
}

/// gemmlowp's `one_over_one_plus_x_for_x_in_0_1`: Q0.31 `1 / (1 + a)` by three Newton–Raphson
/// steps in Q2.29.
#[inline(always)]
fn one_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    const FORTY_EIGHT_OVER_SEVENTEEN: i32 = 1_515_870_810;
    const MINUS_THIRTY_TWO_OVER_SEVENTEEN: i32 = -1_010_580_540;
    const ONE: i32 = 1 << 29;
    let half_denominator = rounding_half_sum(a, i32::MAX);
    let mut x = FORTY_EIGHT_OVER_SEVENTEEN.wrapping_add(saturating_rounding_doubling_high_mul(
        half_denominator,
        MINUS_THIRTY_TWO_OVER_SEVENTEEN,
    ));
    for _ in 0..3 {
        let one_minus_half_denominator_times_x =
            ONE.wrapping_sub(saturating_rounding_doubling_high_mul(half_denominator, x));
        x = x.wrapping_add(saturating_shift_left(
            saturating_rounding_doubling_high_mul(x, one_minus_half_denominator_times_x),
            2,
        ));
    }
    saturating_shift_left(x, 1)
}

impl<const R: usize, const B: usize> Int8Layer<SMatrix<i8, R, B>> for Int8Softmax {
    type Output = SMatrix<i8, R, B>;

    fn forward_in(&self, _: Int8Context, x: &SMatrix<i8, R, B>) -> SMatrix<i8, R, B> {
        let mut y = SMatrix::<i8, R, B>::from_element(i8::MIN);
        for (input, mut output) in x.column_iter().zip(y.column_iter_mut()) {
            let max = i32::from(input.iter().copied().max().unwrap_or(i8::MIN));
            let mut exponentials = [0i32; R];
            let mut sum = 0i32;
            for (e, &q) in exponentials.iter_mut().zip(input.iter()) {
                let diff = i32::from(q) - max;
                if diff >= self.diff_min {
                    *e = self.exponential(diff);
                    sum = sum.wrapping_add(rounding_divide_by_power_of_two(*e, ACCUMULATION_INTEGER_BITS));
                }
            }
            // `GetReciprocal`: the sum normalised to [1, 2), and 1 over it.
            let headroom = (sum as u32).leading_zeros();
            let normalised = (sum as u32).checked_shl(headroom).unwrap_or(0).wrapping_sub(1 << 31) as i32;
            let scale = one_over_one_plus_x_for_x_in_0_1(normalised);
            let exponent = (ACCUMULATION_INTEGER_BITS - headroom as i32 + 31 - 8).clamp(0, 31);
            for ((out, &e), &q) in output.iter_mut().zip(&exponentials).zip(input.iter()) {
                if i32::from(q) - max >= self.diff_min {
                    let unsaturated =
                        rounding_divide_by_power_of_two(saturating_rounding_doubling_high_mul(scale, e), exponent);
                    *out = (unsaturated + i32::from(i8::MIN)).clamp(-128, 127) as i8;
                }
            }
        }
        y
    }
}

/// `::static_nn::quantised::Int8Softmax { .. }`.
impl crate::ConstExpr for Int8Softmax {
    fn fmt_const(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("::static_nn::quantised::Int8Softmax { input_multiplier: ")?;
        crate::ConstExpr::fmt_const(&self.input_multiplier, f)?;
        f.write_str(", input_left_shift: ")?;
        crate::ConstExpr::fmt_const(&self.input_left_shift, f)?;
        f.write_str(", diff_min: ")?;
        crate::ConstExpr::fmt_const(&self.diff_min, f)?;
        f.write_str(" }")
    }
}

/// A trailing softmax becomes TFLite's: its input encoding is the previous layer's output
/// encoding, its output [`SOFTMAX_OUTPUT`].
#[cfg(feature = "alloc")]
impl<T: Real, const R: usize> Quantise<T, SMatrix<T, R, 1>> for Softmax {
    type Int8 = Int8Softmax;

    fn quantise(
        &self,
        calibration: &[SMatrix<T, R, 1>],
        context: QuantiseContext,
    ) -> Result<Converted<Int8Softmax, SMatrix<T, R, 1>>, QuantiseError> {
        let layer =
            Int8Softmax::new(context.input.scale).ok_or(QuantiseError::SoftmaxInputScale(context.input.scale))?;
        let outputs: Vec<_> = calibration.iter().map(|x| self.forward(x)).collect();
        Ok(Converted {
            layer,
            output: SOFTMAX_OUTPUT,
            calibration: outputs,
        })
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::Vector4;

    use super::*;

    #[test]
    fn parameters_follow_tflites_prepare_step() {
        // 0.1 · 2^26 = 6710886.4 = 0.8 · 2^23.
        let softmax = Int8Softmax::new(0.1).unwrap();
        let mantissa = libm::round(f64::from(0.1_f32) * f64::from(1u32 << 26) / f64::from(1u32 << 23) * 2f64.powi(31));
        assert_eq!(softmax.input_multiplier, mantissa as i32);
        assert_eq!(softmax.input_left_shift, 23);
        // floor(31 · 2^26 / 2^23) = 248.
        assert_eq!(softmax.diff_min, -248);
        // 16 · 2^26 = 2^30: shift 31, and only the maximum itself is in range.
        let large = Int8Softmax::new(16.0).unwrap();
        assert_eq!(
            (large.input_multiplier, large.input_left_shift, large.diff_min),
            (1 << 30, 31, 0)
        );
        // Capped at 2^31 − 1.
        let capped = Int8Softmax::new(1000.0).unwrap();
        assert_eq!((capped.input_multiplier, capped.input_left_shift), (i32::MAX, 31));
        assert_eq!(Int8Softmax::new(1.0 / (1u32 << 26) as f32), None);
        assert_eq!(Int8Softmax::new(f32::INFINITY), None);
        assert_eq!(Int8Softmax::new(-0.5), None);
    }

    #[test]
    fn fixed_point_functions_are_close_to_the_real_ones() {
        for raw in [-1, -(1 << 20), -(1 << 26), -(5 << 26) / 2, -(31 << 26)] {
            let exact = libm::exp(f64::from(raw) / f64::from(1u32 << 26));
            let found = f64::from(exp_on_negative_values(raw)) / 2f64.powi(31);
            // A fourth-order expansion around −1/8: within (1/8)^5 / 120.
            assert!((found - exact).abs() < 3e-7, "exp({raw}): {found} vs {exact}");
        }
        assert_eq!(exp_on_negative_values(0), i32::MAX);
        for x in [0.0, 0.25, 0.5, 0.999] {
            let raw = (x * 2f64.powi(31)) as i32;
            let found = f64::from(one_over_one_plus_x_for_x_in_0_1(raw)) / 2f64.powi(31);
            assert!((found - 1.0 / (1.0 + x)).abs() < 1e-8, "1 / (1 + {x}): {found}");
        }
    }

    /// TensorFlow Lite Micro's `Softmax2DQuantizedInt8ShouldMatchGolden`
    /// (`micro/kernels/softmax_test.cc`): inputs ±1..5 at scale 0.1, within its tolerance of 1
    /// of the quantised float softmax.
    #[test]
    fn tflite_micros_golden_rows_are_met() {
        let golden = [0.011656231_f64, 0.031684921, 0.086128544, 0.234121657, 0.636408647];
        let softmax = Int8Softmax::new(0.1).unwrap();
        let rows = nalgebra::Matrix5x2::from_columns(&[
            nalgebra::Vector5::new(10_i8, 20, 30, 40, 50),
            nalgebra::Vector5::new(-10_i8, -20, -30, -40, -50),
        ]);
        let y = softmax.forward(&rows);
        for (k, p) in golden.iter().enumerate() {
            let expected = libm::round(p * 256.0) as i32 - 128;
            assert!(
                (i32::from(y[(k, 0)]) - expected).abs() <= 1,
                "{k}: {} vs {expected}",
                y[(k, 0)]
            );
            assert!((i32::from(y[(4 - k, 1)]) - expected).abs() <= 1);
        }
    }

    #[test]
    fn equal_inputs_share_the_probability_and_extremes_saturate() {
        let softmax = Int8Softmax::new(0.05).unwrap();
        // Four equal values: 1/4 = 64/256 → 64 − 128.
        assert_eq!(
            softmax.forward(&Vector4::new(7_i8, 7, 7, 7)),
            Vector4::from_element(-64)
        );
        // One value far above the rest: probability 1 saturates to 255/256.
        assert_eq!(
            softmax.forward(&Vector4::new(127_i8, -128, -128, -128)),
            Vector4::new(127, -128, -128, -128)
        );
    }
}
