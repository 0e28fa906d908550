//! A clamp of `int8` values to an interval: ReLU6 and ReLU(−1, 1) as TFLite runs them.

use nalgebra::SMatrix;

use super::{Affine, Int8Context, Int8Layer};

/// `min(max(q, min), max)` with the output encoded as the input: TensorFlow Lite Micro's
/// standalone int8 `RELU6` (`Relu6Quantized` with `zero` and `six` from `Relu6Prepare`), and any
/// other clamp of real values to an interval.
///
/// ```
/// use static_nn::quantised::{Affine, Int8Clamp, Int8Layer};
/// use nalgebra::Vector4;
///
/// // Scale 0.1, zero point −10: real 0 is −10 and real 6 is 50.
/// let relu6 = Int8Clamp::relu6(Affine { scale: 0.1, zero_point: -10 });
/// assert_eq!(relu6, Int8Clamp { min: -10, max: 50 });
/// assert_eq!(relu6.forward(&Vector4::new(-128_i8, 0, 50, 127)), Vector4::new(-10, 0, 50, 50));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Zeroable)]
pub struct Int8Clamp {
    /// The smallest output.
    pub min: i8,
    /// The largest output (below `min`, every output is `max`, as `min(max(q, min), max)` gives).
    pub max: i8,
}

/// TFLite Micro's `FloatToQuantizedType`: `round(value / scale) + zero_point` in `f32`, rounded
/// half away from zero, clamped to the `int8` range.
fn quantize(value: f32, encoding: Affine) -> i8 {
    let steps = libm::roundf(value / encoding.scale).clamp(-1024.0, 1024.0) as i32;
    (steps + i32::from(encoding.zero_point)).clamp(-128, 127) as i8
}

impl Int8Clamp {
    /// The clamp of real values to `[low, high]` in the `encoding` of the input (and output).
    pub fn new(encoding: Affine, low: f32, high: f32) -> Self {
        Self {
            min: quantize(low, encoding),
            max: quantize(high, encoding),
        }
    }

    /// ReLU6, `min(max(x, 0), 6)`, as TFLite Micro's `Relu6Prepare` sets it up: `zero` is the
    /// zero point, `six` is 6 quantised.
    pub fn relu6(encoding: Affine) -> Self {
        Self {
            min: encoding.zero_point,
            max: quantize(6.0, encoding),
        }
    }
}

impl<const R: usize, const B: usize> Int8Layer<SMatrix<i8, R, B>> for Int8Clamp {
    type Output = SMatrix<i8, R, B>;

    #[inline(always)]
    fn forward_in(&self, _: Int8Context, x: &SMatrix<i8, R, B>) -> SMatrix<i8, R, B> {
        x.map(|q| q.max(self.min).min(self.max))
    }
}

/// `::static_nn::quantised::Int8Clamp { min: .., max: .. }`.
impl crate::ConstExpr for Int8Clamp {
    fn fmt_const(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("::static_nn::quantised::Int8Clamp { min: ")?;
        crate::ConstExpr::fmt_const(&self.min, f)?;
        f.write_str(", max: ")?;
        crate::ConstExpr::fmt_const(&self.max, f)?;
        f.write_str(" }")
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::Vector3;

    use super::*;

    #[test]
    fn bounds_round_half_away_from_zero_and_saturate() {
        let encoding = Affine {
            scale: 0.4,
            zero_point: 3,
        };
        // 1 / 0.4 = 2.5 → 3; −1 / 0.4 = −2.5 → −3.
        assert_eq!(Int8Clamp::new(encoding, -1.0, 1.0), Int8Clamp { min: 0, max: 6 });
        let fine = Affine {
            scale: 0.01,
            zero_point: 100,
        };
        // 6 / 0.01 = 600 steps: saturated at 127.
        assert_eq!(Int8Clamp::relu6(fine), Int8Clamp { min: 100, max: 127 });
        let empty = Int8Clamp { min: 5, max: -5 };
        assert_eq!(empty.forward(&Vector3::new(-128_i8, 0, 127)), Vector3::from_element(-5));
    }
}
