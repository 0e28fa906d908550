//! ReLU on `int8` values.

#[cfg(feature = "alloc")]
use alloc::vec::Vec;
use nalgebra::SMatrix;

#[cfg(feature = "alloc")]
use super::{Converted, Quantise, QuantiseContext, QuantiseError};
use super::{Int8Context, Int8Layer};
#[cfg(feature = "alloc")]
use crate::{Layer, Real, Relu};

/// ReLU in the `int8` domain: `max(q, zero_point)`, with the output encoded as the input.
///
/// After an [`Int8Dense`](super::Int8Dense) the conversion has already folded ReLU into that
/// layer's clamp (TFLite's fused activation), so this clamp changes nothing there; after any
/// other layer it is the whole of ReLU.
///
/// ```
/// use static_nn::quantised::{Int8Layer, Int8Relu};
/// use nalgebra::Vector3;
///
/// let relu = Int8Relu { zero_point: -5 };
/// assert_eq!(relu.forward(&Vector3::new(-128_i8, -5, 7)), Vector3::new(-5, -5, 7));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Zeroable)]
pub struct Int8Relu {
    /// The integer of the real 0 in the input's (and output's) encoding.
    pub zero_point: i8,
}

impl<const R: usize, const B: usize> Int8Layer<SMatrix<i8, R, B>> for Int8Relu {
    type Output = SMatrix<i8, R, B>;

    #[inline(always)]
    fn forward_in(&self, _: Int8Context, x: &SMatrix<i8, R, B>) -> SMatrix<i8, R, B> {
        x.map(|q| q.max(self.zero_point))
    }
}

/// `::static_nn::quantised::Int8Relu { zero_point: .. }`.
impl crate::ConstExpr for Int8Relu {
    fn fmt_const(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("::static_nn::quantised::Int8Relu { zero_point: ")?;
        crate::ConstExpr::fmt_const(&self.zero_point, f)?;
        f.write_str(" }")
    }
}

#[cfg(feature = "alloc")]
impl<T: Real, const R: usize> Quantise<T, SMatrix<T, R, 1>> for Relu {
    type Int8 = Int8Relu;

    fn clamp(&self) -> Option<(f32, f32)> {
        Some((0.0, f32::INFINITY))
    }

    fn quantise(
        &self,
        calibration: &[SMatrix<T, R, 1>],
        context: QuantiseContext,
    ) -> Result<Converted<Int8Relu, SMatrix<T, R, 1>>, QuantiseError> {
        let outputs: Vec<_> = calibration.iter().map(|x| self.forward(x)).collect();
        Ok(Converted {
            layer: Int8Relu {
                zero_point: context.input.zero_point,
            },
            output: context.input,
            calibration: outputs,
        })
    }
}
