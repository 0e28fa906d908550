//! The layer traits, sequential composition (tuples, arrays, [`Seq!`](crate::Seq)) and the layers.
//!
//! Private: every public item of every layer file is re-exported here by a glob, and from here
//! at the crate root, which is each item's one public path (`static_nn::Dense`).

use bytemuck::Zeroable;
use nalgebra::SMatrix;

use crate::{Init, Real, Rng, TensorInfo, Tensors};

mod activation;
mod avg_pool1d;
mod batch_norm;
mod concat;
mod conv1d;
mod dense;
mod downstream;
mod dropout;
mod each_step;
mod eval;
mod fields;
mod flatten;
mod frozen;
mod gates;
mod gru;
mod last_step;
mod layer_norm;
mod long_tuple;
mod lstm;
mod max_pool1d;
mod norm_gradient;
mod padding;
mod residual;
mod rnn;
mod softmax;
mod stream;
mod stride;
mod visit;

pub use activation::*;
pub use avg_pool1d::*;
pub use batch_norm::*;
pub use concat::*;
pub use conv1d::*;
pub use dense::*;
pub use downstream::*;
pub use dropout::*;
pub use each_step::*;
pub use eval::*;
pub use flatten::*;
pub use frozen::*;
pub use gru::*;
pub use last_step::*;
pub use layer_norm::*;
pub use long_tuple::*;
pub use lstm::*;
pub use max_pool1d::*;
pub use norm_gradient::*;
pub use padding::*;
pub use residual::*;
pub use rnn::*;
pub use softmax::*;
pub use stream::*;
pub use stride::*;
pub use visit::*;

/// A part of a network that owns trainable tensors (possibly none).
///
/// Its gradient has a type of its own ([`Parameters::Gradient`], with the same tensors in the
/// same order), and optimizer states are built from copies of that type, so a state built for
/// one network cannot be used with another: the types differ.
///
/// Every implementor is [`Zeroable`]: the all-zero value is valid, which is what lets
/// [`Parameters::build_boxed`] create even a large network directly on the heap.
///
/// **Networks longer than eight layers.** Tuples are layers up to eight elements (where
/// `bytemuck` stops implementing `Zeroable`); a longer network is written with
/// [`Seq!`](crate::Seq) (its value with [`seq!`](crate::seq)), which nests automatically and keeps
/// `nn.Sequential`'s positions, or with [`Mlp!`](crate::Mlp) for dense stacks. A tuple of nine to
/// twelve layers, built (`Net::build`) or used where a network is expected, fails to compile
/// with a message that says so (see [`AtMostEightLayers`]).
///
/// ```
/// use static_nn::{Dense, Init, Parameters, Rng, Seq, Tanh, Tensors};
/// type Deep = Seq![
///     Dense<f32, 2, 8>, Tanh, Dense<f32, 8, 8>, Tanh, Dense<f32, 8, 8>,
///     Tanh, Dense<f32, 8, 8>, Tanh, Dense<f32, 8, 1>,
/// ];
/// let net = Deep::build(Init::PyTorch, &mut Rng::new(0));
/// assert_eq!(<Deep as Tensors<f32>>::tensor_infos().last().unwrap().layer, 8);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a network with `{T}` parameters",
    label = "not a network of `{T}`",
    note = "tuples compose at most 8 layers: write a longer network's type with `Seq![...]` (its value with `seq![...]`) or use `Mlp!`",
    note = "every layer of a network must use the same scalar type `{T}`"
)]
pub trait Parameters<T: Real>: Tensors<T> + Zeroable {
    /// The gradient of a scalar with respect to every trainable tensor, laid out like `Self`.
    type Gradient: Tensors<T> + Zeroable + Clone;

    /// Initialises the tensors and buffers in place: weights drawn from `rng` by `init`, biases
    /// and buffers (running statistics, a dropout seed) set as PyTorch sets them. Draws happen
    /// in [`Tensors::tensors`] order. Hyperparameters (a leaky slope, a dropout probability,
    /// batch-norm `eps`, ...) are left as they are: they belong to the value the user wrote.
    fn reset(&mut self, init: Init, rng: &mut Rng);

    /// Sets the hyperparameters, and nothing else, to `template`'s, or to their documented
    /// defaults when there is no template (what [`Parameters::build`] starts from).
    ///
    /// The default does nothing, which is right for a layer without hyperparameters; a layer
    /// that contains others forwards it to them.
    fn set_hyperparameters(&mut self, template: Option<&Self>) {
        let _ = template;
    }

    /// Non-trainable state that belongs to the model and is saved with its weights, such as
    /// batch-norm running statistics. Optimizers and the gradient checker never see these; only
    /// [`Layer::update_buffers`] changes them. Most layers have none (the default).
    fn buffers(&self) -> impl Iterator<Item = &[T]> {
        core::iter::empty()
    }

