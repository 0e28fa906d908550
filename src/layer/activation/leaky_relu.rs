use crate::ActivationKind;
use crate::{Activation, Real};

/// `z` for `z > 0`, else `slope · z` (PyTorch's `LeakyReLU`, default slope 0.01).
///
/// ```
/// use static_nn::{Activation, LeakyRelu};
/// let f = LeakyRelu::<f64>::default();
/// assert_eq!(f.value(-2.0), -0.02);
/// assert_eq!(LeakyRelu::new(0.5).derivative(-1.0_f64, -0.5), 0.5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Zeroable)]
pub struct LeakyRelu<T> {
    /// The slope for negative inputs.
    pub slope: T,
}

impl<T: Real> LeakyRelu<T> {
    /// A leaky rectifier with the given negative slope.
    pub const fn new(slope: T) -> Self {
        Self { slope }
    }
}

impl<T: Real> Default for LeakyRelu<T> {
    /// Slope 0.01, as PyTorch.
    fn default() -> Self {
        Self::new(T::of(0.01))
    }
}

impl<T: Real> Activation<T> for LeakyRelu<T> {
    #[inline]
    fn value(&self, z: T) -> T {
        if z > T::zero() { z } else { self.slope * z }
    }
    #[inline]
    fn derivative(&self, z: T, _y: T) -> T {
        if z > T::zero() { T::one() } else { self.slope }
    }
    /// Rectifying; with a slope other than 0 its units never die, which is what it is for.
    fn kind(&self) -> ActivationKind {
        ActivationKind::Rectifying
    }
}

crate::elementwise_layer!(LeakyRelu<T>);

/// `LeakyRelu::new(slope)`, for [`format::rust_source`](crate::format::rust_source).
impl<T: Real> crate::ConstExpr for LeakyRelu<T> {
    fn fmt_const(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("::static_nn::LeakyRelu::new(")?;
        crate::const_expr::fmt_real(self.slope, f)?;
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::activation::test_support::check_activation;

    #[test]
    fn values_match_literals() {
        let f = LeakyRelu::new(0.2f64);
        assert_eq!(f.value(3.0), 3.0);
        assert_eq!(f.value(-3.0), -0.6000000000000001);
        assert_eq!(LeakyRelu::<f32>::default().slope, 0.01);
    }

    #[test]
    fn gradient_and_batch() {
        check_activation(
            LeakyRelu::new(0.2),
            LeakyRelu::new(0.2f32),
            [-3.0, -1.0, -0.5, -0.1, 0.1, 0.7, 2.0, 5.0],
        );
    }
}
