use crate::{Activation, Real};

/// The exact GELU `z Φ(z)`, with `Φ` the standard normal distribution function (PyTorch's
/// `GELU(approximate='none')`).
///
/// `Φ(z)` is computed as `erfc(-z/√2)/2`, which keeps its relative precision for negative `z`
/// (PyTorch's `(1 + erf(z/√2))/2` cancels there); the two agree to rounding elsewhere. The
/// derivative is `Φ(z) + z φ(z)` with `φ` the normal density.
///
/// ```
/// use static_nn::{Activation, Gelu};
/// assert!((Gelu.value(1.0_f64) - 0.8413447460685429).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Zeroable)]
pub struct Gelu;

const FRAC_1_SQRT_2: f64 = core::f64::consts::FRAC_1_SQRT_2;
/// 1/√(2π).
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

#[inline]
fn normal_cdf<T: Real>(z: T) -> T {
    T::of(0.5) * (-z * T::of(FRAC_1_SQRT_2)).erfc()
}

impl<T: Real> Activation<T> for Gelu {
    #[inline]
    fn value(&self, z: T) -> T {
        z * normal_cdf(z)
    }
    #[inline]
    fn derivative(&self, z: T, _y: T) -> T {
        let density = T::of(FRAC_1_SQRT_2PI) * (-T::of(0.5) * z * z).exp();
        normal_cdf(z) + z * density
    }
}

crate::elementwise_layer!(Gelu);
crate::const_expr::const_path!(Gelu, "::static_nn::Gelu");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::activation::test_support::check_activation;

    #[test]
    fn values_match_literals() {
        // 0.5 z (1 + erf(z / sqrt 2)), from PyTorch's formula in high precision.
        assert!((Gelu.value(-1.0f64) - (-0.15865525393145707)).abs() < 1e-16);
        assert!((Gelu.value(2.0f64) - 1.9544997361036416).abs() < 1e-15);
        assert_eq!(Gelu.value(-1000.0f64), 0.0);
        assert_eq!(Gelu.value(1000.0f64), 1000.0);
        // Φ(1) + φ(1) = 0.8413447460685429 + 0.24197072451914337
        assert!((Gelu.derivative(1.0f64, 0.0) - 1.0833154705876864).abs() < 1e-15);
    }

    #[test]
    fn gradient_and_batch() {
        check_activation(Gelu, Gelu, [-4.0, -1.5, -0.5, 0.0, 0.2, 0.9, 2.0, 5.0]);
    }
}
