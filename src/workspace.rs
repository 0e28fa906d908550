//! The buffers one training step needs, built once and reused.

use core::fmt;
use core::marker::PhantomData;

use bytemuck::Zeroable;

use crate::ActivationVisitor;
use crate::optim::{Clip, NonFiniteUpdate, clip_grad_norm, clip_grad_value, global_norm};
use crate::{BufferFault, Layer, Loss, Optimizer, Real, Tensors};

/// Everything a training step writes besides the network and the optimizer: the layers'
/// caches, the output, and the gradient. Built once; every step reuses it and allocates nothing.
///
/// The input type `X` (which fixes the batch width) is part of the type, so a workspace built
/// for batches of 32 cannot be fed a batch of 16.
///
/// ```
/// use static_nn::{Dense, Init, Mse, Parameters, Rng, Sgd, SgdConfig, Tanh, Workspace};
/// use static_nn::nalgebra::SMatrix;
///
/// type Net = (Dense<f32, 2, 8>, Tanh, Dense<f32, 8, 1>);
/// let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
/// let mut sgd = Sgd::new(SgdConfig::with_lr(0.1));
/// let mut workspace = Workspace::new();
/// let x = SMatrix::<f32, 2, 4>::new(0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0);
/// let y = SMatrix::<f32, 1, 4>::new(0.0, 1.0, 1.0, 0.0);
/// let first = workspace.train_step(&mut net, &mut sgd, &Mse, &x, &y);
/// for _ in 0..100 {
///     workspace.train_step(&mut net, &mut sgd, &Mse, &x, &y);
/// }
/// assert!(workspace.train_step(&mut net, &mut sgd, &Mse, &x, &y) < first);
/// ```
#[derive(Zeroable)]
#[zeroable(bound = "")]
pub struct Workspace<T: Real, N: Layer<T, X>, X> {
    /// What the layers recorded during the last training forward pass.
    pub cache: N::Cache,
    /// The network's output from the last training forward pass.
    pub output: N::Output,
    /// The gradient of the last loss with respect to every parameter.
    pub grad: N::Gradient,
    input: PhantomData<fn(&X)>,
}

impl<T: Real, N: Layer<T, X>, X> Clone for Workspace<T, N, X> {
    fn clone(&self) -> Self {
        Self {
            cache: self.cache.clone(),
            output: self.output.clone(),
            grad: self.grad.clone(),
            input: PhantomData,
        }
    }
}

impl<T: Real, N: Layer<T, X>, X> Default for Workspace<T, N, X> {
    fn default() -> Self {
        Self::zeroed()
    }
}

impl<T: Real, N: Layer<T, X>, X> Workspace<T, N, X> {
    /// A workspace with zeroed buffers.
    pub fn new() -> Self {
        Self::zeroed()
    }

    /// A workspace built directly on the heap, for networks whose buffers are too large for the
    /// stack.
    #[cfg(feature = "alloc")]
    pub fn new_boxed() -> alloc::boxed::Box<Self> {
        crate::zeroed_box()
    }

    /// Forward pass in training mode, loss, and backward pass, **adding** the parameter gradient
    /// into [`Workspace::grad`] (for gradient accumulation over several batches). Returns the
    /// loss. The input gradient of the first layer is not computed.
    pub fn accumulate_gradient<L: Loss<T, N::Output>>(&mut self, net: &N, loss: &L, x: &X, target: &L::Target) -> T {
        crate::simd::widest(
            #[inline(always)]
            || {
                self.output = net.forward_train(x, &mut self.cache);
                let (value, dy) = loss.value_and_gradient(&self.output, target);
                net.backward_parameters(x, &self.output, &self.cache, &dy, &mut self.grad);
                value
            },
        )
    }

    /// [`accumulate_gradient`](Workspace::accumulate_gradient) into a zeroed gradient: after it,
    /// [`Workspace::grad`] holds exactly `∂loss/∂θ` for this batch.
    pub fn compute_gradient<L: Loss<T, N::Output>>(&mut self, net: &N, loss: &L, x: &X, target: &L::Target) -> T {
        // The zero gradient is the zeroed value: one `memset`, where a walk over the tensors
        // took 347 of the 3,808 instructions of W1's training step.
        bytemuck::write_zeroes(&mut self.grad);
        self.accumulate_gradient(net, loss, x, target)
    }