    /// The buffers, mutable, in the order of [`Parameters::buffers`].
    fn buffers_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        core::iter::empty()
    }

    /// Names, positions and shapes of the buffers, in the order of [`Parameters::buffers`].
    fn buffer_infos() -> impl Iterator<Item = TensorInfo> {
        core::iter::empty()
    }

    /// For each buffer, in the order of [`Parameters::buffers`], whether its values must be
    /// ≥ 0 (a running variance): loaders refuse a file where one is negative. By default none
    /// must; a layer with such a buffer says so, and composites chain their parts' answers.
    fn non_negative_buffers() -> impl Iterator<Item = bool> {
        Self::buffer_infos().map(|_| false)
    }

    /// Every tensor a PyTorch `state_dict` holds, layer by layer: each layer's trainable tensors,
    /// then its buffers. [`Frozen`](crate::Frozen) keeps its layers' parameters through it.
    /// The default, [`Tensors::tensors`] then [`Parameters::buffers`], is right for a single
    /// layer; composites override it to go layer by layer.
    fn state_dict(&self) -> impl Iterator<Item = &[T]> {
        self.tensors().chain(self.buffers())
    }

    /// The tensors of [`Parameters::state_dict`], mutable, in the same order. The default is
    /// [`Tensors::tensors_mut`]: a layer with buffers overrides it (both walks borrow the whole
    /// layer, so only the layer itself can chain them), and so do composites.
    fn state_dict_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.tensors_mut()
    }

    /// Names, positions and shapes of the tensors of [`Parameters::state_dict`], in its order.
    fn state_dict_infos() -> impl Iterator<Item = TensorInfo> {
        Self::tensor_infos().chain(Self::buffer_infos())
    }

    /// Calls `f` once per trainable tensor, in [`Tensors::tensors`] order, with the tensor, the
    /// same tensor of `grad` and the same tensor of each value in `state` (an optimizer's
    /// buffers): each tensor is visited once with all its slices, rather than walking several
    /// trees in lock-step. Tuples, arrays and wrappers hand each part its own fields and a
    /// matrix passes its slice, so the walk of a whole network inlines into straight-line code;
    /// the default, right for a single layer, walks [`Tensors::tensors_mut`]. `f` is taken by
    /// reference so that every call reaches it directly and inlines into the optimizer's loop
    /// (passed on by value, each level would call it through a shim that is compiled apart,
    /// without the caller's vector instruction set).
    #[inline(always)]
    fn zip_gradient<const K: usize>(
        &mut self,
        grad: &Self::Gradient,
        state: [&mut Self::Gradient; K],
        f: &mut impl FnMut(&mut [T], &[T], [&mut [T]; K]),
    ) {
        let mut state = state.map(|s| s.tensors_mut());
        for (p, g) in self.tensors_mut().zip(grad.tensors()) {
            let s = state
                .each_mut()
                .map(|s| s.next().expect("a gradient has the tensors of its network"));
            (*f)(p, g, s);
        }
    }

    /// A freshly initialised value with every hyperparameter at its default (see
    /// [`Parameters::reset`]). To choose hyperparameters, write the network as a value and
    /// initialise it with [`Parameters::initialised`].
    ///
    /// ```
    /// use static_nn::{Dense, Init, Parameters, Rng, Tanh};
    /// type Net = (Dense<f32, 2, 8>, Tanh, Dense<f32, 8, 1>);
    /// let a = Net::build(Init::XavierUniform, &mut Rng::new(1));
    /// let b = Net::build(Init::XavierUniform, &mut Rng::new(1));
    /// assert_eq!(a.0.weight, b.0.weight);
    /// ```
    fn build(init: Init, rng: &mut Rng) -> Self {
        let mut value = Self::zeroed();
        value.set_hyperparameters(None);
        value.reset(init, rng);
        value
    }

    /// Like [`Parameters::build`], but allocated and initialised directly on the heap, so a
    /// network too large for the stack never passes through it.
    #[cfg(feature = "alloc")]
    fn build_boxed(init: Init, rng: &mut Rng) -> alloc::boxed::Box<Self> {
        let mut value = crate::zeroed_box::<Self>();
        value.set_hyperparameters(None);
        value.reset(init, rng);
        value
    }

    /// The value the user wrote, with its tensors and buffers initialised and its
    /// hyperparameters kept: the same draws as [`Parameters::build`] from the same `rng`.
    ///
    /// ```
    /// use static_nn::{seq, Dense, Dropout, Init, LeakyRelu, Parameters, Rng};
    /// let net = seq![Dense::<f32, 2, 8>::zeros(), LeakyRelu::new(0.2), Dropout::new(0.1, 0), Dense::<f32, 8, 1>::zeros()]
    ///     .initialised(Init::HeUniform, &mut Rng::new(1));
    /// assert_eq!((net.1.slope, net.2.p), (0.2, 0.1));
    /// assert_ne!(net.0.weight, Dense::<f32, 2, 8>::zeros().weight);
    /// ```
    fn initialised(mut self, init: Init, rng: &mut Rng) -> Self
    where
        Self: Sized,
    {
        self.reset(init, rng);
        self
    }

    /// Like [`Parameters::initialised`], but the result is created directly on the heap: only
    /// the hyperparameters are copied from `self` (the template), so the tensors of a network
    /// too large for the stack never pass through it.
    ///
    /// ```
    /// use static_nn::{Dense, Dropout, Init, Parameters, Rng};
    /// let template = (Dense::<f32, 64, 64>::zeros(), Dropout::new(0.2, 0));
    /// let net = template.initialised_boxed(Init::PyTorch, &mut Rng::new(3));
    /// assert_eq!(net.1.p, 0.2);
    /// assert_eq!(net.0.weight, template.initialised(Init::PyTorch, &mut Rng::new(3)).0.weight);
    /// ```
    #[cfg(feature = "alloc")]
    fn initialised_boxed(&self, init: Init, rng: &mut Rng) -> alloc::boxed::Box<Self> {
        let mut value = crate::zeroed_box::<Self>();
        value.set_hyperparameters(Some(self));
        value.reset(init, rng);
        value
    }
}

/// A differentiable function from an input of type `X` to [`Layer::Output`], with a
/// hand-derived backward pass.
///
/// The input type is a trait parameter, so one layer type can accept many inputs (a `Dense`
/// takes a batch of any width `B`) and composition is checked by the compiler: a tuple
/// `(A, B)` is a layer for `X` only if `A` is a layer for `X` and `B` is a layer for `A`'s output.
///
/// Training follows a fixed protocol, which the [`Workspace`](crate::Workspace) runs for you:
/// 1. [`forward_train`](Layer::forward_train) computes the output and records what backward
///    needs in a caller-owned [`Cache`](Layer::Cache), reused from step to step;
/// 2. [`backward`](Layer::backward) receives the input, the output, the cache and the gradient
///    of the loss with respect to the output; it **adds** the parameter gradients into `grad`
///    (zeroing is the caller's choice) and returns the gradient with respect to the input;
/// 3. [`update_buffers`](Layer::update_buffers) applies non-gradient state changes recorded
///    during the forward pass (batch-norm running statistics).
///
/// [`forward`](Layer::forward) is inference: no cache, inference behaviour (e.g. running
/// statistics, no dropout). The method names carry the mode, so it cannot be forgotten.
#[diagnostic::on_unimplemented(
    message = "layer `{Self}` cannot take `{X}` as input",
    label = "this layer does not accept that input",
    note = "a layer's input must have the width (rows) of the previous layer's output; a batch is a matrix whose columns are samples"
)]
pub trait Layer<T: Real, X>: Parameters<T> {
    /// What the layer produces.
    type Output: Tensors<T> + Zeroable + Clone;
    /// What the training forward pass records for the backward pass, beyond the input and output.
    type Cache: Zeroable + Clone;

    /// Inference forward pass.
    fn forward(&self, x: &X) -> Self::Output;

    /// Training forward pass: the same output as training-mode PyTorch, recording into `cache`.
    fn forward_train(&self, x: &X, cache: &mut Self::Cache) -> Self::Output;

    /// Adds `d loss / d parameters` into `grad` and returns `d loss / d x`, given the `x`, `y`
    /// and `cache` of the matching [`forward_train`](Layer::forward_train) and `dy = d loss / d y`.
    fn backward(&self, x: &X, y: &Self::Output, cache: &Self::Cache, dy: &Self::Output, grad: &mut Self::Gradient)
    -> X;

    /// Like [`backward`](Layer::backward) without computing the input gradient: what the first
    /// layer of a network needs. Layers for which that gradient is costly override it.
    fn backward_parameters(
        &self,
        x: &X,
        y: &Self::Output,
        cache: &Self::Cache,
        dy: &Self::Output,
        grad: &mut Self::Gradient,
    ) {
        let _ = self.backward(x, y, cache, dy, grad);
    }

