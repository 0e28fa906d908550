use nalgebra::SMatrix;

use crate::{Loss, Real};

/// Huber loss with threshold `delta` (PyTorch's `HuberLoss`, default δ = 1), averaged over every
/// entry.
///
/// For a residual `r = y − t`: `½ r²` if `|r| < δ`, else `δ (|r| − ½ δ)`. Gradient: `r / N`
/// inside, `δ sign(r) / N` outside: quadratic near the target, linear (robust to outliers) far
/// from it.
///
/// ```
/// use static_nn::{Huber, Loss};
/// use static_nn::nalgebra::Vector2;
/// let loss = Huber::new(1.0).value(&Vector2::new(0.5_f64, 3.0), &Vector2::new(0.0, 0.0));
/// assert_eq!(loss, (0.125 + 2.5) / 2.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Huber<T> {
    /// Where the loss turns from quadratic to linear.
    pub delta: T,
}

impl<T: Real> Huber<T> {
    /// A Huber loss with the given threshold.
    pub const fn new(delta: T) -> Self {
        Self { delta }
    }
}

impl<T: Real> Default for Huber<T> {
    /// δ = 1, as PyTorch.
    fn default() -> Self {
        Self::new(T::one())
    }
}

impl<T: Real, const R: usize, const B: usize> Loss<T, SMatrix<T, R, B>> for Huber<T> {
    type Target = SMatrix<T, R, B>;

    fn value(&self, y: &SMatrix<T, R, B>, target: &SMatrix<T, R, B>) -> T {
        let delta = self.delta.to_f64();
        let terms = y.iter().zip(target.iter()).map(|(&y, &t)| {
            let r = (y.to_f64() - t.to_f64()).abs();
            if r < delta {
                0.5 * r * r
            } else {
                delta * (r - 0.5 * delta)
            }
        });
        crate::loss::mean_of(R * B, terms)
    }

    fn value_and_gradient(&self, y: &SMatrix<T, R, B>, target: &SMatrix<T, R, B>) -> (T, SMatrix<T, R, B>) {
        let inv_n = T::one() / T::of((R * B) as f64);
        let grad = y.zip_map(target, |y, t| {
            let r = y - t;
            let clipped = if r.abs() < self.delta {
                r
            } else {
                self.delta * r.signum()
            };
            clipped * inv_n
        });
        (self.value(y, target), grad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::test_support::check_loss;

    #[test]
    fn value_matches_literal() {
        let y = SMatrix::<f64, 2, 2>::new(0.0, 1.0, 4.0, -2.0);
        let t = SMatrix::<f64, 2, 2>::new(0.5, 0.0, 0.0, 0.0);
        // delta 2: r = -0.5, 1, 4, -2 -> 0.125, 0.5, 2*(4-1) = 6, 2*(2-1) = 2
        assert_eq!(Huber::new(2.0).value(&y, &t), (0.125 + 0.5 + 6.0 + 2.0) / 4.0);
    }

    #[test]
    fn gradient_check() {
        // Residuals kept away from the kinks at ±delta.
        let y = SMatrix::<f64, 3, 2>::new(0.3, -2.5, 1.7, 0.0, 4.0, -0.6);
        let t = SMatrix::<f64, 3, 2>::zeros();
        check_loss(&Huber::new(1.5), &y, &t);
    }

    #[test]
    fn f32_mean_near_the_largest_float_does_not_overflow() {
        // Each entry's loss is about 1e38 and so is their mean; their sum is not an f32.
        let y = SMatrix::<f32, 2, 2>::from_element(1e38);
        let (loss, grad) = Huber::new(1.0).value_and_gradient(&y, &SMatrix::zeros());
        assert_eq!(loss, (1e38_f64 - 0.5) as f32);
        assert_eq!(grad, SMatrix::<f32, 2, 2>::from_element(0.25));
        assert_eq!(Huber::new(1.0).value(&y, &(-y)), 2e38);
        let far = SMatrix::<f32, 2, 2>::from_element(3e38);
        assert_eq!(
            Huber::new(1.0).value(&far, &(-far)),
            f32::INFINITY,
            "a mean of 6e38 is not an f32"
        );
    }
}
