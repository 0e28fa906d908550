//! TensorFlow Lite's fixed-point requantisation: a real multiplier `M` becomes an `int32`
//! mantissa and a power-of-two exponent, and an `int32` accumulator is multiplied by it with two
//! integer roundings, exactly as `tensorflow/lite/kernels/internal/common.h` and
//! `quantization_util.cc` do (without `TFLITE_SINGLE_ROUNDING`, TFLite's default).

/// `QuantizeMultiplier`: `(mantissa, shift)` with `multiplier ≈ mantissa · 2^(shift − 31)` and
/// `mantissa` in `[2^30, 2^31)` (or 0).
///
/// TFLite: `q = frexp(double_multiplier, shift)`, `q_fixed = round(q · 2^31)`; if `q_fixed` is
/// `2^31` it is halved and `shift` incremented; a `shift` below −31 gives `(0, 0)` (the
/// multiplier is too small to matter) and one above 30 saturates to `(2^31 − 1, 30)`. `round` is C's, half away from zero, as Rust's
/// [`f64::round`]. A zero, negative or non-finite multiplier gives `(0, 0)`; the quantiser never
/// asks for one.
pub fn quantize_multiplier(multiplier: f64) -> (i32, i32) {
    if !(multiplier.is_finite() && multiplier > 0.0) {
        return (0, 0);
    }
    let (fixed, shift) = fraction_and_exponent(multiplier);
    if shift < -31 {
        return (0, 0);
    }
    if shift > 30 {
        return (i32::MAX, 30);
    }
    (fixed as i32, shift)
}

/// The first half of `QuantizeMultiplier`: `frexp`, the fraction rounded to 31 bits, and a
/// fraction that rounded up to `2^31` halved with its exponent incremented. Callers bound the
/// exponent as their TFLite kernel does.
pub(crate) fn fraction_and_exponent(multiplier: f64) -> (i64, i32) {
    let (fraction, mut shift) = libm::frexp(multiplier);
    let mut fixed = libm::round(fraction * (1u64 << 31) as f64) as i64;
    if fixed == 1 << 31 {
        fixed /= 2;
        shift += 1;
    }
    (fixed, shift)
}

/// gemmlowp's `SaturatingRoundingDoublingHighMul`: the high 32 bits of `2 a b`, rounded.
///
/// ```text
/// overflow = a == b && a == INT32_MIN
/// nudge = ab >= 0 ? 1 << 30 : 1 - (1 << 30)
/// result = overflow ? INT32_MAX : (int32)((ab + nudge) / (1ll << 31))
/// ```
/// The division truncates toward zero, so a tie rounds away from zero for a positive product
/// and toward zero for a negative one (`-1.5 → -1`); the tests pin that down.
///
/// Computed as `(ab + 2^30) >> 31` (an arithmetic shift, which floors): for `ab >= 0` that is
/// the truncated quotient above, and for `ab < 0` the truncated (ceiling) quotient of
/// `ab + 1 − 2^30` is the floor of `(ab + 1 − 2^30 + 2^31 − 1) / 2^31`, the same. One add and a
/// shift instead of a sign-dependent nudge and a signed division, which matters on a
/// microcontroller (tests/quantised_reference.rs checks it against exact rational arithmetic).
///
/// The overflow needs no test of its own: every product but `INT32_MIN²` is at least
/// `−2^31 (2^31 − 1)` and at most `2^31 (2^31 − 1)`, so `(ab + 2^30) >> 31` lies in
/// `[1 − 2^31, 2^31 − 1]`; only `INT32_MIN²` reaches `2^31`, which becomes `INT32_MIN` in
/// `int32`, and one subtraction (wrapping) makes that `INT32_MAX`. Branch-free, which saves a
/// compare and two branches per output on a Cortex-M.
#[inline(always)]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    let high = ((a as i64 * b as i64 + (1 << 30)) >> 31) as i32;
    high.wrapping_sub(i32::from(high == i32::MIN))
}

