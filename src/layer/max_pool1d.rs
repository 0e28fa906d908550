//! Max pooling over time.

use nalgebra::SMatrix;

use crate::ConstExpr;
use crate::{Layer, Real};

/// The largest value in each window of `K` steps, per channel and sample, windows `S` steps
/// apart (PyTorch's `nn.MaxPool1d(K, stride=S)`, no padding, dilation 1, `ceil_mode=False`;
/// the stride defaults to `K` as in PyTorch), on sequences of length `LI`, giving length
/// `LO = (LI − K) / S + 1` (rounded down).
///
/// `LO` is written out and checked at compile time, as for [`Conv1d`](crate::Conv1d) (the
/// check fires in `cargo build`, not `cargo check`).
///
/// Backward sends each `dy` to the first step holding its window's maximum (PyTorch's choice on
/// ties) and adds where windows overlap. Nothing is cached: backward finds the maxima again
/// in the input.
///
/// ```
/// use static_nn::{Layer, MaxPool1d};
/// use static_nn::nalgebra::Vector1;
/// let x = [1.0_f32, 3.0, 2.0, 0.0, 5.0].map(Vector1::new);
/// let y = MaxPool1d::<2, 5, 2>.forward(&x);
/// assert_eq!(y, [3.0, 2.0].map(Vector1::new));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Zeroable)]
pub struct MaxPool1d<const K: usize, const LI: usize, const LO: usize, const S: usize = K>;

impl<const K: usize, const LI: usize, const LO: usize, const S: usize> MaxPool1d<K, LI, LO, S> {
    /// The shape rules; evaluated wherever the layer computes.
    const CHECK: () = {
        assert!(K > 0 && S > 0, "MaxPool1d: kernel size and stride must be positive");
        assert!(LI >= K, "MaxPool1d: the input is shorter than the kernel");
        assert!(LO == (LI - K) / S + 1, "MaxPool1d: LO must be (LI − K) / stride + 1");
    };

    /// The step of the first maximum of `x[t·S .. t·S + K]` in entry `(c, b)`.
    #[inline]
    fn argmax<T: Real, const C: usize, const B: usize>(
        x: &[SMatrix<T, C, B>; LI],
        t: usize,
        c: usize,
        b: usize,
    ) -> usize {
        let mut best = t * S;
        for p in t * S + 1..t * S + K {
            if x[p][(c, b)] > x[best][(c, b)] {
                best = p;
            }
        }
        best
    }
}

crate::parameter_free_layer!([const K: usize, const LI: usize, const LO: usize, const S: usize] MaxPool1d<K, LI, LO, S>);

/// `MaxPool1d` (the sizes come from the declared type), for
/// [`format::rust_source`](crate::format::rust_source).
impl<const K: usize, const LI: usize, const LO: usize, const S: usize> ConstExpr for MaxPool1d<K, LI, LO, S> {
    fn fmt_const(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("::static_nn::MaxPool1d")
    }
}

impl<T: Real, const K: usize, const LI: usize, const LO: usize, const S: usize, const C: usize, const B: usize>
    Layer<T, [SMatrix<T, C, B>; LI]> for MaxPool1d<K, LI, LO, S>
{
    type Output = [SMatrix<T, C, B>; LO];
    type Cache = ();

    fn forward(&self, x: &[SMatrix<T, C, B>; LI]) -> Self::Output {
        let () = Self::CHECK;
        core::array::from_fn(|t| SMatrix::from_fn(|c, b| x[Self::argmax(x, t, c, b)][(c, b)]))
    }

    fn forward_train(&self, x: &[SMatrix<T, C, B>; LI], _cache: &mut ()) -> Self::Output {
        self.forward(x)
    }

    fn backward(
        &self,
        x: &[SMatrix<T, C, B>; LI],
        _y: &Self::Output,
        _cache: &(),
        dy: &Self::Output,
        _grad: &mut (),
    ) -> [SMatrix<T, C, B>; LI] {
        let () = Self::CHECK;
        let mut dx = [SMatrix::zeros(); LI];
        for (t, dy_t) in dy.iter().enumerate() {
            for b in 0..B {
                for c in 0..C {
                    dx[Self::argmax(x, t, c, b)][(c, b)] += dy_t[(c, b)];
                }
            }
        }
        dx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GradCheck;

    fn sequence() -> [SMatrix<f64, 2, 3>; 7] {
        // Distinct values, so no window has a tie and every max is a smooth point.
        core::array::from_fn(|t| SMatrix::from_fn(|c, b| ((t * 11 + c * 5 + b * 3) as f64 * 0.83).sin()))
    }

    #[test]
    fn forward_matches_window_maxima() {
        let x = sequence();
        let y = MaxPool1d::<3, 7, 3, 2>.forward(&x);
        for (t, y_t) in y.iter().enumerate() {
            for c in 0..2 {
                for b in 0..3 {
                    let expected = (2 * t..2 * t + 3)
                        .map(|p| x[p][(c, b)])
                        .fold(f64::NEG_INFINITY, f64::max);
                    assert_eq!(y_t[(c, b)], expected);
                }
            }
        }
        // Default stride = kernel size; the last incomplete window is dropped.
        let y = MaxPool1d::<2, 7, 3>.forward(&x);
        assert_eq!(y[2][(0, 0)], x[4][(0, 0)].max(x[5][(0, 0)]));
    }

    #[test]
    fn gradient_check_with_overlapping_windows_and_ties_go_to_the_first() {
        let x = sequence();
        let report = GradCheck::default().strict().layer(&MaxPool1d::<3, 7, 3, 2>, &x);
        assert!(report.passed(), "{report}");
        let report = GradCheck::default().strict().layer(&MaxPool1d::<2, 7, 3>, &x);
        assert!(report.passed(), "{report}");
        let tied = [nalgebra::Vector1::new(1.0f64); 2];
        let dx = MaxPool1d::<2, 2, 1>.backward(&tied, &[tied[0]], &(), &[nalgebra::Vector1::new(1.0)], &mut ());
        assert_eq!((dx[0][0], dx[1][0]), (1.0, 0.0));
    }
}
