use nalgebra::SMatrix;

use crate::layer::activation::sigmoid_pair;
use crate::{Loss, Real};

/// Binary cross-entropy on logits (PyTorch's `BCEWithLogitsLoss`), averaged over every entry.
///
/// Each entry contributes `max(z, 0) − z t + ln(1 + e^−|z|)`, the form that never
/// exponentiates a positive number, so logits of ±1000 give finite, exact values. Gradient:
/// `(σ(z) − t) / N`. Targets may be soft (any value in `[0, 1]`).
///
/// ```
/// use static_nn::{BceWithLogits, Loss};
/// use static_nn::nalgebra::Vector2;
/// let loss = BceWithLogits.value(&Vector2::new(0.0_f64, 0.0), &Vector2::new(1.0, 0.0));
/// assert!((loss - 2f64.ln()).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BceWithLogits;

#[inline]
fn entry<T: Real>(z: T, t: T) -> T {
    let positive = if z > T::zero() { z } else { T::zero() };
    positive - z * t + (-z.abs()).exp().ln_1p()
}

impl<T: Real, const R: usize, const B: usize> Loss<T, SMatrix<T, R, B>> for BceWithLogits {
    type Target = SMatrix<T, R, B>;

    fn value(&self, y: &SMatrix<T, R, B>, target: &SMatrix<T, R, B>) -> T {
        let total = y.zip_fold(target, T::zero(), |s, z, t| s + entry(z, t));
        total / T::of((R * B) as f64)
    }

    fn value_and_gradient(&self, y: &SMatrix<T, R, B>, target: &SMatrix<T, R, B>) -> (T, SMatrix<T, R, B>) {
        let inv_n = T::one() / T::of((R * B) as f64);
        let grad = y.zip_map(target, |z, t| (sigmoid_pair(z).0 - t) * inv_n);
        (self.value(y, target), grad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::test_support::check_loss;
    use nalgebra::Vector2;

    #[test]
    fn value_matches_literal() {
        // t=1, z=2: ln(1 + e^-2) = 0.12692801104297263; t=0, z=-1: ln(1 + e^-1) = 0.31326168751822286
        let loss = BceWithLogits.value(&Vector2::new(2.0f64, -1.0), &Vector2::new(1.0, 0.0));
        assert!((loss - (0.12692801104297263 + 0.31326168751822286) / 2.0).abs() < 1e-16);
    }

    #[test]
    fn extreme_logits_give_finite_exact_loss_and_gradient() {
        let y = Vector2::new(1000.0f64, -1000.0);
        let (loss, grad) = BceWithLogits.value_and_gradient(&y, &Vector2::new(0.0, 0.0));
        assert_eq!(loss, 500.0);
        assert_eq!(grad, Vector2::new(0.5, 0.0));
        // Both confidently wrong: 1000 each.
        let (loss, grad) = BceWithLogits.value_and_gradient(&y.map(|v| v as f32), &Vector2::new(0.0, 1.0));
        assert_eq!(loss, 1000.0);
        assert_eq!(grad, Vector2::new(0.5, -0.5));
    }

    #[test]
    fn gradient_check() {
        let y = SMatrix::<f64, 2, 3>::new(0.5, -1.0, 2.0, 3.0, -0.2, 0.0);
        let t = SMatrix::<f64, 2, 3>::new(1.0, 0.0, 0.3, 1.0, 0.0, 0.5);
        check_loss(&BceWithLogits, &y, &t);
    }
}
