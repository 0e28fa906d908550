use nalgebra::SMatrix;

use crate::{Loss, Real};

/// Mean squared error, `mean((y − t)²)` over every entry (PyTorch's `MSELoss`).
///
/// Gradient: `2 (y − t) / N`, with `N = R · B` entries.
///
/// ```
/// use static_nn::{Loss, Mse};
/// use static_nn::nalgebra::Vector2;
/// let (loss, grad) = Mse.value_and_gradient(&Vector2::new(1.0_f64, 3.0), &Vector2::new(0.0, 1.0));
/// assert_eq!(loss, 2.5);
/// assert_eq!(grad, Vector2::new(1.0, 2.0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mse;

impl<T: Real, const R: usize, const B: usize> Loss<T, SMatrix<T, R, B>> for Mse {
    type Target = SMatrix<T, R, B>;

    #[inline]
    fn value(&self, y: &SMatrix<T, R, B>, target: &SMatrix<T, R, B>) -> T {
        // Over the storage slices, which the compiler unrolls; nalgebra's iterator was a call.
        let terms = y.as_slice().iter().zip(target.as_slice()).map(|(&y, &t)| {
            let r = y.to_f64() - t.to_f64();
            r * r
        });
        crate::loss::mean_of(R * B, terms)
    }

    #[inline]
    fn value_and_gradient(&self, y: &SMatrix<T, R, B>, target: &SMatrix<T, R, B>) -> (T, SMatrix<T, R, B>) {
        let n = T::of((R * B) as f64);
        (self.value(y, target), (y - target) * (T::of(2.0) / n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::test_support::check_loss;

    #[test]
    fn value_matches_literal() {
        let y = SMatrix::<f64, 2, 2>::new(1.0, 2.0, 3.0, 4.0);
        let t = SMatrix::<f64, 2, 2>::new(0.0, 2.0, 5.0, 3.0);
        assert_eq!(Mse.value(&y, &t), (1.0 + 0.0 + 4.0 + 1.0) / 4.0);
    }

    #[test]
    fn gradient_check() {
        let y = SMatrix::<f64, 3, 2>::new(0.5, -1.0, 2.0, 0.1, 0.2, -0.3);
        let t = SMatrix::<f64, 3, 2>::new(0.0, 1.0, 1.5, -0.5, 0.25, 0.0);
        check_loss(&Mse, &y, &t);
    }

    #[test]
    fn f32_mean_near_the_largest_float_does_not_overflow() {
        let y = SMatrix::<f32, 2, 2>::from_element(1e19);
        let (loss, grad) = Mse.value_and_gradient(&y, &SMatrix::zeros());
        assert_eq!(loss, 1e38);
        assert_eq!(grad, SMatrix::<f32, 2, 2>::from_element(5e18));
    }
}
