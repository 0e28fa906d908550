//! Average pooling over time.

use nalgebra::SMatrix;

use crate::ConstExpr;
use crate::{Layer, Real};

/// The mean of each window of `K` steps, per channel and sample, windows `S` steps apart
/// (PyTorch's `nn.AvgPool1d(K, stride=S)`, no padding, `ceil_mode=False`; the stride defaults to
/// `K` as in PyTorch), on sequences of length `LI`, giving length `LO = (LI − K) / S + 1`
/// (rounded down).
///
/// `LO` is written out and checked at compile time, as for [`Conv1d`](crate::Conv1d) (the
/// check fires in `cargo build`, not `cargo check`).
///
/// Backward: every step of a window receives `dy / K`, added where windows overlap. No cache.
///
/// ```
/// use static_nn::{AvgPool1d, Layer};
/// use static_nn::nalgebra::Vector1;
/// let x = [1.0_f32, 3.0, 2.0, 0.0, 5.0].map(Vector1::new);
/// assert_eq!(AvgPool1d::<2, 5, 2>.forward(&x), [2.0, 1.0].map(Vector1::new));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Zeroable)]
pub struct AvgPool1d<const K: usize, const LI: usize, const LO: usize, const S: usize = K>;

impl<const K: usize, const LI: usize, const LO: usize, const S: usize> AvgPool1d<K, LI, LO, S> {
    /// The shape rules; evaluated wherever the layer computes.
    const CHECK: () = {
        assert!(K > 0 && S > 0, "AvgPool1d: kernel size and stride must be positive");
        assert!(LI >= K, "AvgPool1d: the input is shorter than the kernel");
        assert!(LO == (LI - K) / S + 1, "AvgPool1d: LO must be (LI − K) / stride + 1");
    };
}

crate::parameter_free_layer!([const K: usize, const LI: usize, const LO: usize, const S: usize] AvgPool1d<K, LI, LO, S>);

/// `AvgPool1d` (the sizes come from the declared type), for
/// [`format::rust_source`](crate::format::rust_source).
impl<const K: usize, const LI: usize, const LO: usize, const S: usize> ConstExpr for AvgPool1d<K, LI, LO, S> {
    fn fmt_const(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("::static_nn::AvgPool1d")
    }
}

impl<T: Real, const K: usize, const LI: usize, const LO: usize, const S: usize, const C: usize, const B: usize>
    Layer<T, [SMatrix<T, C, B>; LI]> for AvgPool1d<K, LI, LO, S>
{
    type Output = [SMatrix<T, C, B>; LO];
    type Cache = ();

    fn forward(&self, x: &[SMatrix<T, C, B>; LI]) -> Self::Output {
        let () = Self::CHECK;
        let scale = T::one() / T::of(K as f64);
        core::array::from_fn(|t| {
            let mut sum = x[t * S];
            for x_p in &x[t * S + 1..t * S + K] {
                sum += x_p;
            }
            sum * scale
        })
    }

    fn forward_train(&self, x: &[SMatrix<T, C, B>; LI], _cache: &mut ()) -> Self::Output {
        self.forward(x)
    }

    fn backward(
        &self,
        _x: &[SMatrix<T, C, B>; LI],
        _y: &Self::Output,
        _cache: &(),
        dy: &Self::Output,
        _grad: &mut (),
    ) -> [SMatrix<T, C, B>; LI] {
        let () = Self::CHECK;
        let scale = T::one() / T::of(K as f64);
        let mut dx = [SMatrix::zeros(); LI];
        for (t, dy_t) in dy.iter().enumerate() {
            let share = dy_t * scale;
            for dx_p in &mut dx[t * S..t * S + K] {
                *dx_p += share;
            }
        }
        dx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GradCheck;

    #[test]
    fn forward_matches_window_means_and_gradients_check() {
        let x: [SMatrix<f64, 2, 3>; 8] = core::array::from_fn(|t| SMatrix::from_fn(|c, b| (t * 6 + c * 3 + b) as f64));
        let y = AvgPool1d::<3, 8, 3, 2>.forward(&x);
        // Entry (1, 2) of steps 2, 3, 4: 17, 23, 29.
        assert!((y[1][(1, 2)] - 23.0).abs() < 1e-14);
        let y = AvgPool1d::<4, 8, 2>.forward(&x);
        assert!((y[1][(0, 0)] - (24.0 + 30.0 + 36.0 + 42.0) / 4.0).abs() < 1e-14);
        let report = GradCheck::default().strict().layer(&AvgPool1d::<3, 8, 3, 2>, &x);
        assert!(report.passed(), "{report}");
        let report = GradCheck::default().strict().layer(&AvgPool1d::<1, 1, 1>, &[x[0]]);
        assert!(report.passed(), "{report}");
    }
}
