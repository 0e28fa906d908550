//! Parallel branches whose outputs are stacked.

use nalgebra::SMatrix;

use crate::ActivationVisitor;
use crate::{BufferFault, Init, Layer, Parameters, Real, Rng, TensorInfo, Tensors};

/// Two branches applied to the same input, their outputs stacked: `y = [a(x); b(x)]`, the
/// rows of `a(x)` above those of `b(x)` (`torch.cat([a(x), b(x)], dim=features)`).
///
/// `O` is the output width, which must equal the sum of the branches' output widths. Stable
/// Rust cannot compute `OA + OB` in a type, and nalgebra's conversions to `typenum` arithmetic
/// stop at 127, which rules out, say, an input of 784 pixels concatenated with 10 features. So
/// the width is declared, and checked by a constant assertion: a wrong `O` is a compile error,
/// reported by `cargo build`, `cargo test` and `cargo run` (not by `cargo check`, which does
/// not instantiate generic code), naming the three widths:
/// ```text
/// error[E0080]: evaluation panicked: the declared output width of a `Concat` must be the sum of its branches' output widths
///     ... evaluation of `<Concat<Identity, Dense<f32, 784, 10>, 795> as BranchWidths<784, 10>>::ADD_UP` failed here
/// ```
/// More than two branches nest: `Concat<A, Concat<B, C, 20>, 30>`. A branch may be
/// [`Identity`](crate::Identity), which passes the input through (a DenseNet-style skip).
///
/// Backward: the output gradient is split the same way, each branch receives its rows, and
/// the input gradient is the sum of the branches' input gradients. The cache holds the two
/// branches' caches; their outputs are read back from the stacked output.
///
/// The branches' tensors keep their positions: `a`'s layers first, then `b`'s, as if the two
/// were written one after the other in a sequence.
///
/// ```
/// use static_nn::{Concat, Dense, Identity, Layer};
/// use static_nn::nalgebra::{Matrix1x2, SMatrix, Vector1};
///
/// // The input (2 features) and a one-unit summary of it, side by side.
/// let layer: Concat<Identity, Dense<f64, 2, 1>, 3> =
///     Concat(Identity, Dense::new(Matrix1x2::new(1.0, 1.0), Vector1::new(0.5)));
/// let y = layer.forward(&SMatrix::<f64, 2, 1>::new(2.0, 3.0));
/// assert_eq!(y, SMatrix::<f64, 3, 1>::new(2.0, 3.0, 5.5));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Zeroable)]
pub struct Concat<A, B, const O: usize>(
    /// The branch whose output comes first.
    pub A,
    /// The branch whose output comes second.
    pub B,
);

/// The compile-time check that the branches' widths `OA` and `OB` add up to the declared one,
/// on the `Concat` type itself, so that the compiler's error names the user's layer.
trait BranchWidths<const OA: usize, const OB: usize> {
    const ADD_UP: ();
}

impl<A, B, const O: usize, const OA: usize, const OB: usize> BranchWidths<OA, OB> for Concat<A, B, O> {
    const ADD_UP: () = assert!(
        OA + OB == O,
        "the declared output width of a `Concat` must be the sum of its branches' output widths"
    );
}

impl<A, B, const O: usize> Concat<A, B, O> {
    /// `[a; b]`.
    fn stack<T: Real, const OA: usize, const OB: usize, const C: usize>(
        a: &SMatrix<T, OA, C>,
        b: &SMatrix<T, OB, C>,
    ) -> SMatrix<T, O, C> {
        let () = <Self as BranchWidths<OA, OB>>::ADD_UP;
        let mut y = SMatrix::<T, O, C>::zeros();
        y.fixed_rows_mut::<OA>(0).copy_from(a);
        y.fixed_rows_mut::<OB>(OA).copy_from(b);
        y
    }

    /// The first `OA` rows and the remaining `OB` rows.
    fn split<T: Real, const OA: usize, const OB: usize, const C: usize>(
        y: &SMatrix<T, O, C>,
    ) -> (SMatrix<T, OA, C>, SMatrix<T, OB, C>) {
        let () = <Self as BranchWidths<OA, OB>>::ADD_UP;
        (y.fixed_rows::<OA>(0).into_owned(), y.fixed_rows::<OB>(OA).into_owned())
    }
}

