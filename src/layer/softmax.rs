//! Softmax over the features of each sample.

use nalgebra::SMatrix;

use crate::{Layer, Real, Stream};

/// `y_i = e^(z_i) / Σ_j e^(z_j)` over the rows of each column (each sample), as
/// `torch.softmax(z, dim=features)`.
///
/// The largest entry is subtracted before exponentiating, so inputs of ±1000 give exact
/// probabilities instead of overflow. Backward: `∂L/∂z = y ⊙ (dy − (dy · y))` per column.
///
/// For classification, prefer feeding logits to [`CrossEntropy`](crate::CrossEntropy), which
/// fuses the softmax with the loss and is exact where a separate softmax would underflow.
///
/// ```
/// use static_nn::{Layer, Softmax};
/// use static_nn::nalgebra::Vector3;
/// let p = Softmax.forward(&Vector3::new(1000.0_f64, 1000.0, -1000.0));
/// assert_eq!(p, Vector3::new(0.5, 0.5, 0.0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Zeroable)]
pub struct Softmax;

crate::parameter_free_layer!(Softmax);
crate::const_expr::const_path!(Softmax, "::static_nn::Softmax");

impl<T: Real, const R: usize, const C: usize> Layer<T, SMatrix<T, R, C>> for Softmax {
    type Output = SMatrix<T, R, C>;
    type Cache = ();

    fn forward(&self, x: &SMatrix<T, R, C>) -> SMatrix<T, R, C> {
        let mut y = *x;
        for mut column in y.column_iter_mut() {
            let max = column.max();
            column.apply(|v| *v = (*v - max).exp());
            let sum = column.sum();
            column /= sum;
        }
        y
    }

    fn forward_train(&self, x: &SMatrix<T, R, C>, _cache: &mut ()) -> SMatrix<T, R, C> {
        self.forward(x)
    }

    fn backward(
        &self,
        _x: &SMatrix<T, R, C>,
        y: &SMatrix<T, R, C>,
        _cache: &(),
        dy: &SMatrix<T, R, C>,
        _grad: &mut (),
    ) -> SMatrix<T, R, C> {
        let mut dx = *dy;
        for (mut d, y_col) in dx.column_iter_mut().zip(y.column_iter()) {
            let dot = d.dot(&y_col);
            d.add_scalar_mut(-dot);
            d.component_mul_assign(&y_col);
        }
        dx
    }
}

/// Frame by frame, softmax is itself: it keeps no state.
impl<T: Real, const R: usize, const C: usize> Stream<T, SMatrix<T, R, C>> for Softmax {
    type Output = SMatrix<T, R, C>;
    type State = ();

    fn step(&self, x: &SMatrix<T, R, C>, _state: &mut ()) -> SMatrix<T, R, C> {
        self.forward(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GradCheck;
    use nalgebra::{Vector3, Vector4};

    #[test]
    fn values_match_literals_and_stay_exact_at_extremes() {
        let p = Softmax.forward(&Vector3::new(1.0f64, 2.0, 3.0));
        let e = [1f64.exp(), 2f64.exp(), 3f64.exp()];
        let s: f64 = e.iter().sum();
        for i in 0..3 {
            assert!((p[i] - e[i] / s).abs() < 1e-15 * p[i]);
        }
        assert!((p[0] - 0.09003057317038046).abs() < 1e-16);
        let q = Softmax.forward(&Vector4::new(-1000.0f32, 1000.0, 0.0, 1000.0));
        assert_eq!(q, Vector4::new(0.0, 0.5, 0.0, 0.5));
    }

    #[test]
    fn gradient_check() {
        let x = SMatrix::<f64, 4, 3>::from_fn(|i, j| ((i * 3 + j) as f64 * 0.37).sin() * 2.0);
        let report = GradCheck::default().strict().layer(&Softmax, &x);
        assert!(report.passed(), "{report}");
    }

    #[test]
    fn batch_equals_single_samples() {
        let x = SMatrix::<f64, 4, 3>::from_fn(|i, j| (i as f64) - (j as f64) * 0.5);
        let y = Softmax.forward(&x);
        for b in 0..3 {
            let xb: SMatrix<f64, 4, 1> = x.column(b).into();
            assert_eq!(Softmax.forward(&xb), y.column(b));
        }
    }
}