    /// [`backward`](Layer::backward), then `update` called on every trainable tensor of the
    /// layer with its gradient and state, as [`Parameters::zip_gradient`] calls it: the fused
    /// training step ([`Optimizer::backward_step`](crate::Optimizer::backward_step)) updates
    /// each layer as soon as its gradient is complete, so that the optimizer's arithmetic (Adam's
    /// square roots and divisions) overlaps the backward pass of the layers before it instead
    /// of waiting for the whole of it. The input gradient is computed with the weights before
    /// the update, and `grad` receives the same gradient as from
    /// [`backward`](Layer::backward).
    ///
    /// The default, right for any layer, updates after the layer's whole backward pass;
    /// sequences override it to update each part in turn, last part first.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn backward_update<const K: usize>(
        &mut self,
        x: &X,
        y: &Self::Output,
        cache: &Self::Cache,
        dy: &Self::Output,
        grad: &mut Self::Gradient,
        state: [&mut Self::Gradient; K],
        update: &mut impl FnMut(&mut [T], &[T], [&mut [T]; K]),
    ) -> X {
        let dx = self.backward(x, y, cache, dy, grad);
        self.zip_gradient(grad, state, update);
        dx
    }

    /// [`backward_update`](Layer::backward_update) without computing the input gradient, as
    /// [`backward_parameters`](Layer::backward_parameters) is to [`backward`](Layer::backward):
    /// what the first layer of a network needs.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn backward_parameters_update<const K: usize>(
        &mut self,
        x: &X,
        y: &Self::Output,
        cache: &Self::Cache,
        dy: &Self::Output,
        grad: &mut Self::Gradient,
        state: [&mut Self::Gradient; K],
        update: &mut impl FnMut(&mut [T], &[T], [&mut [T]; K]),
    ) {
        self.backward_parameters(x, y, cache, dy, grad);
        self.zip_gradient(grad, state, update);
    }

    /// Inference-mode forward pass that records for a backward pass: PyTorch's `module.eval()`
    /// followed by a forward pass with gradients. Batch norm normalises with its running
    /// statistics and dropout is the identity, as in [`forward`](Layer::forward), while `cache`
    /// is filled for [`backward_eval`](Layer::backward_eval). [`Eval`](crate::Eval) and
    /// [`Frozen`](crate::Frozen) train through it.
    ///
    /// The default is [`forward_train`](Layer::forward_train), right for every layer whose
    /// training and inference functions agree. Layers whose modes differ ([`BatchNorm`](crate::BatchNorm),
    /// [`Dropout`](crate::Dropout)) override both methods, and composites forward them to
    /// their parts.
    fn forward_eval(&self, x: &X, cache: &mut Self::Cache) -> Self::Output {
        self.forward_train(x, cache)
    }

    /// The backward pass of [`forward_eval`](Layer::forward_eval): adds the parameter gradients
    /// of the inference-mode function into `grad` and returns its input gradient. The default
    /// is [`backward`](Layer::backward).
    fn backward_eval(
        &self,
        x: &X,
        y: &Self::Output,
        cache: &Self::Cache,
        dy: &Self::Output,
        grad: &mut Self::Gradient,
    ) -> X {
        self.backward(x, y, cache, dy, grad)
    }

    /// Applies the non-gradient updates recorded by [`forward_train`](Layer::forward_train).
    fn update_buffers(&mut self, cache: &Self::Cache) {
        let _ = cache;
    }

    /// Whether [`update_buffers`](Layer::update_buffers) with `cache` would leave every buffer
    /// finite (and every variance ≥ 0), found by computing the new values without writing
    /// them. The guarded step ([`Workspace::apply_gradient`](crate::Workspace::apply_gradient))
    /// asks before it changes anything, so a step that would poison a running statistic commits
    /// nothing. `position` is this layer's position in the network, as for
    /// [`visit_activations`](Layer::visit_activations). The default, for layers without
    /// buffers, accepts; a layer that updates buffers checks them, and composites ask their
    /// parts in order. It allocates nothing.
    ///
    /// # Errors
    /// [`BufferFault`]: the first buffer value that would become non-finite or negative.
    fn check_buffer_update(&self, cache: &Self::Cache, position: usize) -> Result<(), BufferFault<T>> {
        let _ = (cache, position);
        Ok(())
    }

    /// Names of the counters in the cache that later training passes depend on (dropout's
    /// call count, which selects the next mask), in order. A checkpoint that is to resume
    /// bit for bit carries them: the [`Workspace`](crate::Workspace) is
    /// [`Counters`](crate::Counters) through these three methods. Default: none.
    fn cache_counter_names() -> impl Iterator<Item = &'static str> {
        core::iter::empty()
    }

    /// The cache's counters, in the order of [`Layer::cache_counter_names`].
    fn cache_counters(cache: &Self::Cache) -> impl Iterator<Item = u64> {
        let _ = cache;
        core::iter::empty()
    }

    /// The cache's counters, mutable, in the order of [`Layer::cache_counter_names`].
    fn cache_counters_mut(cache: &mut Self::Cache) -> impl Iterator<Item = &mut u64> {
        let _ = cache;
        core::iter::empty()
    }

    /// Shows `visitor` what every activation layer inside computed during the
    /// [`forward_train`](Layer::forward_train) that filled `cache` (with input `x` and output
    /// `y`), in forward order. `position` is this layer's position in the whole network (0 for
    /// the network itself); each activation is reported at its own position, counted as
    /// [`TensorInfo::layer`] counts.
    ///
    /// Diagnostics ([`ActivationHealth`](crate::diagnostics::ActivationHealth)) use it to measure
    /// saturated and dead units without the network being restructured. The default does
    /// nothing, which is right for a layer that is neither an activation nor contains one;
    /// composites (tuples, arrays, [`Residual`](crate::Residual), [`Concat`](crate::Concat))
    /// forward it to their parts, and [`elementwise_layer!`](crate::elementwise_layer) implements
    /// it for activations. It allocates nothing.
    ///
    /// ```
    /// use static_nn::prelude::*;
    /// use static_nn::Activations;
    /// use static_nn::nalgebra::SMatrix;
    ///
    /// type Net = (Dense<f64, 2, 3>, Tanh, Dense<f64, 3, 3>, Relu, Dense<f64, 3, 1>);
    /// let net = Net::build(Init::PyTorch, &mut Rng::new(0));
    /// let x = SMatrix::<f64, 2, 4>::from_fn(|i, j| (i + j) as f64);
    /// let mut workspace = Workspace::new();
    /// workspace.compute_gradient(&net, &Mse, &x, &SMatrix::zeros());
    /// let mut seen = Vec::new();
    /// net.visit_activations(&x, &workspace.output, &workspace.cache, 0, &mut |a: Activations<'_, f64>| {
    ///     seen.push((a.position, a.units, a.output.len()));
    /// });
    /// assert_eq!(seen, [(1, 3, 12), (3, 3, 12)]);
    /// ```
    fn visit_activations(
        &self,
        x: &X,
        y: &Self::Output,
        cache: &Self::Cache,
        position: usize,
        visitor: &mut dyn ActivationVisitor<T>,
    ) {
        let _ = (x, y, cache, position, visitor);
    }
}

/// A buffer value that a training step would have made non-finite or negative: what
/// [`Layer::check_buffer_update`] reports, and the guarded step passes on as
/// [`NonFiniteStep::Buffer`](crate::NonFiniteStep::Buffer).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BufferFault<T> {
    /// The position of the layer holding the buffer, counted as [`TensorInfo::layer`] counts.
    pub layer: usize,
    /// The buffer's name (`running_var`).
    pub buffer: &'static str,
    /// The index of the value in the buffer.
    pub index: usize,
    /// The value it would have taken.
    pub value: T,
}

impl<T: Real, A: Parameters<T>, const N: usize> Parameters<T> for [A; N] {
    type Gradient = [A::Gradient; N];

