use crate::ActivationKind;
use crate::{Activation, Real};

/// The rectifier `max(z, 0)`. Its derivative at 0 is 0, as in PyTorch.
///
/// A unit whose input is negative for every sample passes no gradient at all: a "dead" unit.
///
/// ```
/// use static_nn::{Activation, Relu};
/// assert_eq!(Relu.value(-2.0_f32), 0.0);
/// assert_eq!(Relu.derivative(0.0_f32, 0.0), 0.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Zeroable)]
pub struct Relu;

impl<T: Real> Activation<T> for Relu {
    #[inline]
    fn value(&self, z: T) -> T {
        if z > T::zero() { z } else { T::zero() }
    }
    #[inline]
    fn derivative(&self, z: T, _y: T) -> T {
        if z > T::zero() { T::one() } else { T::zero() }
    }
    fn kind(&self) -> ActivationKind {
        ActivationKind::Rectifying
    }
}

crate::elementwise_layer!(Relu);
crate::const_expr::const_path!(Relu, "::static_nn::Relu");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::activation::test_support::check_activation;

    #[test]
    fn values_match_literals() {
        assert_eq!(Relu.value(3.5f64), 3.5);
        assert_eq!(Relu.value(-3.5f64), 0.0);
        assert_eq!(Relu.derivative(1e-300f64, 1e-300), 1.0);
    }

    #[test]
    fn gradient_and_batch() {
        check_activation(Relu, Relu, [-3.0, -1.0, -0.5, -0.1, 0.1, 0.7, 2.0, 5.0]);
    }
}
