use crate::real::sigmoid_pair;
use crate::{Activation, Real};

/// `z σ(z)` (PyTorch's `SiLU`, also called swish).
///
/// The derivative `σ(z) (1 + z σ(-z))` uses both sigmoid factors from one exponential, so it
/// stays exact in both tails.
///
/// ```
/// use static_nn::{Activation, Silu};
/// assert_eq!(Silu.value(0.0_f32), 0.0);
/// assert_eq!(Silu.derivative(0.0_f64, 0.0), 0.5);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Zeroable)]
pub struct Silu;

impl<T: Real> Activation<T> for Silu {
    #[inline]
    fn value(&self, z: T) -> T {
        z * sigmoid_pair(z).0
    }
    #[inline]
    fn derivative(&self, z: T, _y: T) -> T {
        let (s, s_neg) = sigmoid_pair(z);
        s * (T::one() + z * s_neg)
    }
}

crate::elementwise_layer!(Silu);
crate::const_expr::const_path!(Silu, "::static_nn::Silu");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::activation::test_support::check_activation;

    #[test]
    fn values_match_literals() {
        assert!((Silu.value(1.0f64) - 0.7310585786300049).abs() < 1e-16);
        assert!((Silu.value(-2.0f64) - (-0.2384058440442351)).abs() < 1e-16);
        assert_eq!(Silu.value(-1000.0f64), 0.0);
        assert_eq!(Silu.value(1000.0f32), 1000.0);
        // σ(1)(1 + σ(-1)) = 0.7310585786300049 * 1.2689414213699951
        assert!((Silu.derivative(1.0f64, 0.0) - 0.9276705118714867).abs() < 1e-15);
    }

    #[test]
    fn gradient_and_batch() {
        check_activation(Silu, Silu, [-6.0, -2.0, -0.5, 0.0, 0.3, 1.0, 3.0, 8.0]);
    }
}