    #[inline(always)]
    fn zip_gradient<const K: usize>(
        &mut self,
        grad: &Self::Gradient,
        mut state: [&mut Self::Gradient; K],
        f: &mut impl FnMut(&mut [T], &[T], [&mut [T]; K]),
    ) {
        for (i, (a, g)) in self.iter_mut().zip(grad).enumerate() {
            a.zip_gradient(g, state.each_mut().map(|s| &mut s[i]), f);
        }
    }

    fn reset(&mut self, init: Init, rng: &mut Rng) {
        for a in self {
            a.reset(init, rng);
        }
    }
    fn set_hyperparameters(&mut self, template: Option<&Self>) {
        for (i, a) in self.iter_mut().enumerate() {
            a.set_hyperparameters(template.map(|t| &t[i]));
        }
    }

    fn buffers(&self) -> impl Iterator<Item = &[T]> {
        self.iter().flat_map(|a| a.buffers())
    }
    fn buffers_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.iter_mut().flat_map(|a| a.buffers_mut())
    }
    fn buffer_infos() -> impl Iterator<Item = TensorInfo> {
        (0..N).flat_map(|i| A::buffer_infos().map(move |t| t.shifted(i * A::LAYERS)))
    }
    fn non_negative_buffers() -> impl Iterator<Item = bool> {
        (0..N).flat_map(|_| A::non_negative_buffers())
    }
    fn state_dict(&self) -> impl Iterator<Item = &[T]> {
        self.iter().flat_map(|a| a.state_dict())
    }
    fn state_dict_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.iter_mut().flat_map(|a| a.state_dict_mut())
    }
    fn state_dict_infos() -> impl Iterator<Item = TensorInfo> {
        (0..N).flat_map(|i| A::state_dict_infos().map(move |t| t.shifted(i * A::LAYERS)))
    }
}

/// A bare matrix or vector of parameters, its own gradient: what lets an optimizer minimise any
/// differentiable function of a parameter vector, not only a network's loss.
///
/// `reset` draws every entry as [`Init`] draws a weight of shape `R × C` (fan-in `C`, fan-out
/// `R`, as for [`Dense`](crate::Dense)'s `O × I` weight); a column vector has fan-in 1.
///
/// ```
/// use static_nn::{Adam, AdamConfig, Optimizer};
/// use static_nn::nalgebra::Vector2;
///
/// // Minimise f(θ) = (θ₀ − 3)² + (θ₁ + 1)², whose gradient is 2 (θ − (3, −1)).
/// let mut theta = Vector2::new(0.0_f64, 0.0);
/// let mut adam = Adam::new(AdamConfig::with_lr(0.1));
/// for _ in 0..500 {
///     let grad = (theta - Vector2::new(3.0, -1.0)) * 2.0;
///     adam.step(&mut theta, &grad);
/// }
/// assert!((theta - Vector2::new(3.0, -1.0)).norm() < 1e-3);
/// ```
impl<T: Real, const R: usize, const C: usize> Parameters<T> for SMatrix<T, R, C> {
    type Gradient = Self;

    #[inline(always)]
    fn zip_gradient<const K: usize>(
        &mut self,
        grad: &Self,
        state: [&mut Self; K],
        f: &mut impl FnMut(&mut [T], &[T], [&mut [T]; K]),
    ) {
        (*f)(self.as_mut_slice(), grad.as_slice(), state.map(|s| s.as_mut_slice()));
    }

    fn reset(&mut self, init: Init, rng: &mut Rng) {
        init.fill_weight(self.as_mut_slice(), C, R, rng);
    }
}

/// `N` copies of a layer whose output has the type of its input, applied one after another.
/// Repeated blocks (`[(Dense<f32, 64, 64>, Relu); 5]`) stay short to write and to compile.
impl<T: Real, X, L, const N: usize> Layer<T, X> for [L; N]
where
    X: Tensors<T> + Zeroable + Clone,
    L: Layer<T, X, Output = X>,
{
    type Output = X;
    type Cache = [(L::Cache, X); N];

    fn forward(&self, x: &X) -> X {
        let mut h = x.clone();
        for layer in self {
            h = layer.forward(&h);
        }
        h
    }

    fn forward_train(&self, x: &X, cache: &mut Self::Cache) -> X {
        for (i, layer) in self.iter().enumerate() {
            let (done, rest) = cache.split_at_mut(i);
            let input = done.last().map_or(x, |(_, y)| y);
            let (layer_cache, output) = &mut rest[0];
            *output = layer.forward_train(input, layer_cache);
        }
        cache.last().map_or_else(|| x.clone(), |(_, y)| y.clone())
    }

    fn backward(&self, x: &X, _y: &X, cache: &Self::Cache, dy: &X, grad: &mut Self::Gradient) -> X {
        let mut d = dy.clone();
        for i in (0..N).rev() {
            let input = if i == 0 { x } else { &cache[i - 1].1 };
            d = self[i].backward(input, &cache[i].1, &cache[i].0, &d, &mut grad[i]);
        }
        d
    }

    // Not inlined, as `backward` is not: the loop is compiled for the widest vectors on its
    // own, so that `update` inlines into it with them.
    fn backward_update<const K: usize>(
        &mut self,
        x: &X,
        _y: &X,
        cache: &Self::Cache,
        dy: &X,
        grad: &mut Self::Gradient,
        mut state: [&mut Self::Gradient; K],
        update: &mut impl FnMut(&mut [T], &[T], [&mut [T]; K]),
    ) -> X {
        crate::simd::widest(
            #[inline(always)]
            || {
                let mut d = dy.clone();
                for i in (0..N).rev() {
                    let input = if i == 0 { x } else { &cache[i - 1].1 };
                    let state = state.each_mut().map(|s| &mut s[i]);
                    d = self[i].backward_update(input, &cache[i].1, &cache[i].0, &d, &mut grad[i], state, update);
                }
                d
            },
        )
    }

    fn backward_parameters_update<const K: usize>(
        &mut self,
        x: &X,
        y: &X,
        cache: &Self::Cache,
        dy: &X,
        grad: &mut Self::Gradient,
        state: [&mut Self::Gradient; K],
        update: &mut impl FnMut(&mut [T], &[T], [&mut [T]; K]),
    ) {
        let _ = self.backward_update(x, y, cache, dy, grad, state, update);
    }

    fn forward_eval(&self, x: &X, cache: &mut Self::Cache) -> X {
        for (i, layer) in self.iter().enumerate() {
            let (done, rest) = cache.split_at_mut(i);
            let input = done.last().map_or(x, |(_, y)| y);
            let (layer_cache, output) = &mut rest[0];
            *output = layer.forward_eval(input, layer_cache);
        }
        cache.last().map_or_else(|| x.clone(), |(_, y)| y.clone())
    }

    fn backward_eval(&self, x: &X, _y: &X, cache: &Self::Cache, dy: &X, grad: &mut Self::Gradient) -> X {
        let mut d = dy.clone();
        for i in (0..N).rev() {
            let input = if i == 0 { x } else { &cache[i - 1].1 };
            d = self[i].backward_eval(input, &cache[i].1, &cache[i].0, &d, &mut grad[i]);
        }
        d
    }

    fn update_buffers(&mut self, cache: &Self::Cache) {
        for (layer, (layer_cache, _)) in self.iter_mut().zip(cache) {
            layer.update_buffers(layer_cache);
        }
    }

    fn check_buffer_update(&self, cache: &Self::Cache, position: usize) -> Result<(), BufferFault<T>> {
        for (i, (layer, (layer_cache, _))) in self.iter().zip(cache).enumerate() {
            layer.check_buffer_update(layer_cache, position + i * L::LAYERS)?;
        }
        Ok(())
    }

    fn cache_counter_names() -> impl Iterator<Item = &'static str> {
        (0..N).flat_map(|_| L::cache_counter_names())
    }
    fn cache_counters(cache: &Self::Cache) -> impl Iterator<Item = u64> {
        cache.iter().flat_map(|(layer_cache, _)| L::cache_counters(layer_cache))
    }
    fn cache_counters_mut(cache: &mut Self::Cache) -> impl Iterator<Item = &mut u64> {
        cache
            .iter_mut()
            .flat_map(|(layer_cache, _)| L::cache_counters_mut(layer_cache))
    }

    fn visit_activations(
        &self,
        x: &X,
        _y: &X,
        cache: &Self::Cache,
        position: usize,
        visitor: &mut dyn ActivationVisitor<T>,
    ) {
        for (i, (layer, (layer_cache, output))) in self.iter().zip(cache).enumerate() {
            let input = if i == 0 { x } else { &cache[i - 1].1 };
            layer.visit_activations(input, output, layer_cache, position + i * L::LAYERS, visitor);
        }
    }
}

