//! The asymmetric per-tensor encoding of activations.

/// An affine `int8` encoding of a real tensor: `real = scale · (q − zero_point)`, TFLite's
/// per-tensor activation quantisation.
///
/// ```
/// use static_nn::quantised::Affine;
///
/// let affine = Affine::from_range(-1.0, 3.0);
/// assert_eq!(affine.zero_point, -64);
/// assert_eq!(affine.quantise(0.0), -64);
/// assert_eq!(affine.quantise(100.0), 127);
/// assert!((affine.dequantise(affine.quantise(1.5)) - 1.5).abs() <= affine.scale / 2.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
pub struct Affine {
    /// The real value of one step.
    pub scale: f32,
    /// The integer that stands for the real 0.
    pub zero_point: i8,
}

impl Affine {
    /// The encoding of `[min, max]` TFLite's converter chooses (`GetAsymmetricQuantizationParams`
    /// with `quant_min = -128`, `quant_max = 127`):
    ///
    /// ```text
    /// min = min(min, 0); max = max(max, 0)            // 0 must be exact
    /// scale = (max - min) / (quant_max - quant_min)
    /// zero_point_from_min = quant_min - min / scale
    /// zero_point = round(zero_point_from_min), clamped to [quant_min, quant_max]
    /// ```
    ///
    /// A range of zero width (every value 0) has scale 1, where TFLite would store 0: any scale
    /// encodes zeros, and a zero scale would make the next layer's multiplier infinite.
    pub fn from_range(min: f32, max: f32) -> Self {
        let (min, max) = (min.min(0.0), max.max(0.0));
        let scale = (max - min) / 255.0;
        if scale == 0.0 || !scale.is_finite() {
            return Self {
                scale: 1.0,
                zero_point: 0,
            };
        }
        let zero_point_from_min = -128.0 - min / scale;
        let zero_point = libm::roundf(zero_point_from_min).clamp(-128.0, 127.0) as i8;
        Self { scale, zero_point }
    }

    /// `clamp(round(x / scale) + zero_point, -128, 127)`, as TFLite's `AffineQuantize` (C's
    /// `round`: half away from zero).
    #[inline]
    pub fn quantise(&self, x: f32) -> i8 {
        // C's `round` without a call or a saturating conversion, so that the compiler vectorises
        // it over a batch: adding 1.5 · 2^23 rounds to the nearest integer (ties to even), held
        // in the low bits of the sum; the exact remainder `v - nearest` finds the ties, which
        // go away from zero. The clamp keeps the steps far inside that range; NaN encodes 0 steps
        // (what `roundf` then `as` gives).
        const ROUNDING: f32 = 12_582_912.0;
        let v = (x / self.scale).clamp(-1024.0, 1024.0);
        let v = if v.is_nan() { 0.0 } else { v };
        let shifted = v + ROUNDING;
        let nearest = shifted - ROUNDING;
        let remainder = v - nearest;
        let steps = (shifted.to_bits() as i32).wrapping_sub(ROUNDING.to_bits() as i32)
            + i32::from(remainder == 0.5 && v > 0.0)
            - i32::from(remainder == -0.5 && v < 0.0);
        (steps + i32::from(self.zero_point)).clamp(-128, 127) as i8
    }

    /// `scale · (q − zero_point)`.
    #[inline]
    pub fn dequantise(&self, q: i8) -> f32 {
        self.scale * (i32::from(q) - i32::from(self.zero_point)) as f32
    }
}

/// `::static_nn::quantised::Affine { scale: .., zero_point: .. }`.
impl crate::ConstExpr for Affine {
    fn fmt_const(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("::static_nn::quantised::Affine { scale: ")?;
        self.scale.fmt_const(f)?;
        f.write_str(", zero_point: ")?;
        self.zero_point.fmt_const(f)?;
        f.write_str(" }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_includes_zero_and_rounds_the_zero_point() {
        let positive = Affine::from_range(2.0, 5.1);
        assert_eq!(positive.zero_point, -128);
        assert_eq!(positive.scale, 5.1 / 255.0);
        let negative = Affine::from_range(-4.0, -1.0);
        assert_eq!(negative.zero_point, 127);
        // -128 + 127.5 = -0.5, a tie, rounded away from zero.
        let symmetric = Affine::from_range(-1.0, 1.0);
        assert_eq!(symmetric.zero_point, -1);
        assert_eq!(
            Affine::from_range(0.0, 0.0),
            Affine {
                scale: 1.0,
                zero_point: 0
            }
        );
    }

    #[test]
    fn quantise_rounds_half_away_from_zero_and_saturates() {
        let affine = Affine {
            scale: 0.5,
            zero_point: 3,
        };
        assert_eq!(affine.quantise(0.25), 4);
        assert_eq!(affine.quantise(-0.25), 2);
        assert_eq!(affine.quantise(1e9), 127);
        assert_eq!(affine.quantise(-1e9), -128);
        assert_eq!(affine.dequantise(5), 1.0);
    }

    #[test]
    fn quantise_rounds_as_roundf_does() {
        let affine = Affine {
            scale: 1.0,
            zero_point: -7,
        };
        let mut bits = 0x9E37_79B9_u32;
        let random = core::iter::repeat_with(move || {
            bits ^= bits << 13;
            bits ^= bits >> 17;
            bits ^= bits << 5;
            (bits as i32) as f32 / 8_388_608.0 * 5.0
        });
        let ties = [
            0.5,
            -0.5,
            1.5,
            -2.5,
            0.499_999_97,
            -0.499_999_97,
            126.5,
            f32::NAN,
            1e30,
            -1e30,
        ];
        let halves = (-1300..1300).map(|k| k as f32 + 0.5);
        let samples = ties.into_iter().chain(halves).chain(random.take(100_000));
        for x in samples {
            let expected = (libm::roundf(x).clamp(-1024.0, 1024.0) as i32 - 7).clamp(-128, 127) as i8;
            assert_eq!(affine.quantise(x), expected, "{x}");
        }
    }
}