impl<T: Real, A: Tensors<T>, B: Tensors<T>, const O: usize> Tensors<T> for Concat<A, B, O> {
    const LAYERS: usize = A::LAYERS + B::LAYERS;

    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        self.0.tensors().chain(self.1.tensors())
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.0.tensors_mut().chain(self.1.tensors_mut())
    }
    fn tensor_infos() -> impl Iterator<Item = TensorInfo> {
        A::tensor_infos().chain(B::tensor_infos().map(|t| t.shifted(A::LAYERS)))
    }
}

impl<T: Real, A: Parameters<T>, B: Parameters<T>, const O: usize> Parameters<T> for Concat<A, B, O> {
    type Gradient = (A::Gradient, B::Gradient);

    #[inline(always)]
    fn zip_gradient<const K: usize>(
        &mut self,
        grad: &Self::Gradient,
        mut state: [&mut Self::Gradient; K],
        f: &mut impl FnMut(&mut [T], &[T], [&mut [T]; K]),
    ) {
        self.0.zip_gradient(&grad.0, state.each_mut().map(|s| &mut s.0), f);
        self.1.zip_gradient(&grad.1, state.map(|s| &mut s.1), f);
    }
    fn reset(&mut self, init: Init, rng: &mut Rng) {
        self.0.reset(init, rng);
        self.1.reset(init, rng);
    }
    fn set_hyperparameters(&mut self, template: Option<&Self>) {
        self.0.set_hyperparameters(template.map(|t| &t.0));
        self.1.set_hyperparameters(template.map(|t| &t.1));
    }
    fn buffers(&self) -> impl Iterator<Item = &[T]> {
        self.0.buffers().chain(self.1.buffers())
    }
    fn buffers_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.0.buffers_mut().chain(self.1.buffers_mut())
    }
    fn buffer_infos() -> impl Iterator<Item = TensorInfo> {
        A::buffer_infos().chain(B::buffer_infos().map(|t| t.shifted(A::LAYERS)))
    }
    fn non_negative_buffers() -> impl Iterator<Item = bool> {
        A::non_negative_buffers().chain(B::non_negative_buffers())
    }
    fn state_dict(&self) -> impl Iterator<Item = &[T]> {
        self.0.state_dict().chain(self.1.state_dict())
    }
    fn state_dict_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.0.state_dict_mut().chain(self.1.state_dict_mut())
    }
    fn state_dict_infos() -> impl Iterator<Item = TensorInfo> {
        A::state_dict_infos().chain(B::state_dict_infos().map(|t| t.shifted(A::LAYERS)))
    }
}

impl<T, A, B, const I: usize, const OA: usize, const OB: usize, const O: usize, const C: usize>
    Layer<T, SMatrix<T, I, C>> for Concat<A, B, O>