impl<T: Real, A: Parameters<T>> Parameters<T> for (A,) {
    type Gradient = (A::Gradient,);

    #[inline(always)]
    fn zip_gradient<const K: usize>(
        &mut self,
        grad: &Self::Gradient,
        state: [&mut Self::Gradient; K],
        f: &mut impl FnMut(&mut [T], &[T], [&mut [T]; K]),
    ) {
        self.0.zip_gradient(&grad.0, state.map(|s| &mut s.0), f);
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
        A::buffer_infos()
    }
    fn non_negative_buffers() -> impl Iterator<Item = bool> {
        A::non_negative_buffers()
    }
    fn state_dict(&self) -> impl Iterator<Item = &[T]> {
        self.0.state_dict()
    }
    fn state_dict_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        self.0.state_dict_mut()
    }
    fn state_dict_infos() -> impl Iterator<Item = TensorInfo> {
        A::state_dict_infos()
    }
}

impl<T: Real, X, A: Layer<T, X>> Layer<T, X> for (A,) {
    type Output = A::Output;
    type Cache = A::Cache;

    fn forward(&self, x: &X) -> A::Output {
        self.0.forward(x)
    }
    fn forward_train(&self, x: &X, cache: &mut A::Cache) -> A::Output {
        self.0.forward_train(x, cache)
    }
    fn backward(&self, x: &X, y: &A::Output, cache: &A::Cache, dy: &A::Output, grad: &mut Self::Gradient) -> X {
        self.0.backward(x, y, cache, dy, &mut grad.0)
    }
    fn backward_parameters(&self, x: &X, y: &A::Output, cache: &A::Cache, dy: &A::Output, grad: &mut Self::Gradient) {
        self.0.backward_parameters(x, y, cache, dy, &mut grad.0);
    }
    #[inline(always)]
    fn backward_update<const K: usize>(
        &mut self,
        x: &X,
        y: &A::Output,
        cache: &A::Cache,
        dy: &A::Output,
        grad: &mut Self::Gradient,
        state: [&mut Self::Gradient; K],
        update: &mut impl FnMut(&mut [T], &[T], [&mut [T]; K]),
    ) -> X {
        self.0
            .backward_update(x, y, cache, dy, &mut grad.0, state.map(|s| &mut s.0), update)
    }
    #[inline(always)]
    fn backward_parameters_update<const K: usize>(
        &mut self,
        x: &X,
        y: &A::Output,
        cache: &A::Cache,
        dy: &A::Output,
        grad: &mut Self::Gradient,
        state: [&mut Self::Gradient; K],
        update: &mut impl FnMut(&mut [T], &[T], [&mut [T]; K]),
    ) {
        self.0
            .backward_parameters_update(x, y, cache, dy, &mut grad.0, state.map(|s| &mut s.0), update);
    }
    fn forward_eval(&self, x: &X, cache: &mut A::Cache) -> A::Output {
        self.0.forward_eval(x, cache)
    }
    fn backward_eval(&self, x: &X, y: &A::Output, cache: &A::Cache, dy: &A::Output, grad: &mut Self::Gradient) -> X {
        self.0.backward_eval(x, y, cache, dy, &mut grad.0)
    }
    fn update_buffers(&mut self, cache: &A::Cache) {
        self.0.update_buffers(cache);
    }
    fn check_buffer_update(&self, cache: &A::Cache, position: usize) -> Result<(), BufferFault<T>> {
        self.0.check_buffer_update(cache, position)
    }
    fn cache_counter_names() -> impl Iterator<Item = &'static str> {
        A::cache_counter_names()
    }
    fn cache_counters(cache: &A::Cache) -> impl Iterator<Item = u64> {
        A::cache_counters(cache)
    }
    fn cache_counters_mut(cache: &mut A::Cache) -> impl Iterator<Item = &mut u64> {
        A::cache_counters_mut(cache)
    }
    fn visit_activations(
        &self,
        x: &X,
        y: &A::Output,
        cache: &A::Cache,
        position: usize,
        visitor: &mut dyn ActivationVisitor<T>,
    ) {
        self.0.visit_activations(x, y, cache, position, visitor);
    }
}