/// gemmlowp's `RoundingDivideByPOT`: `x / 2^exponent`, rounded to nearest with ties away from
/// zero.
///
/// ```text
/// mask = (1 << exponent) - 1
/// remainder = x & mask
/// threshold = (mask >> 1) + (x < 0 ? 1 : 0)
/// result = (x >> exponent) + (remainder > threshold ? 1 : 0)
/// ```
/// `exponent` is in `0..=31`.
#[inline(always)]
pub fn rounding_divide_by_power_of_two(x: i32, exponent: i32) -> i32 {
    let mask = (1i32 << exponent).wrapping_sub(1);
    let remainder = x & mask;
    let threshold = (mask >> 1) + i32::from(x < 0);
    (x >> exponent) + i32::from(remainder > threshold)
}

/// TFLite's `MultiplyByQuantizedMultiplier(x, quantized_multiplier, shift)`: `x` times the
/// multiplier that [`quantize_multiplier`] encoded.
///
/// ```text
/// left_shift = shift > 0 ? shift : 0
/// right_shift = shift > 0 ? 0 : -shift
/// RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x * (1 << left_shift), quantized_multiplier), right_shift)
/// ```
/// The left shift wraps as `int32` arithmetic does on the hardware TFLite targets. Shifts
/// beyond 31 either way (which [`quantize_multiplier`] never produces) are taken as 31, so that
/// hand-written or loaded parameters cannot make the shift overflow.
#[inline(always)]
#[allow(
    clippy::manual_clamp,
    reason = "max then min is one `usat` on a Cortex-M4; `clamp`'s compares and selects were ten instructions"
)]
pub fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    let left = shift.max(0).min(31);
    let right = (-shift).max(0).min(31);
    rounding_divide_by_power_of_two(
        saturating_rounding_doubling_high_mul(x.wrapping_shl(left as u32), multiplier),
        right,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplier_encodes_mantissa_and_exponent() {
        assert_eq!(quantize_multiplier(0.5), (1 << 30, 0));
        assert_eq!(quantize_multiplier(0.25), (1 << 30, -1));
        assert_eq!(quantize_multiplier(0.75), (3 << 29, 0));
        // Just below 1: the mantissa rounds up to 2^31, which is halved.
        assert_eq!(quantize_multiplier(1.0 - 1e-12), (1 << 30, 1));
        assert_eq!(quantize_multiplier(1e-12), (0, 0));
        assert_eq!(quantize_multiplier(1e12), (i32::MAX, 30));
        assert_eq!(quantize_multiplier(0.0), (0, 0));
    }

    #[test]
    fn high_mul_rounds_ties_by_sign_and_saturates() {
        // 2ab / 2^32 = ab / 2^31; with b = 2^30 that is a / 2.
        assert_eq!(saturating_rounding_doubling_high_mul(3, 1 << 30), 2);
        assert_eq!(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);
        assert_eq!(saturating_rounding_doubling_high_mul(1, 1 << 30), 1);
        assert_eq!(saturating_rounding_doubling_high_mul(-1, 1 << 30), 0);
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN), i32::MAX);
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, i32::MAX), -i32::MAX);
    }

    #[test]
    fn divide_by_power_of_two_rounds_ties_away_from_zero() {
        assert_eq!(rounding_divide_by_power_of_two(3, 1), 2);
        assert_eq!(rounding_divide_by_power_of_two(-3, 1), -2);
        assert_eq!(rounding_divide_by_power_of_two(5, 2), 1);
        assert_eq!(rounding_divide_by_power_of_two(-5, 2), -1);
        assert_eq!(rounding_divide_by_power_of_two(6, 2), 2);
        assert_eq!(rounding_divide_by_power_of_two(-6, 2), -2);
        assert_eq!(rounding_divide_by_power_of_two(7, 0), 7);
        assert_eq!(rounding_divide_by_power_of_two(i32::MIN, 31), -1);
    }

    #[test]
    fn multiply_applies_the_encoded_multiplier() {
        let (m, s) = quantize_multiplier(0.1);
        assert_eq!(multiply_by_quantized_multiplier(1000, m, s), 100);
        assert_eq!(multiply_by_quantized_multiplier(-1004, m, s), -100);
        let (m, s) = quantize_multiplier(3.0);
        assert_eq!(multiply_by_quantized_multiplier(7, m, s), 21);
    }
}