    /// [`compute_gradient`](Workspace::compute_gradient) that also returns `∂loss/∂x`, the
    /// gradient with respect to the input (training mode, as the step would see it): for
    /// adversarial training or losses on the input gradient. Follow it with
    /// [`apply_gradient`](Workspace::apply_gradient) to take the step. The first layer's input
    /// gradient costs one more product (`Wᵀ dy` for a dense layer).
    pub fn compute_gradient_and_input<L: Loss<T, N::Output>>(
        &mut self,
        net: &N,
        loss: &L,
        x: &X,
        target: &L::Target,
    ) -> (T, X) {
        self.grad.set_zero();
        self.output = net.forward_train(x, &mut self.cache);
        let (value, dy) = loss.value_and_gradient(&self.output, target);
        let dx = net.backward(x, &self.output, &self.cache, &dy, &mut self.grad);
        (value, dx)
    }

    /// The loss of the trained network and its gradient with respect to the input, `∂loss/∂x`,
    /// in inference mode ([`Layer::forward_eval`]: batch norm on its running statistics, no
    /// dropout): PyTorch's `model.eval()`, `x.requires_grad_()`, `loss.backward()`, `x.grad`.
    /// Saliency maps and adversarial examples start here. [`Workspace::grad`] receives the
    /// parameter gradient of the same function; the network is not changed.
    ///
    /// ```
    /// use static_nn::prelude::*;
    /// use static_nn::nalgebra::SMatrix;
    ///
    /// type Net = (Dense<f64, 3, 8>, Tanh, Dense<f64, 8, 2>);
    /// let net = Net::build(Init::PyTorch, &mut Rng::new(0));
    /// let x = SMatrix::<f64, 3, 1>::new(0.5, -1.0, 2.0);
    /// let class = [Class::<2>::new(1).unwrap()];
    /// let mut workspace = Workspace::new();
    /// let (loss, saliency) = workspace.input_gradient(&net, &CrossEntropy, &x, &class);
    ///
    /// // Each entry is the loss's slope along that input.
    /// let h = 1e-6;
    /// let mut moved = x;
    /// moved[2] += h;
    /// let slope = (CrossEntropy.value(&net.forward(&moved), &class) - loss) / h;
    /// assert!((saliency[2] - slope).abs() < 1e-5);
    ///
    /// // One step of the fast gradient sign method raises the loss.
    /// let adversarial = x + saliency.map(f64::signum) * 0.1;
    /// assert!(CrossEntropy.value(&net.forward(&adversarial), &class) > loss);
    /// ```
    pub fn input_gradient<L: Loss<T, N::Output>>(&mut self, net: &N, loss: &L, x: &X, target: &L::Target) -> (T, X) {
        self.grad.set_zero();
        self.output = net.forward_eval(x, &mut self.cache);
        let (value, dy) = loss.value_and_gradient(&self.output, target);
        let dx = net.backward_eval(x, &self.output, &self.cache, &dy, &mut self.grad);
        (value, dx)
    }

    /// One training step: [`compute_gradient`](Workspace::compute_gradient), the network's
    /// buffer updates (batch-norm running statistics) and the optimizer's update. Returns the
    /// loss before the update.
    ///
    /// The backward pass and the update are fused ([`Optimizer::backward_step`]): the crate's
    /// optimizers update each layer as soon as its gradient is complete, so that their
    /// arithmetic overlaps the backward pass of the layers before it. The result is the same,
    /// bit for bit, as [`compute_gradient`](Workspace::compute_gradient) followed by
    /// [`Optimizer::step`], and [`Workspace::grad`] holds the whole gradient afterwards.
    /// [`try_train_step`](Workspace::try_train_step) cannot fuse: its guard and clipping need
    /// the whole gradient before the first update.
    pub fn train_step<L, O>(&mut self, net: &mut N, optimizer: &mut O, loss: &L, x: &X, target: &L::Target) -> T
    where
        L: Loss<T, N::Output>,
        O: Optimizer<T, N>,
    {
        bytemuck::write_zeroes(&mut self.grad);
        let (value, dy) = crate::simd::widest(
            #[inline(always)]
            || {
                self.output = net.forward_train(x, &mut self.cache);
                loss.value_and_gradient(&self.output, target)
            },
        );
        optimizer.backward_step(net, x, &self.output, &self.cache, &dy, &mut self.grad);
        net.update_buffers(&self.cache);
        value
    }