/// Implements `Parameters` and `Layer` for a tuple of layers applied in order.
///
/// The cache of a tuple holds, for every layer but the last, that layer's cache and its output
/// (the next layer's input), so each intermediate value is stored exactly once. `backward` walks
/// the layers in reverse, which macro repetition cannot do, hence the `reversed` list.
macro_rules! sequential {
    (
        first [$A:ident $a:tt $YA:ident]
        middle $([$M:ident $m:tt $MIn:ident $MOut:ident $mp:tt])*
        reversed $([$R:ident $r:tt $RIn:ident $ROut:ident $rp:tt])*
        last [$Z:ident $z:tt $ZIn:ident $zp:tt]
    ) => {
        impl<T: Real, $A: Parameters<T>, $($M: Parameters<T>,)* $Z: Parameters<T>> Parameters<T>
            for ($A, $($M,)* $Z)
        {
            type Gradient = ($A::Gradient, $($M::Gradient,)* $Z::Gradient);

            #[inline(always)]
            fn zip_gradient<const K: usize>(
                &mut self,
                grad: &Self::Gradient,
                mut state: [&mut Self::Gradient; K],
                f: &mut impl FnMut(&mut [T], &[T], [&mut [T]; K]),
            ) {
                self.$a.zip_gradient(&grad.$a, state.each_mut().map(|s| &mut s.$a), f);
                $(self.$m.zip_gradient(&grad.$m, state.each_mut().map(|s| &mut s.$m), f);)*
                self.$z.zip_gradient(&grad.$z, state.map(|s| &mut s.$z), f);
            }

            fn reset(&mut self, init: Init, rng: &mut Rng) {
                self.$a.reset(init, rng);
                $(self.$m.reset(init, rng);)*
                self.$z.reset(init, rng);
            }
            fn set_hyperparameters(&mut self, template: Option<&Self>) {
                self.$a.set_hyperparameters(template.map(|t| &t.$a));
                $(self.$m.set_hyperparameters(template.map(|t| &t.$m));)*
                self.$z.set_hyperparameters(template.map(|t| &t.$z));
            }
            fn buffers(&self) -> impl Iterator<Item = &[T]> {
                self.$a.buffers() $(.chain(self.$m.buffers()))* .chain(self.$z.buffers())
            }
            fn buffers_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
                self.$a.buffers_mut() $(.chain(self.$m.buffers_mut()))* .chain(self.$z.buffers_mut())
            }
            // The running offset is written once more after the last element, and never
            // written at all for a pair.
            #[allow(unused_assignments, unused_mut)]
            fn buffer_infos() -> impl Iterator<Item = TensorInfo> {
                let mut offset = $A::LAYERS;
                $A::buffer_infos()
                    $(.chain({
                        let start = offset;
                        offset += $M::LAYERS;
                        $M::buffer_infos().map(move |t| t.shifted(start))
                    }))*
                    .chain($Z::buffer_infos().map(move |t| t.shifted(offset)))
            }
            fn non_negative_buffers() -> impl Iterator<Item = bool> {
                $A::non_negative_buffers() $(.chain($M::non_negative_buffers()))* .chain($Z::non_negative_buffers())
            }
            fn state_dict(&self) -> impl Iterator<Item = &[T]> {
                self.$a.state_dict() $(.chain(self.$m.state_dict()))* .chain(self.$z.state_dict())
            }
            fn state_dict_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
                self.$a.state_dict_mut() $(.chain(self.$m.state_dict_mut()))* .chain(self.$z.state_dict_mut())
            }
            #[allow(unused_assignments, unused_mut)]
            fn state_dict_infos() -> impl Iterator<Item = TensorInfo> {
                let mut offset = $A::LAYERS;
                $A::state_dict_infos()
                    $(.chain({
                        let start = offset;
                        offset += $M::LAYERS;
                        $M::state_dict_infos().map(move |t| t.shifted(start))
                    }))*
                    .chain($Z::state_dict_infos().map(move |t| t.shifted(offset)))
            }
        }

        impl<T: Real, X, $A, $YA, $($M, $MOut,)* $Z> Layer<T, X> for ($A, $($M,)* $Z)
        where
            $A: Layer<T, X, Output = $YA>,
            $($M: Layer<T, $MIn, Output = $MOut>,)*
            $Z: Layer<T, $ZIn>,
            $YA: Zeroable + Clone,
            $($MOut: Zeroable + Clone,)*
        {
            type Output = <$Z as Layer<T, $ZIn>>::Output;
            type Cache = (
                (<$A as Layer<T, X>>::Cache, $YA),
                $((<$M as Layer<T, $MIn>>::Cache, $MOut),)*
                <$Z as Layer<T, $ZIn>>::Cache,
            );

            fn forward(&self, x: &X) -> Self::Output {
                crate::simd::widest(
                    #[inline(always)]
                    || {
                        let h = self.$a.forward(x);
                        $(let h = self.$m.forward(&h);)*
                        self.$z.forward(&h)
                    },
                )
            }

            #[inline(always)]
            fn forward_train(&self, x: &X, cache: &mut Self::Cache) -> Self::Output {
                cache.$a.1 = self.$a.forward_train(x, &mut cache.$a.0);
                $(cache.$m.1 = self.$m.forward_train(&cache.$mp.1, &mut cache.$m.0);)*
                self.$z.forward_train(&cache.$zp.1, &mut cache.$z)
            }

            #[inline(always)]
            fn backward(
                &self,
                x: &X,
                y: &Self::Output,
                cache: &Self::Cache,
                dy: &Self::Output,
                grad: &mut Self::Gradient,
            ) -> X {
                let d = self.$z.backward(&cache.$zp.1, y, &cache.$z, dy, &mut grad.$z);
                $(let d = self.$r.backward(&cache.$rp.1, &cache.$r.1, &cache.$r.0, &d, &mut grad.$r);)*
                self.$a.backward(x, &cache.$a.1, &cache.$a.0, &d, &mut grad.$a)
            }

            #[inline(always)]
            fn backward_parameters(
                &self,
                x: &X,
                y: &Self::Output,
                cache: &Self::Cache,
                dy: &Self::Output,
                grad: &mut Self::Gradient,
            ) {
                let d = self.$z.backward(&cache.$zp.1, y, &cache.$z, dy, &mut grad.$z);
                $(let d = self.$r.backward(&cache.$rp.1, &cache.$r.1, &cache.$r.0, &d, &mut grad.$r);)*
                self.$a.backward_parameters(x, &cache.$a.1, &cache.$a.0, &d, &mut grad.$a);
            }

            // Each part is updated as soon as its backward pass is done, last part first.
            #[inline(always)]
            fn backward_update<const K: usize>(
                &mut self,
                x: &X,
                y: &Self::Output,
                cache: &Self::Cache,
                dy: &Self::Output,
                grad: &mut Self::Gradient,
                mut state: [&mut Self::Gradient; K],
                update: &mut impl FnMut(&mut [T], &[T], [&mut [T]; K]),
            ) -> X {
                let d = self.$z.backward_update(
                    &cache.$zp.1, y, &cache.$z, dy, &mut grad.$z, state.each_mut().map(|s| &mut s.$z), update,
                );
                $(let d = self.$r.backward_update(
                    &cache.$rp.1, &cache.$r.1, &cache.$r.0, &d, &mut grad.$r,
                    state.each_mut().map(|s| &mut s.$r), update,
                );)*
                self.$a.backward_update(x, &cache.$a.1, &cache.$a.0, &d, &mut grad.$a, state.map(|s| &mut s.$a), update)
            }

            #[inline(always)]
            fn backward_parameters_update<const K: usize>(
                &mut self,
                x: &X,
                y: &Self::Output,
                cache: &Self::Cache,
                dy: &Self::Output,
                grad: &mut Self::Gradient,
                mut state: [&mut Self::Gradient; K],
                update: &mut impl FnMut(&mut [T], &[T], [&mut [T]; K]),
            ) {
                let d = self.$z.backward_update(
                    &cache.$zp.1, y, &cache.$z, dy, &mut grad.$z, state.each_mut().map(|s| &mut s.$z), update,
                );
                $(let d = self.$r.backward_update(
                    &cache.$rp.1, &cache.$r.1, &cache.$r.0, &d, &mut grad.$r,
                    state.each_mut().map(|s| &mut s.$r), update,
                );)*
                self.$a.backward_parameters_update(
                    x, &cache.$a.1, &cache.$a.0, &d, &mut grad.$a, state.map(|s| &mut s.$a), update,
                );
            }

            fn forward_eval(&self, x: &X, cache: &mut Self::Cache) -> Self::Output {
                cache.$a.1 = self.$a.forward_eval(x, &mut cache.$a.0);
                $(cache.$m.1 = self.$m.forward_eval(&cache.$mp.1, &mut cache.$m.0);)*
                self.$z.forward_eval(&cache.$zp.1, &mut cache.$z)
            }

            fn backward_eval(
                &self,
                x: &X,
                y: &Self::Output,
                cache: &Self::Cache,
                dy: &Self::Output,
                grad: &mut Self::Gradient,
            ) -> X {
                let d = self.$z.backward_eval(&cache.$zp.1, y, &cache.$z, dy, &mut grad.$z);
                $(let d = self.$r.backward_eval(&cache.$rp.1, &cache.$r.1, &cache.$r.0, &d, &mut grad.$r);)*
                self.$a.backward_eval(x, &cache.$a.1, &cache.$a.0, &d, &mut grad.$a)
            }

            fn update_buffers(&mut self, cache: &Self::Cache) {
                self.$a.update_buffers(&cache.$a.0);
                $(self.$m.update_buffers(&cache.$m.0);)*
                self.$z.update_buffers(&cache.$z);
            }

            // As in `visit_activations`.
            #[allow(unused_assignments, unused_mut)]
            fn check_buffer_update(&self, cache: &Self::Cache, position: usize) -> Result<(), BufferFault<T>> {
                self.$a.check_buffer_update(&cache.$a.0, position)?;
                let mut at = position + <$A as Tensors<T>>::LAYERS;
                $(
                    self.$m.check_buffer_update(&cache.$m.0, at)?;
                    at += <$M as Tensors<T>>::LAYERS;
                )*
                self.$z.check_buffer_update(&cache.$z, at)
            }

            fn cache_counter_names() -> impl Iterator<Item = &'static str> {
                <$A as Layer<T, X>>::cache_counter_names()
                    $(.chain(<$M as Layer<T, $MIn>>::cache_counter_names()))*
                    .chain(<$Z as Layer<T, $ZIn>>::cache_counter_names())
            }
            fn cache_counters(cache: &Self::Cache) -> impl Iterator<Item = u64> {
                <$A as Layer<T, X>>::cache_counters(&cache.$a.0)
                    $(.chain(<$M as Layer<T, $MIn>>::cache_counters(&cache.$m.0)))*
                    .chain(<$Z as Layer<T, $ZIn>>::cache_counters(&cache.$z))
            }
            fn cache_counters_mut(cache: &mut Self::Cache) -> impl Iterator<Item = &mut u64> {
                <$A as Layer<T, X>>::cache_counters_mut(&mut cache.$a.0)
                    $(.chain(<$M as Layer<T, $MIn>>::cache_counters_mut(&mut cache.$m.0)))*
                    .chain(<$Z as Layer<T, $ZIn>>::cache_counters_mut(&mut cache.$z))
            }

            // The running position is written once more after the last middle element, and
            // never advanced at all for a pair.
            #[allow(unused_assignments, unused_mut)]
            fn visit_activations(
                &self,
                x: &X,
                y: &Self::Output,
                cache: &Self::Cache,
                position: usize,
                visitor: &mut dyn ActivationVisitor<T>,
            ) {
                self.$a.visit_activations(x, &cache.$a.1, &cache.$a.0, position, visitor);
                let mut at = position + <$A as Tensors<T>>::LAYERS;
                $(
                    self.$m.visit_activations(&cache.$mp.1, &cache.$m.1, &cache.$m.0, at, visitor);
                    at += <$M as Tensors<T>>::LAYERS;
                )*
                self.$z.visit_activations(&cache.$zp.1, y, &cache.$z, at, visitor);
            }
        }
    };
}

