use crate::ActivationKind;
use crate::{Activation, Real};

/// The hyperbolic tangent.
///
/// The value is [`Real::tanh_branchless`]: within 2 ulp of the correctly rounded `tanh` over
/// the whole range (C libraries' `tanhf` is not correctly rounded either), and free of branches
/// and calls, so a layer's loop compiles to vector instructions: W1's 2-16-16-1 inference spent
/// 90% of its time in `tanhf`. `tanh(±x)` is exactly ±1 from `|x| ≈ 9` (`f32`) or 19 (`f64`)
/// on, and odd: `tanh(-x) = -tanh(x)`.
///
/// The derivative is `1/cosh² z = 4 s (1 − s)` with `s = σ(−2|z|)` from
/// [`Real::sigmoid_branchless`], also branch-free: within 4 ulp of the exact value (measured:
/// 2 in `f32`, 4 in `f64`) down to `1e-37` (`f32`) or `1e-300` (`f64`), including where
/// `1 − tanh² z` would cancel to 0 (from `|z| ≈ 9` in `f32`, 19 in `f64`). It is at most 1
/// (at 0) and decays like `4e^(-2|z|)`: the vanishing gradient of a saturated unit. Beyond
/// `|z| ≈ 44` (`f32`) or 354 (`f64`) it stays at about `2e-38` (`5e-308`) instead of decaying
/// further: an absolute error of at most that.
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
        z.tanh_branchless()
    }
    #[inline]
    fn derivative(&self, z: T, _y: T) -> T {
        let s = (-(z.abs() + z.abs())).sigmoid_branchless();
        T::of(4.0) * s * (T::one() - s)
    }
    /// Saturating, steepest at 0 where `tanh'(0) = 1`.
    fn kind(&self) -> ActivationKind {
        ActivationKind::Saturating { max_derivative: 1.0 }
    }
}

crate::elementwise_layer!(Tanh);
crate::const_expr::const_path!(Tanh, "::static_nn::Tanh");

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

    /// Distance in units in the last place between two finite, positive values.
    fn ulps<F: Into<f64> + Copy>(a: F, b: F, bits: fn(F) -> u64) -> u64 {
        bits(a).abs_diff(bits(b))
    }

    #[test]
    fn value_is_odd_and_derivative_within_4_ulp() {
        let (mut worst32, mut worst64) = (0, 0);
        for i in 0..=40_000 {
            let z = -43.0 + 86.0 * f64::from(i) / 40_000.0;
            // 4e/(1+e)² with e = e^(-2|z|): the formula before the branch-free one, 1-2 ulp.
            let e = (-2.0 * z.abs()).exp();
            let reference = 4.0 * e / ((1.0 + e) * (1.0 + e));
            worst64 = worst64.max(ulps(Tanh.derivative(z, 0.0), reference, f64::to_bits));
            let z32 = z as f32;
            let exact32 = (1.0 / (f64::from(z32).cosh() * f64::from(z32).cosh())) as f32;
            let to_bits = |v: f32| u64::from(v.to_bits());
            worst32 = worst32.max(ulps(Tanh.derivative(z32, 0.0), exact32, to_bits));
            assert_eq!(Tanh.value(-z), -Tanh.value(z));
            assert_eq!(Tanh.value(-z32), -Tanh.value(z32));
        }
        assert!(worst32 <= 4 && worst64 <= 4, "f32 {worst32} ulp, f64 {worst64} ulp");
        // Far out the derivative stays at the bottom of the normal range instead of decaying.
        assert!(Tanh.derivative(60.0f32, 1.0) < 3e-38);
        assert!(Tanh.derivative(400.0f64, 1.0) < 5e-308);
    }

    #[test]
    fn gradient_and_batch() {
        check_activation(Tanh, Tanh, [-4.0, -1.5, -0.5, 0.0, 0.2, 0.9, 2.0, 5.0]);
    }
}
