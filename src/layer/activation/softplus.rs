use crate::real::sigmoid_pair;
use crate::{Activation, Real};

/// `ln(1 + e^z)`, and `z` itself for `z > 20`, as PyTorch's `Softplus` (β = 1, threshold 20).
///
/// Below the threshold it is `ln_1p(e^z)`, exact for very negative `z` (where `e^z` underflows the
/// result is 0, the correctly rounded value). The derivative is `σ(z)`, and 1 above the
/// threshold, matching PyTorch's backward.
///
/// ```
/// use static_nn::{Activation, Softplus};
/// assert!((Softplus.value(0.0_f64) - std::f64::consts::LN_2).abs() < 1e-16);
/// assert_eq!(Softplus.value(1000.0_f32), 1000.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Zeroable)]
pub struct Softplus;

const THRESHOLD: f64 = 20.0;

impl<T: Real> Activation<T> for Softplus {
    #[inline]
    fn value(&self, z: T) -> T {
        if z > T::of(THRESHOLD) { z } else { z.exp().ln_1p() }
    }
    #[inline]
    fn derivative(&self, z: T, _y: T) -> T {
        if z > T::of(THRESHOLD) {
            T::one()
        } else {
            sigmoid_pair(z).0
        }
    }
}

crate::elementwise_layer!(Softplus);
crate::const_expr::const_path!(Softplus, "::static_nn::Softplus");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::activation::test_support::check_activation;

    #[test]
    fn values_match_literals_and_stay_finite() {
        assert!((Softplus.value(1.0f64) - 1.3132616875182228).abs() < 1e-15);
        assert!((Softplus.value(-30.0f64) / 9.357622968839737e-14 - 1.0).abs() < 1e-14);
        assert_eq!(Softplus.value(-1000.0f64), 0.0);
        assert_eq!(Softplus.value(1000.0f64), 1000.0);
        assert_eq!(Softplus.value(21.0f32), 21.0);
        assert_eq!(Softplus.derivative(1000.0f64, 1000.0), 1.0);
        assert_eq!(Softplus.derivative(-1000.0f64, 0.0), 0.0);
    }

    #[test]
    fn gradient_and_batch() {
        check_activation(Softplus, Softplus, [-25.0, -3.0, -0.5, 0.0, 0.4, 2.0, 10.0, 19.0]);
    }
}
