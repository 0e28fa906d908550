use crate::ActivationKind;
use crate::real::sigmoid_pair;
use crate::{Activation, Real};

/// The logistic function `σ(z) = 1 / (1 + e^-z)`.
///
/// Forward uses `1/(1+e^-z)` for `z ≥ 0` and `e^z/(1+e^z)` below, so `σ(±1000)` is exactly 1 and
/// 0 with no overflow. The derivative is `σ(z) σ(-z)`, both factors exact: `σ'(40) ≈ 4.25e-18`
/// where `y (1 - y)` would give 0. That is the vanishing gradient of a saturated unit, not a
/// rounding artefact: it is at most 1/4 (at 0), so stacked sigmoids shrink gradients.
///
/// ```
/// use static_nn::{Activation, Sigmoid};
/// assert_eq!(Sigmoid.value(0.0_f64), 0.5);
/// assert!((Sigmoid.derivative(40.0_f64, 1.0) - 4.248354255291589e-18).abs() < 1e-30);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Zeroable)]
pub struct Sigmoid;

impl<T: Real> Activation<T> for Sigmoid {
    #[inline]
    fn value(&self, z: T) -> T {
        sigmoid_pair(z).0
    }
    #[inline]
    fn derivative(&self, z: T, _y: T) -> T {
        let (s, s_neg) = sigmoid_pair(z);
        s * s_neg
    }
    /// Saturating, steepest at 0 where `σ'(0) = 1/4`.
    fn kind(&self) -> ActivationKind {
        ActivationKind::Saturating { max_derivative: 0.25 }
    }
}

crate::elementwise_layer!(Sigmoid);
crate::const_expr::const_path!(Sigmoid, "::static_nn::Sigmoid");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::activation::test_support::check_activation;

    #[test]
    fn values_match_literals_and_stay_finite() {
        assert_eq!(Sigmoid.value(0.0f64), 0.5);
        assert!((Sigmoid.value(2.0f64) - 0.8807970779778823).abs() < 1e-16);
        assert!((Sigmoid.value(-2.0f64) - 0.11920292202211755).abs() < 1e-16);
        assert_eq!(Sigmoid.value(1000.0f64), 1.0);
        assert_eq!(Sigmoid.value(-1000.0f64), 0.0);
        assert_eq!(Sigmoid.value(1000.0f32), 1.0);
        assert_eq!(Sigmoid.value(-1000.0f32), 0.0);
        // e^-40 / (1 + e^-40): exact to rounding, not lost in 1 - σ.
        assert!((Sigmoid.value(-40.0f64) / 4.248354255291589e-18 - 1.0).abs() < 1e-15);
    }

    #[test]
    fn saturated_derivative_is_exact_not_zero() {
        let d = Sigmoid.derivative(40.0f64, 1.0);
        assert!((d / 4.248354255291589e-18 - 1.0).abs() < 1e-14, "{d}");
        assert_eq!(Sigmoid.derivative(-40.0f64, 0.0), d);
        assert!(Sigmoid.derivative(40.0f32, 1.0) > 0.0);
        assert_eq!(Sigmoid.derivative(1000.0f64, 1.0), 0.0);
        assert_eq!(Sigmoid.derivative(0.0f64, 0.5), 0.25);
    }

    #[test]
    fn gradient_and_batch() {
        check_activation(Sigmoid, Sigmoid, [-6.0, -2.0, -0.5, 0.0, 0.3, 1.0, 3.0, 8.0]);
    }
}