where
    T: Real,
    A: Layer<T, SMatrix<T, I, C>, Output = SMatrix<T, OA, C>>,
    B: Layer<T, SMatrix<T, I, C>, Output = SMatrix<T, OB, C>>,
{
    type Output = SMatrix<T, O, C>;
    type Cache = (A::Cache, B::Cache);

    fn forward(&self, x: &SMatrix<T, I, C>) -> SMatrix<T, O, C> {
        Self::stack(&self.0.forward(x), &self.1.forward(x))
    }

    fn forward_train(&self, x: &SMatrix<T, I, C>, cache: &mut Self::Cache) -> SMatrix<T, O, C> {
        Self::stack(
            &self.0.forward_train(x, &mut cache.0),
            &self.1.forward_train(x, &mut cache.1),
        )
    }

    fn backward(
        &self,
        x: &SMatrix<T, I, C>,
        y: &SMatrix<T, O, C>,
        cache: &Self::Cache,
        dy: &SMatrix<T, O, C>,
        grad: &mut Self::Gradient,
    ) -> SMatrix<T, I, C> {
        let (ya, yb) = Self::split(y);
        let (dya, dyb) = Self::split(dy);
        self.0.backward(x, &ya, &cache.0, &dya, &mut grad.0) + self.1.backward(x, &yb, &cache.1, &dyb, &mut grad.1)
    }

    fn backward_parameters(
        &self,
        x: &SMatrix<T, I, C>,
        y: &SMatrix<T, O, C>,
        cache: &Self::Cache,
        dy: &SMatrix<T, O, C>,
        grad: &mut Self::Gradient,
    ) {
        let (ya, yb) = Self::split(y);
        let (dya, dyb) = Self::split(dy);
        self.0.backward_parameters(x, &ya, &cache.0, &dya, &mut grad.0);
        self.1.backward_parameters(x, &yb, &cache.1, &dyb, &mut grad.1);
    }

    fn forward_eval(&self, x: &SMatrix<T, I, C>, cache: &mut Self::Cache) -> SMatrix<T, O, C> {
        Self::stack(
            &self.0.forward_eval(x, &mut cache.0),
            &self.1.forward_eval(x, &mut cache.1),
        )
    }

    fn backward_eval(
        &self,
        x: &SMatrix<T, I, C>,
        y: &SMatrix<T, O, C>,
        cache: &Self::Cache,
        dy: &SMatrix<T, O, C>,
        grad: &mut Self::Gradient,
    ) -> SMatrix<T, I, C> {
        let (ya, yb) = Self::split(y);
        let (dya, dyb) = Self::split(dy);
        self.0.backward_eval(x, &ya, &cache.0, &dya, &mut grad.0)
            + self.1.backward_eval(x, &yb, &cache.1, &dyb, &mut grad.1)
    }

    fn update_buffers(&mut self, cache: &Self::Cache) {
        self.0.update_buffers(&cache.0);
        self.1.update_buffers(&cache.1);
    }

    fn check_buffer_update(&self, cache: &Self::Cache, position: usize) -> Result<(), BufferFault<T>> {
        self.0.check_buffer_update(&cache.0, position)?;
        self.1.check_buffer_update(&cache.1, position + A::LAYERS)
    }
    fn cache_counter_names() -> impl Iterator<Item = &'static str> {
        A::cache_counter_names().chain(B::cache_counter_names())
    }
    fn cache_counters(cache: &Self::Cache) -> impl Iterator<Item = u64> {
        A::cache_counters(&cache.0).chain(B::cache_counters(&cache.1))
    }
    fn cache_counters_mut(cache: &mut Self::Cache) -> impl Iterator<Item = &mut u64> {
        A::cache_counters_mut(&mut cache.0).chain(B::cache_counters_mut(&mut cache.1))
    }

    fn visit_activations(
        &self,
        x: &SMatrix<T, I, C>,
        y: &SMatrix<T, O, C>,
        cache: &Self::Cache,
        position: usize,
        visitor: &mut dyn ActivationVisitor<T>,
    ) {
        let (ya, yb) = Self::split(y);
        self.0.visit_activations(x, &ya, &cache.0, position, visitor);
        self.1
            .visit_activations(x, &yb, &cache.1, position + A::LAYERS, visitor);
    }
}

impl<A: crate::ConstExpr, B: crate::ConstExpr, const O: usize> crate::ConstExpr for Concat<A, B, O> {
    fn fmt_const(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("::static_nn::Concat(")?;
        self.0.fmt_const(f)?;
        f.write_str(", ")?;
        self.1.fmt_const(f)?;
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BatchNorm, Dense, GradCheck, Identity, Mse, Sigmoid, Tanh};
    use bytemuck::Zeroable;

    type Branches = Concat<(Dense<f64, 3, 4>, Sigmoid), (Dense<f64, 3, 2>, Tanh), 6>;

    #[test]
    fn output_stacks_the_branches() {
        let layer = Branches::build(Init::PyTorch, &mut Rng::new(1));
        let x = SMatrix::<f64, 3, 2>::new(0.5, -1.0, 2.0, 0.0, 1.0, -0.5);
        let (a, b) = (layer.0.forward(&x), layer.1.forward(&x));
        let y = layer.forward(&x);
        assert_eq!(y.fixed_rows::<4>(0), a);
        assert_eq!(y.fixed_rows::<2>(4), b);
        assert_eq!(layer.forward_train(&x, &mut Zeroable::zeroed()), y);
    }