    /// [`train_step`](Workspace::train_step) that refuses to apply a non-finite step, with
    /// optional clipping: [`compute_gradient`](Workspace::compute_gradient), then
    /// [`apply_gradient`](Workspace::apply_gradient). Returns the loss before the update.
    ///
    /// # Errors
    /// [`NonFiniteStep`] if the loss or the gradient is NaN or infinite, if a buffer update (a
    /// batch norm's running statistics) would make a value non-finite, or if the optimizer's
    /// update would make a parameter or a state entry NaN or infinite. The network (its
    /// parameters and its buffers) and the optimizer (its state, step counter and learning rate)
    /// are then exactly as they were before the call; only the workspace changed.
    ///
    /// The guard's cost is in [`apply_gradient`](Workspace::apply_gradient): 1.35-1.40 times the
    /// plain step on W1 and 1.09 times on W3 (`f32` Adam, AVX-512).
    ///
    /// ```
    /// use static_nn::prelude::*;
    /// use static_nn::NonFiniteStep;
    /// use static_nn::nalgebra::SMatrix;
    ///
    /// type Net = (Dense<f64, 2, 4>, Tanh, Dense<f64, 4, 1>);
    /// let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
    /// let before = net.clone();
    /// let mut adam = Adam::new(AdamConfig::default());
    /// let mut workspace = Workspace::new();
    /// let x = SMatrix::<f64, 2, 3>::from_element(1.0);
    /// let target = SMatrix::<f64, 1, 3>::new(0.0, f64::NAN, 1.0);
    /// let error = workspace.try_train_step(&mut net, &mut adam, &Mse, &x, &target, Some(Clip::Norm(1.0)));
    /// assert!(matches!(error, Err(NonFiniteStep::Loss { .. })));
    /// assert_eq!((net.0.weight, adam.steps), (before.0.weight, 0));
    /// ```
    pub fn try_train_step<L, O>(
        &mut self,
        net: &mut N,
        optimizer: &mut O,
        loss: &L,
        x: &X,
        target: &L::Target,
        clip: Option<Clip<T>>,
    ) -> Result<T, NonFiniteStep<T>>
    where
        L: Loss<T, N::Output>,
        O: Optimizer<T, N>,
    {
        let value = self.compute_gradient(net, loss, x, target);
        self.apply_gradient(net, optimizer, value, clip)?;
        Ok(value)
    }

    /// Applies the gradient in [`Workspace::grad`], whose loss was `loss`, unless either is not
    /// finite: checks `loss`, checks that the buffer updates recorded in [`Workspace::cache`]
    /// keep every buffer finite ([`Layer::check_buffer_update`]), measures the gradient's global
    /// norm ([`global_norm`]), clips (the norm rule scales the gradient in place, the value rule
    /// clamps it), applies the buffer updates and takes the optimizer step. Returns the
    /// gradient's norm before clipping. The second half of
    /// [`try_train_step`](Workspace::try_train_step), for code that inspects the gradient in
    /// between (the [`Trainer`](crate::Trainer) and
    /// [`Monitor`](crate::diagnostics::Monitor) do).
    ///
    /// **Cost**, per `f32` Adam step against [`train_step`](Workspace::train_step), timed
    /// alternately in one process on an AMD EPYC Zen 4 (AVX-512): 1.35-1.40 times on W1 (2-16-16-1,
    /// batch 1), 1.09 times on W3 (784-128-10, batch 32), of which the optimizer's check
    /// ([`Optimizer::try_step_within`]: one pass measuring the parameters, from which and from
    /// the norm's bound on the gradient Adam proves its update finite without reading its
    /// moments again) is about 3 % and the loss, buffer and norm checks the rest. The buffer check is free for networks without
    /// buffers and 0.09% of W3's step with a 128-feature batch norm.
    ///
    /// # Errors
    /// [`NonFiniteStep`] if `loss` or the norm is NaN or infinite, or a buffer would become
    /// non-finite (then nothing but the returned error has happened: no clipping, no buffer
    /// update, no step), or if the update would make a parameter or an optimizer state entry NaN
    /// or infinite ([`NonFiniteStep::Update`]: the gradient may have been clipped, nothing else
    /// has happened). The optimizer checks every value it would write before writing any
    /// ([`Optimizer::try_step`]).
    pub fn apply_gradient<O: Optimizer<T, N>>(
        &mut self,
        net: &mut N,
        optimizer: &mut O,
        loss: T,
        clip: Option<Clip<T>>,
    ) -> Result<T, NonFiniteStep<T>> {
        if !loss.is_finite() {
            return Err(NonFiniteStep::Loss { loss });
        }
        net.check_buffer_update(&self.cache, 0).map_err(NonFiniteStep::Buffer)?;
        let norm = match clip {
            Some(Clip::Norm(max_norm)) => {
                clip_grad_norm(&mut self.grad, max_norm).map_err(|e| NonFiniteStep::Gradient { norm: e.norm })?
            }
            other => {
                let norm = global_norm(&self.grad);
                if !norm.is_finite() {
                    return Err(NonFiniteStep::Gradient { norm });
                }
                if let Some(Clip::Value(clip_value)) = other {
                    clip_grad_value(&mut self.grad, clip_value);
                }
                norm
            }
        };
        let bound = crate::optim::GradientBound::of_norm(norm);
        optimizer
            .try_step_within(net, &self.grad, bound)
            .map_err(NonFiniteStep::Update)?;
        net.update_buffers(&self.cache);
        Ok(norm)
    }

