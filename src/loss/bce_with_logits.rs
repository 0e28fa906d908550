use nalgebra::SMatrix;

use crate::real::sigmoid_pair;
use crate::{Loss, Real};

/// Binary cross-entropy on logits (PyTorch's `BCEWithLogitsLoss`), averaged over every entry.
///
/// Each entry contributes `max(z, 0) − z t + ln(1 + e^−|z|)`, the form that never
/// exponentiates a positive number, so logits of ±1000 give finite, exact values. Gradient:
/// `(σ(z) − t) / N`. Targets may be soft (any value in `[0, 1]`). The mean is taken as `f64`
/// terms each divided by `N`, so an `f32` loss overflows only where the mean itself does.
///
/// ```
/// use static_nn::{BceWithLogits, Loss};
/// use static_nn::nalgebra::Vector2;
/// let loss = BceWithLogits.value(&Vector2::new(0.0_f64, 0.0), &Vector2::new(1.0, 0.0));
/// assert!((loss - 2f64.ln()).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BceWithLogits;

/// One entry's loss, in `f64` so that `z t` cannot overflow for `f32` values; `ln(1 + e^−|z|)`
/// lies in `[0, ln 2]` and is computed in `T`.
#[inline]
fn entry<T: Real>(z: T, t: T) -> f64 {
    let softplus = (-z.abs()).exp().ln_1p().to_f64();
    let (z, t) = (z.to_f64(), t.to_f64());
    z.max(0.0) - z * t + softplus
}

impl<T: Real, const R: usize, const B: usize> Loss<T, SMatrix<T, R, B>> for BceWithLogits {
    type Target = SMatrix<T, R, B>;

    fn value(&self, y: &SMatrix<T, R, B>, target: &SMatrix<T, R, B>) -> T {
        crate::loss::mean_of(R * B, y.iter().zip(target.iter()).map(|(&z, &t)| entry(z, t)))
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

    #[test]
    fn f32_mean_near_the_largest_float_does_not_overflow() {
        let z = SMatrix::<f32, 2, 2>::from_element(-1e38);
        let (loss, grad) = BceWithLogits.value_and_gradient(&z, &SMatrix::from_element(1.0));
        assert_eq!(loss, 1e38);
        assert_eq!(grad, SMatrix::<f32, 2, 2>::from_element(-0.25));
        assert_eq!(BceWithLogits.value(&z, &SMatrix::from_element(4.0)), f32::INFINITY);
    }
}
