//! One layer applied to every time step of a sequence, with shared parameters.

use bytemuck::Zeroable;

use crate::{ActivationVisitor, ConstExpr};
use crate::{BufferFault, Init, Layer, Parameters, Real, Rng, Stream, TensorInfo, Tensors};

/// Applies the layer `L` to every time step of a sequence `[X; N]`, with the same parameters
/// at every step: what PyTorch's `nn.Linear` does to a `(L, N, features)` tensor, and Keras's
/// `TimeDistributed`.
///
/// The wrapper is transparent: it takes `L`'s position in a network and its tensors keep
/// their names (`EachStep<Dense<..>>` has `weight` and `bias`), so PyTorch weights line up.
/// Backward adds every step's parameter gradient into the one gradient; the cache holds one
/// cache of `L` per step; [`Layer::update_buffers`] runs for the steps in order.
///
/// ```
/// use static_nn::{Dense, EachStep, Layer};
/// use static_nn::nalgebra::{Matrix1x2, SMatrix, Vector1};
/// let readout = EachStep(Dense::new(Matrix1x2::new(1.0_f64, -1.0), Vector1::new(0.5)));
/// let sequence = [SMatrix::<f64, 2, 1>::new(3.0, 1.0), SMatrix::<f64, 2, 1>::new(0.0, 2.0)];
/// let y = readout.forward(&sequence);
/// assert_eq!((y[0][0], y[1][0]), (2.5, -1.5));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Zeroable)]
pub struct EachStep<L>(pub L);

impl<T: Real, L: Tensors<T>> Tensors<T> for EachStep<L> {
    const LAYERS: usize = L::LAYERS;
    fn tensors(&self) -> impl Iterator<Item = &[T]> {
        self.0.tensors()
    }
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.0.tensors_mut()
    }
    fn tensor_infos() -> impl Iterator<Item = TensorInfo> {
        L::tensor_infos()
    }
}

impl<T: Real, L: Parameters<T>> Parameters<T> for EachStep<L> {
    type Gradient = L::Gradient;

    #[inline(always)]
    fn zip_gradient<const K: usize>(
        &mut self,
        grad: &L::Gradient,
        state: [&mut L::Gradient; K],
        f: &mut impl FnMut(&mut [T], &[T], [&mut [T]; K]),
    ) {
        self.0.zip_gradient(grad, state, f);
    }
    fn reset(&mut self, init: Init, rng: &mut Rng) {
        self.0.reset(init, rng);
    }
    fn set_hyperparameters(&mut self, template: Option<&Self>) {
        self.0.set_hyperparameters(template.map(|t| &t.0));
    }
    fn buffers(&self) -> impl Iterator<Item = &[T]> {
        self.0.buffers()
    }
    fn buffers_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.0.buffers_mut()
    }
    fn buffer_infos() -> impl Iterator<Item = TensorInfo> {
        L::buffer_infos()
    }
    fn non_negative_buffers() -> impl Iterator<Item = bool> {
        L::non_negative_buffers()
    }
    fn state_dict(&self) -> impl Iterator<Item = &[T]> {
        self.0.state_dict()
    }
    fn state_dict_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.0.state_dict_mut()
    }
    fn state_dict_infos() -> impl Iterator<Item = TensorInfo> {
        L::state_dict_infos()
    }
}

/// `EachStep(layer)`, for [`format::rust_source`](crate::format::rust_source).
impl<L: ConstExpr> ConstExpr for EachStep<L> {
    fn fmt_const(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("::static_nn::EachStep(")?;
        self.0.fmt_const(f)?;
        f.write_str(")")
    }
}

impl<T: Real, X, L: Layer<T, X>, const N: usize> Layer<T, [X; N]> for EachStep<L> {
    type Output = [L::Output; N];
    type Cache = [L::Cache; N];

    fn forward(&self, x: &[X; N]) -> Self::Output {
        core::array::from_fn(|t| self.0.forward(&x[t]))
    }

    fn forward_train(&self, x: &[X; N], cache: &mut Self::Cache) -> Self::Output {
        let mut y = Self::Output::zeroed();
        for ((y, x), cache) in y.iter_mut().zip(x).zip(cache.iter_mut()) {
            *y = self.0.forward_train(x, cache);
        }
        y
    }

    fn backward(
        &self,
        x: &[X; N],
        y: &Self::Output,
        cache: &Self::Cache,
        dy: &Self::Output,
        grad: &mut L::Gradient,
    ) -> [X; N] {
        core::array::from_fn(|t| self.0.backward(&x[t], &y[t], &cache[t], &dy[t], grad))
    }