sequential! {
    first [A 0 YA] middle reversed last [B 1 YA 0]
}
sequential! {
    first [A 0 YA] middle [B 1 YA YB 0] reversed [B 1 YA YB 0] last [C 2 YB 1]
}
sequential! {
    first [A 0 YA]
    middle [B 1 YA YB 0] [C 2 YB YC 1]
    reversed [C 2 YB YC 1] [B 1 YA YB 0]
    last [D 3 YC 2]
}
sequential! {
    first [A 0 YA]
    middle [B 1 YA YB 0] [C 2 YB YC 1] [D 3 YC YD 2]
    reversed [D 3 YC YD 2] [C 2 YB YC 1] [B 1 YA YB 0]
    last [E 4 YD 3]
}
sequential! {
    first [A 0 YA]
    middle [B 1 YA YB 0] [C 2 YB YC 1] [D 3 YC YD 2] [E 4 YD YE 3]
    reversed [E 4 YD YE 3] [D 3 YC YD 2] [C 2 YB YC 1] [B 1 YA YB 0]
    last [F 5 YE 4]
}
sequential! {
    first [A 0 YA]
    middle [B 1 YA YB 0] [C 2 YB YC 1] [D 3 YC YD 2] [E 4 YD YE 3] [F 5 YE YF 4]
    reversed [F 5 YE YF 4] [E 4 YD YE 3] [D 3 YC YD 2] [C 2 YB YC 1] [B 1 YA YB 0]
    last [G 6 YF 5]
}
sequential! {
    first [A 0 YA]
    middle [B 1 YA YB 0] [C 2 YB YC 1] [D 3 YC YD 2] [E 4 YD YE 3] [F 5 YE YF 4] [G 6 YF YG 5]
    reversed [G 6 YF YG 5] [F 5 YE YF 4] [E 4 YD YE 3] [D 3 YC YD 2] [C 2 YB YC 1] [B 1 YA YB 0]
    last [H 7 YG 6]
}

/// Implements [`Tensors`](crate::Tensors) and [`Parameters`](crate::Parameters) for a layer
/// with no trainable tensors and no buffers: it occupies one layer position, its gradient is
/// `()`, [`Parameters::reset`] draws nothing, and the whole value is its hyperparameters:
/// [`Parameters::set_hyperparameters`] copies the template or restores `Default::default()` (so
/// the type must implement `Clone` and `Default`). The type may mention the scalar as `T`; a
/// type with const parameters lists them first in brackets.
/// `Zeroable` derives through the re-exported `bytemuck`
/// (`#[bytemuck(crate = "static_nn::bytemuck")]`), with no dependency of your own.
///
/// ```
/// use static_nn::{parameter_free_layer, Parameters, Tensors};
///
/// /// Doubles its input.
/// #[derive(Clone, Copy, Debug, Default, static_nn::bytemuck::Zeroable)]
/// #[bytemuck(crate = "static_nn::bytemuck")]
/// pub struct Double;
/// parameter_free_layer!(Double);
///
/// /// Keeps the first `N` features.
/// #[derive(Clone, Copy, Debug, Default, bytemuck::Zeroable)]
/// pub struct Truncate<const N: usize>;
/// parameter_free_layer!([const N: usize] Truncate<N>);
///
/// assert_eq!(<Double as Tensors<f32>>::LAYERS, 1);
/// assert_eq!(<Truncate<3> as Tensors<f64>>::scalar_count(), 0);
/// ```
#[macro_export]
macro_rules! parameter_free_layer {
    ([$($generics:tt)*] $ty:ty) => {
        impl<T: $crate::Real, $($generics)*> $crate::Tensors<T> for $ty {
            const LAYERS: usize = 1;
            fn tensors(&self) -> impl Iterator<Item = &[T]> {
                ::core::iter::empty()
            }
            fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
                ::core::iter::empty()
            }
            fn tensor_infos() -> impl Iterator<Item = $crate::TensorInfo> {
                ::core::iter::empty()
            }
        }

        impl<T: $crate::Real, $($generics)*> $crate::Parameters<T> for $ty {
            type Gradient = ();
            #[inline(always)]
            fn zip_gradient<const BUFFERS: usize>(
                &mut self,
                _grad: &(),
                _state: [&mut (); BUFFERS],
                _f: &mut impl FnMut(&mut [T], &[T], [&mut [T]; BUFFERS]),
            ) {
            }
            fn reset(&mut self, _init: $crate::Init, _rng: &mut $crate::Rng) {}
            fn set_hyperparameters(&mut self, template: ::core::option::Option<&Self>) {
                *self = template.map_or_else(::core::default::Default::default, ::core::clone::Clone::clone);
            }
        }
    };
    // After the bracketed arm: `[..]` alone would parse as a slice type.
    ($ty:ty) => {
        $crate::parameter_free_layer!([] $ty);
    };
}

