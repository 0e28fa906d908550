use crate::diagnostics::ActivationKind;
use crate::{Activation, Real};

/// The hyperbolic tangent.
///
/// The derivative is computed as `1/cosh² z = 4e/(1+e)²` with `e = e^(-2|z|)`, exact to rounding
/// even where `1 - tanh² z` would cancel to 0 (|z| ≳ 19 in `f64`, 9 in `f32`). It is at most 1
/// (at 0) and decays like `4e^(-2|z|)`: the vanishing gradient of a saturated unit.
///
/// ```
/// use static_nn::{Activation, Tanh};
/// assert_eq!(Tanh.derivative(0.0_f64, 0.0), 1.0);
/// assert!(Tanh.derivative(20.0_f64, 1.0) > 0.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Zeroable)]
pub struct Tanh;

impl<T: Real> Activation<T> for Tanh {
    #[inline]
    fn value(&self, z: T) -> T {
        z.tanh()
    }
    #[inline]
    fn derivative(&self, z: T, _y: T) -> T {
        let e = (-(z.abs() + z.abs())).exp();
        let one_plus = T::one() + e;
        T::of(4.0) * e / (one_plus * one_plus)
    }
    /// Saturating, steepest at 0 where `tanh'(0) = 1`.
    fn kind(&self) -> ActivationKind {
        ActivationKind::Saturating { max_derivative: 1.0 }
    }
}

crate::elementwise_layer!(Tanh);
crate::format::const_path!(Tanh, "::static_nn::Tanh");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::activation::test_support::check_activation;

    #[test]
    fn values_match_literals() {
        assert!((Tanh.value(0.5f64) - 0.46211715726000974).abs() < 1e-16);
        assert_eq!(Tanh.value(1000.0f64), 1.0);
        assert_eq!(Tanh.value(-1000.0f32), -1.0);
        // 1/cosh²(1) = 0.41997434161402614
        assert!((Tanh.derivative(1.0f64, 0.0) - 0.41997434161402614).abs() < 2e-16);
        // 1/cosh²(20) = 1.6993417021166355e-17, where 1 - tanh² is 0.
        assert!((Tanh.derivative(20.0f64, 1.0) / 1.6993417021166355e-17 - 1.0).abs() < 1e-14);
    }

    #[test]
    fn gradient_and_batch() {
        check_activation(Tanh, Tanh, [-4.0, -1.5, -0.5, 0.0, 0.2, 0.9, 2.0, 5.0]);
    }
}