    fn backward_parameters(
        &self,
        x: &[X; N],
        y: &Self::Output,
        cache: &Self::Cache,
        dy: &Self::Output,
        grad: &mut L::Gradient,
    ) {
        for t in 0..N {
            self.0.backward_parameters(&x[t], &y[t], &cache[t], &dy[t], grad);
        }
    }

    fn forward_eval(&self, x: &[X; N], cache: &mut Self::Cache) -> Self::Output {
        let mut y = Self::Output::zeroed();
        for ((y, x), cache) in y.iter_mut().zip(x).zip(cache.iter_mut()) {
            *y = self.0.forward_eval(x, cache);
        }
        y
    }

    fn backward_eval(
        &self,
        x: &[X; N],
        y: &Self::Output,
        cache: &Self::Cache,
        dy: &Self::Output,
        grad: &mut L::Gradient,
    ) -> [X; N] {
        core::array::from_fn(|t| self.0.backward_eval(&x[t], &y[t], &cache[t], &dy[t], grad))
    }

    fn update_buffers(&mut self, cache: &Self::Cache) {
        for cache in cache {
            self.0.update_buffers(cache);
        }
    }

    /// Each step's update is checked from the buffers as they are now, not replayed in
    /// sequence: replaying needs a copy of the layer. For a batch norm, whose update is a
    /// weighted mean of the running value and the step's statistic, the sequence stays
    /// within the range of values each check accepted.
    fn check_buffer_update(&self, cache: &Self::Cache, position: usize) -> Result<(), BufferFault<T>> {
        cache
            .iter()
            .try_for_each(|cache| self.0.check_buffer_update(cache, position))
    }
    fn cache_counter_names() -> impl Iterator<Item = &'static str> {
        (0..N).flat_map(|_| L::cache_counter_names())
    }
    fn cache_counters(cache: &Self::Cache) -> impl Iterator<Item = u64> {
        cache.iter().flat_map(|cache| L::cache_counters(cache))
    }
    fn cache_counters_mut(cache: &mut Self::Cache) -> impl Iterator<Item = &mut u64> {
        cache.iter_mut().flat_map(|cache| L::cache_counters_mut(cache))
    }
    /// Shows the visitor the wrapped layer's activations at every step, each under the same
    /// position, so a sequence model's readout reports its health like any other layer.
    fn visit_activations(
        &self,
        x: &[X; N],
        y: &Self::Output,
        cache: &Self::Cache,
        position: usize,
        visitor: &mut dyn ActivationVisitor<T>,
    ) {
        for t in 0..N {
            self.0.visit_activations(&x[t], &y[t], &cache[t], position, visitor);
        }
    }
}

impl<T: Real, X, L: Stream<T, X>> Stream<T, X> for EachStep<L> {
    type Output = L::Output;
    type State = L::State;

    #[inline]
    fn step(&self, x: &X, state: &mut L::State) -> L::Output {
        self.0.step(x, state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dense, GradCheck, Tanh};
    use nalgebra::SMatrix;

    type Readout = EachStep<(Dense<f64, 3, 2>, Tanh)>;

    fn sequence() -> [SMatrix<f64, 3, 2>; 4] {
        core::array::from_fn(|t| SMatrix::from_fn(|i, j| ((t * 6 + i * 2 + j) as f64 * 0.7).sin()))
    }

    #[test]
    fn each_step_is_the_layer_on_that_step_and_gradients_check() {
        let net = Readout::build(Init::PyTorch, &mut Rng::new(3));
        let x = sequence();
        let y = net.forward(&x);
        for t in 0..4 {
            assert_eq!(y[t], net.0.forward(&x[t]));
        }
        let report = GradCheck::default().strict().layer(&net, &x);
        assert!(report.passed(), "{report}");
        let names: Vec<_> = Readout::tensor_infos().map(|t| (t.layer, t.name)).collect();
        assert_eq!(names, [(0, "weight"), (0, "bias")]);
    }

    #[test]
    fn backward_accumulates_over_steps_and_calls() {
        let net = Readout::build(Init::PyTorch, &mut Rng::new(4));
        let x = sequence();
        let mut cache = Zeroable::zeroed();
        let y = net.forward_train(&x, &mut cache);
        let dy = y.map(|m| m * 0.5);
        let mut once = Zeroable::zeroed();
        net.backward_parameters(&x, &y, &cache, &dy, &mut once);
        let mut by_step: <Readout as Parameters<f64>>::Gradient = Zeroable::zeroed();
        for t in 0..4 {
            net.0.backward_parameters(&x[t], &y[t], &cache[t], &dy[t], &mut by_step);
        }
        assert_eq!(once.0.weight, by_step.0.weight);
        let mut twice = once.clone();
        net.backward_parameters(&x, &y, &cache, &dy, &mut twice);
        assert!((twice.0.weight - once.0.weight * 2.0).abs().max() < 1e-15);
    }
}