/// The type of a sequence of layers of any length.
///
/// Up to eight layers it is the plain tuple; longer sequences nest (the first seven layers, then
/// a `Seq!` of the rest), because tuples implement the traits up to eight elements. Layer
/// positions ([`TensorInfo::layer`](crate::TensorInfo)) are counted through the nesting, so they
/// match PyTorch's `nn.Sequential` indices either way.
///
/// ```
/// use static_nn::{Dense, Seq, Sigmoid, Tensors};
/// type Deep = Seq![
///     Dense<f32, 4, 8>, Sigmoid, Dense<f32, 8, 8>, Sigmoid, Dense<f32, 8, 8>,
///     Sigmoid, Dense<f32, 8, 8>, Sigmoid, Dense<f32, 8, 3>,
/// ];
/// let last = Deep::tensor_infos().last().unwrap();
/// assert_eq!((last.layer, last.name), (8, "bias"));
/// ```
#[macro_export]
macro_rules! Seq {
    ($a:ty $(,)?) => { ($a,) };
    ($a:ty, $b:ty $(,)?) => { ($a, $b) };
    ($a:ty, $b:ty, $c:ty $(,)?) => { ($a, $b, $c) };
    ($a:ty, $b:ty, $c:ty, $d:ty $(,)?) => { ($a, $b, $c, $d) };
    ($a:ty, $b:ty, $c:ty, $d:ty, $e:ty $(,)?) => { ($a, $b, $c, $d, $e) };
    ($a:ty, $b:ty, $c:ty, $d:ty, $e:ty, $f:ty $(,)?) => { ($a, $b, $c, $d, $e, $f) };
    ($a:ty, $b:ty, $c:ty, $d:ty, $e:ty, $f:ty, $g:ty $(,)?) => { ($a, $b, $c, $d, $e, $f, $g) };
    ($a:ty, $b:ty, $c:ty, $d:ty, $e:ty, $f:ty, $g:ty, $h:ty $(,)?) => {
        ($a, $b, $c, $d, $e, $f, $g, $h)
    };
    ($a:ty, $b:ty, $c:ty, $d:ty, $e:ty, $f:ty, $g:ty, $($rest:ty),+ $(,)?) => {
        ($a, $b, $c, $d, $e, $f, $g, $crate::Seq![$($rest),+])
    };
}

/// A value of the type [`Seq!`](crate::Seq) names for the same layers: a tuple up to eight
/// layers, nested beyond.
///
/// ```
/// use static_nn::{seq, Dense, LeakyRelu, Seq};
/// type Net = Seq![Dense<f64, 2, 3>, LeakyRelu<f64>, Dense<f64, 3, 1>];
/// let net: Net = seq![Dense::zeros(), LeakyRelu::new(0.2), Dense::zeros()];
/// assert_eq!(net.1.slope, 0.2);
/// ```
#[macro_export]
macro_rules! seq {
    ($a:expr $(,)?) => { ($a,) };
    ($a:expr, $b:expr $(,)?) => { ($a, $b) };
    ($a:expr, $b:expr, $c:expr $(,)?) => { ($a, $b, $c) };
    ($a:expr, $b:expr, $c:expr, $d:expr $(,)?) => { ($a, $b, $c, $d) };
    ($a:expr, $b:expr, $c:expr, $d:expr, $e:expr $(,)?) => { ($a, $b, $c, $d, $e) };
    ($a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr $(,)?) => { ($a, $b, $c, $d, $e, $f) };
    ($a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr, $g:expr $(,)?) => {
        ($a, $b, $c, $d, $e, $f, $g)
    };
    ($a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr, $g:expr, $h:expr $(,)?) => {
        ($a, $b, $c, $d, $e, $f, $g, $h)
    };
    ($a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr, $g:expr, $($rest:expr),+ $(,)?) => {
        ($a, $b, $c, $d, $e, $f, $g, $crate::seq![$($rest),+])
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dense, Relu};
    use nalgebra::Vector2;

    /// A parameter-free layer with a two-entry buffer, to test buffer traversal.
    #[derive(Clone, Debug, bytemuck::Zeroable)]
    struct Counter {
        seen: Vector2<f64>,
    }

    impl Tensors<f64> for Counter {
        const LAYERS: usize = 1;
        fn tensors(&self) -> impl Iterator<Item = &[f64]> {
            core::iter::empty()
        }
        fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [f64]> {
            core::iter::empty()
        }
        fn tensor_infos() -> impl Iterator<Item = TensorInfo> {
            core::iter::empty()
        }
    }

    impl Parameters<f64> for Counter {
        type Gradient = ();
        fn reset(&mut self, _init: Init, _rng: &mut Rng) {
            self.seen = Vector2::zeros();
        }
        fn buffers(&self) -> impl Iterator<Item = &[f64]> {
            core::iter::once(self.seen.as_slice())
        }
        fn buffers_mut(&mut self) -> impl Iterator<Item = &mut [f64]> {
            core::iter::once(self.seen.as_mut_slice())
        }
        fn buffer_infos() -> impl Iterator<Item = TensorInfo> {
            core::iter::once(TensorInfo::vector("seen", 2))
        }
        fn state_dict_mut(&mut self) -> impl Iterator<Item = &mut [f64]> {
            self.buffers_mut()
        }
    }

    #[test]
    fn buffers_are_chained_with_their_positions_and_kept_out_of_tensors() {
        type Net = (Dense<f64, 2, 2>, Counter, Relu, [Counter; 2], (Counter,));
        let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
        let positions: Vec<usize> = Net::buffer_infos().map(|t| t.layer).collect();
        assert_eq!(positions, [1, 3, 4, 5]);
        assert_eq!(net.buffers().count(), 4);
        for (i, b) in net.buffers_mut().enumerate() {
            b[0] = i as f64;
        }
        assert_eq!(net.3[1].seen[0], 2.0);
        // Only the dense layer's weight and bias are trainable.
        assert_eq!(net.tensors().count(), 2);
    }
}