    #[test]
    fn gradient_check() {
        let layer = Branches::build(Init::PyTorch, &mut Rng::new(2));
        let x = SMatrix::<f64, 3, 4>::from_fn(|i, j| ((i * 4 + j) as f64 * 0.9).sin());
        let report = GradCheck::default().strict().layer(&layer, &x);
        assert!(report.passed(), "{report}");
        assert_eq!(report.tensors.len(), 5);

        // A skip by concatenation, three branches deep, with a batch norm in one branch.
        type Net = (
            Dense<f64, 2, 3>,
            Concat<Identity, Concat<(Dense<f64, 3, 2>, BatchNorm<f64, 2>), (Dense<f64, 3, 1>, Tanh), 3>, 6>,
            Dense<f64, 6, 1>,
        );
        let net = Net::build(Init::PyTorch, &mut Rng::new(3));
        let x = SMatrix::<f64, 2, 5>::from_fn(|i, j| (i + 2 * j) as f64 * 0.3 - 1.0);
        let target = SMatrix::<f64, 1, 5>::from_fn(|_, j| j as f64 * 0.1);
        let report = GradCheck::default().strict().network(&net, &Mse, &x, &target);
        assert!(report.passed(), "{report}");
    }

    #[test]
    fn positions_count_through_the_branches() {
        type Net = (
            Dense<f64, 2, 3>,
            Concat<(Dense<f64, 3, 2>, BatchNorm<f64, 2>), Identity, 5>,
            Dense<f64, 5, 1>,
        );
        let positions: Vec<(usize, &str)> = Net::tensor_infos().map(|t| (t.layer, t.name)).step_by(2).collect();
        assert_eq!(positions, [(0, "weight"), (1, "weight"), (2, "weight"), (4, "weight")]);
        assert_eq!(Net::buffer_infos().map(|t| t.layer).collect::<Vec<_>>(), [2, 2]);
    }

    #[test]
    fn wide_branches_beyond_typenum() {
        // 784 inputs next to a 10-unit summary: widths nalgebra's typenum bridge cannot add.
        let layer = Concat::<Identity, Dense<f32, 784, 10>, 794>::build(Init::PyTorch, &mut Rng::new(4));
        let x = SMatrix::<f32, 784, 2>::from_fn(|i, j| ((i + j) as f32 * 0.01).sin());
        let mut cache = Zeroable::zeroed();
        let y = layer.forward_train(&x, &mut cache);
        assert_eq!(y.fixed_rows::<784>(0), x);
        assert_eq!(y.fixed_rows::<10>(784), layer.1.forward(&x));
        // The input gradient is the identity branch's plus the dense branch's Wᵀ dy.
        let dy = SMatrix::<f32, 794, 2>::from_fn(|i, _| if i >= 784 { 1.0 } else { 0.5 });
        let mut grad = Zeroable::zeroed();
        let dx = layer.backward(&x, &y, &cache, &dy, &mut grad);
        let expected = SMatrix::<f32, 784, 2>::from_element(0.5)
            + layer.1.weight.tr_mul(&SMatrix::<f32, 10, 2>::from_element(1.0));
        assert!((dx - expected).abs().max() < 1e-6);
    }

    #[test]
    fn batch_equals_single_samples_and_backward_accumulates() {
        let layer = Branches::build(Init::PyTorch, &mut Rng::new(5));
        let x = SMatrix::<f64, 3, 3>::from_fn(|i, j| (i as f64 - j as f64) * 0.4);
        let dy = SMatrix::<f64, 6, 3>::from_fn(|i, j| ((i * 3 + j) as f64).cos());
        let mut cache = Zeroable::zeroed();
        let y = layer.forward_train(&x, &mut cache);
        let mut once: <Branches as Parameters<f64>>::Gradient = Zeroable::zeroed();
        let dx = layer.backward(&x, &y, &cache, &dy, &mut once);
        for b in 0..3 {
            let xb: SMatrix<f64, 3, 1> = x.column(b).into();
            let dyb: SMatrix<f64, 6, 1> = dy.column(b).into();
            let mut cb = Zeroable::zeroed();
            let yb = layer.forward_train(&xb, &mut cb);
            assert!((yb - y.column(b)).abs().max() < 1e-15);
            let dxb = layer.backward(&xb, &yb, &cb, &dyb, &mut Zeroable::zeroed());
            assert!((dxb - dx.column(b)).abs().max() < 1e-15);
        }
        let mut twice: <Branches as Parameters<f64>>::Gradient = Zeroable::zeroed();
        layer.backward_parameters(&x, &y, &cache, &dy, &mut twice);
        layer.backward_parameters(&x, &y, &cache, &dy, &mut twice);
        assert!((twice.0.0.weight - once.0.0.weight * 2.0).abs().max() < 1e-15);
        assert!((twice.1.0.bias - once.1.0.bias * 2.0).abs().max() < 1e-15);
    }
}
