use crate::{Activation, Real};

/// `z` for `z > 0`, else `α (e^z − 1)` (PyTorch's `ELU`, default α = 1).
///
/// `e^z − 1` is computed with `exp_m1`, exact near 0. The derivative for `z ≤ 0` is `α e^z`.
///
/// ```
/// use static_nn::{Activation, Elu};
/// let f = Elu::<f64>::default();
/// assert_eq!(f.value(2.0), 2.0);
/// assert!((f.value(-1.0) - (-0.6321205588285577)).abs() < 1e-16);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
pub struct Elu<T> {
    /// The saturation value for very negative inputs is `-alpha`.
    pub alpha: T,
}

impl<T: Real> Elu<T> {
    /// An ELU with the given α.
    pub const fn new(alpha: T) -> Self {
        Self { alpha }
    }
}

impl<T: Real> Default for Elu<T> {
    /// α = 1, as PyTorch.
    fn default() -> Self {
        Self::new(T::one())
    }
}

impl<T: Real> Activation<T> for Elu<T> {
    #[inline]
    fn value(&self, z: T) -> T {
        if z > T::zero() { z } else { self.alpha * z.exp_m1() }
    }
    #[inline]
    fn derivative(&self, z: T, _y: T) -> T {
        if z > T::zero() { T::one() } else { self.alpha * z.exp() }
    }
}

crate::elementwise_layer!(Elu<T>);

/// `Elu::new(alpha)`, for [`format::rust_source`](crate::format::rust_source).
impl<T: Real> crate::ConstExpr for Elu<T> {
    fn fmt_const(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("::static_nn::Elu::new(")?;
        crate::const_expr::fmt_real(self.alpha, f)?;
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::activation::test_support::check_activation;

    #[test]
    fn values_match_literals() {
        let f = Elu::new(2.0f64);
        assert!((f.value(-0.5) - 2.0 * -0.3934693402873666).abs() < 1e-16);
        assert_eq!(f.value(-1000.0), -2.0);
        assert!((f.derivative(-0.5, 0.0) - 2.0 * 0.6065306597126334).abs() < 1e-16);
    }

    #[test]
    fn gradient_and_batch() {
        check_activation(
            Elu::default(),
            Elu::<f32>::default(),
            [-3.0, -1.0, -0.5, -0.1, 0.1, 0.7, 2.0, 5.0],
        );
        check_activation(
            Elu::new(0.5),
            Elu::new(0.5f32),
            [-3.0, -1.0, -0.5, -0.1, 0.1, 0.7, 2.0, 5.0],
        );
    }
}
