//! From a sequence of feature vectors to one feature vector per sample.

use nalgebra::SMatrix;

use crate::ConstExpr;
use crate::{Layer, Real};

/// Flattens a sequence `[SMatrix<T, C, B>; L]` (per sample `C` channels × `L` steps) into
/// `SMatrix<T, F, B>` with `F = C · L`, in the order of PyTorch's `nn.Flatten` on an `(N, C, L)`
/// tensor: feature `c · L + t` is channel `c` at step `t`. A `Dense` after it therefore takes
/// the weights of the `nn.Linear` after `nn.Flatten` unchanged.
///
/// `F` is spelled out because stable Rust cannot compute `C · L` in a type; a wrong `F` is a
/// compile error (`cargo build`; see [`Conv1d`](crate::Conv1d) on when such checks fire).
/// Backward scatters `dy` back; no parameters, no cache.
///
/// ```
/// use static_nn::{Flatten, Layer};
/// use static_nn::nalgebra::{SMatrix, Vector2};
/// // Two channels, three steps.
/// let x = [Vector2::new(1.0_f32, 10.0), Vector2::new(2.0, 20.0), Vector2::new(3.0, 30.0)];
/// let y: SMatrix<f32, 6, 1> = Flatten::<6>.forward(&x);
/// assert_eq!(y.as_slice(), [1.0, 2.0, 3.0, 10.0, 20.0, 30.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Zeroable)]
pub struct Flatten<const F: usize>;

/// The rule `F = C · L`, as a type whose parameters are the three numbers, so that a compile
/// error names them (`FlattenWidth::<1, 32, 31>::MATCHES`).
struct FlattenWidth<const C: usize, const L: usize, const F: usize>;

impl<const C: usize, const L: usize, const F: usize> FlattenWidth<C, L, F> {
    const MATCHES: () = assert!(
        F == C * L,
        "Flatten<F>: F must be channels × length of the input sequence `[SMatrix<T, channels, B>; length]`"
    );
}

crate::parameter_free_layer!([const F: usize] Flatten<F>);

/// `Flatten` (the width comes from the declared type), for
/// [`format::rust_source`](crate::format::rust_source).
impl<const F: usize> ConstExpr for Flatten<F> {
    fn fmt_const(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("::static_nn::Flatten")
    }
}

impl<T: Real, const F: usize, const C: usize, const L: usize, const B: usize> Layer<T, [SMatrix<T, C, B>; L]>
    for Flatten<F>
{
    type Output = SMatrix<T, F, B>;
    type Cache = ();

    fn forward(&self, x: &[SMatrix<T, C, B>; L]) -> SMatrix<T, F, B> {
        let () = FlattenWidth::<C, L, F>::MATCHES;
        SMatrix::from_fn(|row, b| x[row % L][(row / L, b)])
    }

    fn forward_train(&self, x: &[SMatrix<T, C, B>; L], _cache: &mut ()) -> SMatrix<T, F, B> {
        self.forward(x)
    }

    fn backward(
        &self,
        _x: &[SMatrix<T, C, B>; L],
        _y: &SMatrix<T, F, B>,
        _cache: &(),
        dy: &SMatrix<T, F, B>,
        _grad: &mut (),
    ) -> [SMatrix<T, C, B>; L] {
        let () = FlattenWidth::<C, L, F>::MATCHES;
        core::array::from_fn(|t| SMatrix::from_fn(|c, b| dy[(c * L + t, b)]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GradCheck;

    #[test]
    fn order_is_channels_then_steps_and_backward_inverts_it() {
        let x: [SMatrix<f64, 3, 2>; 4] =
            core::array::from_fn(|t| SMatrix::from_fn(|c, b| (100 * b + 10 * c + t) as f64));
        let y: SMatrix<f64, 12, 2> = Flatten::<12>.forward(&x);
        for b in 0..2 {
            for c in 0..3 {
                for t in 0..4 {
                    assert_eq!(y[(c * 4 + t, b)], (100 * b + 10 * c + t) as f64);
                }
            }
        }
        assert_eq!(Flatten::<12>.backward(&x, &y, &(), &y, &mut ()), x);
        let report = GradCheck::default().strict().layer(&Flatten::<12>, &x);
        assert!(report.passed(), "{report}");
    }
}
