//! The last time step of a sequence.

use bytemuck::Zeroable;

use crate::{Layer, Real, Stream, Tensors};

/// Keeps the last time step of a sequence: `[X; N] → X`, e.g. a recurrent layer's final
/// hidden state (PyTorch's `output[-1]`, which for a one-layer [`Gru`](crate::Gru) is `h_n`).
///
/// Backward puts `dy` at the last step and zero everywhere else. When streaming it passes every
/// frame through, so each frame's output is what the whole-sequence forward would give if the
/// sequence ended there. A sequence of length 0 does not compile (`cargo build`; see
/// [`Conv1d`](crate::Conv1d) on when such checks fire).
///
/// ```
/// use static_nn::{Layer, LastStep};
/// use static_nn::nalgebra::Vector2;
/// let sequence = [Vector2::new(1.0_f32, 2.0), Vector2::new(3.0, 4.0)];
/// assert_eq!(LastStep.forward(&sequence), Vector2::new(3.0, 4.0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Zeroable)]
pub struct LastStep;

crate::parameter_free_layer!(LastStep);
crate::const_expr::const_path!(LastStep, "::static_nn::LastStep");

impl<T: Real, X: Tensors<T> + Zeroable + Clone, const N: usize> Layer<T, [X; N]> for LastStep {
    type Output = X;
    type Cache = ();

    #[inline]
    fn forward(&self, x: &[X; N]) -> X {
        const { assert!(N > 0, "LastStep needs a sequence of at least one step") };
        x[N - 1].clone()
    }

    fn forward_train(&self, x: &[X; N], _cache: &mut ()) -> X {
        Layer::<T, [X; N]>::forward(self, x)
    }

    fn backward(&self, _x: &[X; N], _y: &X, _cache: &(), dy: &X, _grad: &mut ()) -> [X; N] {
        const { assert!(N > 0, "LastStep needs a sequence of at least one step") };
        let mut dx = <[X; N]>::zeroed();
        dx[N - 1] = dy.clone();
        dx
    }
}

impl<T: Real, X: Clone> Stream<T, X> for LastStep {
    type Output = X;
    type State = ();

    #[inline]
    fn step(&self, x: &X, _state: &mut ()) -> X {
        x.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GradCheck;
    use nalgebra::SMatrix;

    #[test]
    fn forward_backward_and_gradient() {
        let x: [SMatrix<f64, 2, 3>; 4] = core::array::from_fn(|t| SMatrix::from_fn(|i, j| (t * 6 + i * 3 + j) as f64));
        assert_eq!(LastStep.forward(&x), x[3]);
        let dy = SMatrix::<f64, 2, 3>::from_element(0.5);
        let dx = LastStep.backward(&x, &x[3], &(), &dy, &mut ());
        assert_eq!(dx[3], dy);
        assert!(dx[..3].iter().all(|d| d.iter().all(|&v| v == 0.0)));
        let report = GradCheck::default().strict().layer(&LastStep, &x);
        assert!(report.passed(), "{report}");
        let mut state = ();
        assert_eq!(Stream::<f64, _>::step(&LastStep, &x[1], &mut state), x[1]);
    }
}
