//! `int8` tanh and sigmoid through 256-entry tables.

#[cfg(feature = "alloc")]
use alloc::vec::Vec;
use nalgebra::SMatrix;

use super::{Affine, Int8Context, Int8Layer};
#[cfg(feature = "alloc")]
use super::{Converted, Quantise, QuantiseContext, QuantiseError};
#[cfg(feature = "alloc")]
use crate::{Layer, Real, Sigmoid, Tanh};

/// An elementwise function of an `int8` input as a table of its 256 outputs, as TFLite runs
/// int8 `TANH` and `LOGISTIC` (`LUTPopulate`, then `output = lut[128 + input]`).
///
/// The table is filled at conversion, in `f32`, from the input encoding and the output encoding
/// TFLite's specification fixes (tanh: scale 1/128, zero point 0; logistic: scale 1/256, zero
/// point −128):
///
/// ```text
/// for q in -128..=127:
///     dequantized = input_scale * (q - input_zero_point)
///     transformed = f(dequantized)
///     rescaled = round(transformed * (1 / output_scale))
///     lut[q + 128] = clamp(rescaled + output_zero_point, -128, 127)
/// ```
///
/// ```
/// use static_nn::quantised::{Affine, Int8Layer, Int8Lookup};
/// use nalgebra::Vector2;
///
/// let tanh = Int8Lookup::tanh(Affine { scale: 0.05, zero_point: 0 });
/// // tanh(0) = 0, tanh(127 · 0.05) ≈ 0.99999 → 127 (of 1/128).
/// assert_eq!(tanh.forward(&Vector2::new(0_i8, 127)), Vector2::new(0, 127));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, bytemuck::Zeroable)]
pub struct Int8Lookup {
    /// The output for input `q` at index `q + 128`.
    pub table: [i8; 256],
}

/// The output encoding TFLite's specification fixes for int8 `TANH`.
pub const TANH_OUTPUT: Affine = Affine {
    scale: 1.0 / 128.0,
    zero_point: 0,
};
/// The output encoding TFLite's specification fixes for int8 `LOGISTIC`.
pub const SIGMOID_OUTPUT: Affine = Affine {
    scale: 1.0 / 256.0,
    zero_point: -128,
};

impl Int8Lookup {
    /// The table of `f` from the `input` encoding to the `output` encoding (`LUTPopulate`).
    pub fn new(input: Affine, output: Affine, f: impl Fn(f32) -> f32) -> Self {
        let inverse_scale = 1.0 / output.scale;
        let mut table = [0i8; 256];
        for (entry, q) in table.iter_mut().zip(-128i32..=127) {
            let dequantized = input.scale * (q - i32::from(input.zero_point)) as f32;
            let rescaled = libm::roundf(f(dequantized) * inverse_scale);
            let quantized = rescaled.clamp(-1024.0, 1024.0) as i32 + i32::from(output.zero_point);
            *entry = quantized.clamp(-128, 127) as i8;
        }
        Self { table }
    }

    /// Tanh from `input` to [`TANH_OUTPUT`] (`libm`'s `tanhf`, the same on every target).
    pub fn tanh(input: Affine) -> Self {
        Self::new(input, TANH_OUTPUT, libm::tanhf)
    }

    /// The logistic function `1 / (1 + e^-x)` from `input` to [`SIGMOID_OUTPUT`].
    pub fn sigmoid(input: Affine) -> Self {
        Self::new(input, SIGMOID_OUTPUT, |x| 1.0 / (1.0 + libm::expf(-x)))
    }

    /// The output for one input.
    #[inline(always)]
    pub fn get(&self, q: i8) -> i8 {
        self.table[(i32::from(q) + 128) as usize]
    }
}

impl<const R: usize, const B: usize> Int8Layer<SMatrix<i8, R, B>> for Int8Lookup {
    type Output = SMatrix<i8, R, B>;

    #[inline(always)]
    fn forward_in(&self, _: Int8Context, x: &SMatrix<i8, R, B>) -> SMatrix<i8, R, B> {
        x.map(|q| self.get(q))
    }
}

/// `::static_nn::quantised::Int8Lookup { table: [..] }`.
impl crate::ConstExpr for Int8Lookup {
    fn fmt_const(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("::static_nn::quantised::Int8Lookup { table: ")?;
        crate::ConstExpr::fmt_const(&self.table, f)?;
        f.write_str(" }")
    }
}

/// Converts an elementwise layer to a table with the given output encoding.
macro_rules! lookup_conversion {
    ($layer:ty, $constructor:ident, $output:expr) => {
        #[cfg(feature = "alloc")]
        impl<T: Real, const R: usize> Quantise<T, SMatrix<T, R, 1>> for $layer {
            type Int8 = Int8Lookup;

            fn quantise(
                &self,
                calibration: &[SMatrix<T, R, 1>],
                context: QuantiseContext,
            ) -> Result<Converted<Int8Lookup, SMatrix<T, R, 1>>, QuantiseError> {
                let outputs: Vec<_> = calibration.iter().map(|x| self.forward(x)).collect();
                Ok(Converted {
                    layer: Int8Lookup::$constructor(context.input),
                    output: $output,
                    calibration: outputs,
                })
            }
        }
    };
}

lookup_conversion!(Tanh, tanh, TANH_OUTPUT);
lookup_conversion!(Sigmoid, sigmoid, SIGMOID_OUTPUT);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_table_spans_the_fixed_output_encoding() {
        let sigmoid = Int8Lookup::sigmoid(Affine {
            scale: 0.1,
            zero_point: 10,
        });
        // q = 10 is the real 0: sigmoid 0.5 = 128 / 256 → 128 − 128 = 0.
        assert_eq!(sigmoid.get(10), 0);
        assert_eq!(sigmoid.get(-128), -128);
        // sigmoid(11.7) · 256 = 255.998 → 256 − 128 = 128, saturated to 127.
        assert_eq!(sigmoid.get(127), 127);
        assert!(sigmoid.table.windows(2).all(|pair| pair[0] <= pair[1]));
    }
}