    /// Shows `visitor` every activation layer of `net` as computed by the last training
    /// forward pass on `x`: [`Layer::visit_activations`] at position 0 with this workspace's
    /// cache and output.
    pub fn visit_activations(&self, net: &N, x: &X, visitor: &mut dyn ActivationVisitor<T>) {
        net.visit_activations(x, &self.output, &self.cache, 0, visitor);
    }
}

/// Why [`Workspace::try_train_step`] or [`Workspace::apply_gradient`] refused a step. The
/// network and the optimizer were left exactly as they were.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NonFiniteStep<T> {
    /// The loss was NaN or infinite.
    Loss {
        /// The loss.
        loss: T,
    },
    /// The loss was finite but the gradient's global L2 norm was not: an entry is NaN or
    /// infinite, or the norm overflows.
    Gradient {
        /// The norm.
        norm: T,
    },
    /// The loss and the gradient were finite, but a buffer update (a batch norm's running
    /// statistics, from a batch whose variance overflows) would have made a value non-finite
    /// or a variance negative.
    Buffer(BufferFault<T>),
    /// The loss and the gradient were finite, but the optimizer's update would have made a
    /// parameter or a state entry NaN or infinite (a learning rate or a state large enough to
    /// overflow).
    Update(NonFiniteUpdate<T>),
}

impl<T: Real> fmt::Display for NonFiniteStep<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NonFiniteStep::Loss { loss } => write!(f, "the loss is {loss}; the step was not taken"),
            NonFiniteStep::Gradient { norm } => {
                write!(f, "the gradient's norm is {norm}; the step was not taken")
            }
            NonFiniteStep::Buffer(BufferFault {
                layer,
                buffer,
                index,
                value,
            }) => write!(
                f,
                "{layer}.{buffer}[{index}] would become {value}; the step was not taken"
            ),
            NonFiniteStep::Update(update) => write!(f, "{update}; the step was not taken"),
        }
    }
}

impl<T: Real> core::error::Error for NonFiniteStep<T> {}

/// The counters in a workspace's cache that the next training step depends on: each
/// [`Dropout`](crate::Dropout)'s call count, which selects its next mask
/// ([`Layer::cache_counter_names`]). Pass the workspace with the checkpoint's extra state
/// for a network with dropout to resume bit for bit.
impl<T: Real, N: Layer<T, X>, X> crate::Counters for Workspace<T, N, X> {
    fn counter_names() -> impl Iterator<Item = &'static str> {
        N::cache_counter_names()
    }
    fn counters(&self) -> impl Iterator<Item = u64> {
        N::cache_counters(&self.cache)
    }
    fn set_counter(&mut self, index: usize, value: u64) {
        let counter = N::cache_counters_mut(&mut self.cache).nth(index);
        *counter.unwrap_or_else(|| panic!("the workspace has no counter {index}")) = value;
    }
}
