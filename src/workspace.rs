//! The buffers one training step needs, built once and reused.

use core::fmt;
use core::marker::PhantomData;

use bytemuck::Zeroable;

use crate::diagnostics::ActivationVisitor;
use crate::optim::{Clip, NonFiniteUpdate, clip_grad_norm, clip_grad_value, global_norm};
use crate::{Layer, Loss, Optimizer, Real, Tensors};

/// Everything a training step writes besides the network and the optimizer: the layers'
/// caches, the output, and the gradient. Built once; every step reuses it and allocates nothing.
///
/// The input type `X` (which fixes the batch width) is part of the type, so a workspace built
/// for batches of 32 cannot be fed a batch of 16.
///
/// ```
/// use static_nn::{Dense, Init, Mse, Parameters, Rng, Sgd, SgdConfig, Tanh, Workspace};
/// use nalgebra::SMatrix;
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
        self.grad.set_zero();
        self.accumulate_gradient(net, loss, x, target)
    }

    /// One training step: [`compute_gradient`](Workspace::compute_gradient), then the
    /// network's buffer updates (batch-norm running statistics), then the optimizer's update.
    /// Returns the loss before the update.
    pub fn train_step<L, O>(&mut self, net: &mut N, optimizer: &mut O, loss: &L, x: &X, target: &L::Target) -> T
    where
        L: Loss<T, N::Output>,
        O: Optimizer<T, N>,
    {
        let value = self.compute_gradient(net, loss, x, target);
        net.update_buffers(&self.cache);
        optimizer.step(net, &self.grad);
        value
    }

    /// [`train_step`](Workspace::train_step) that refuses to apply a non-finite step, with
    /// optional clipping: [`compute_gradient`](Workspace::compute_gradient), then
    /// [`apply_gradient`](Workspace::apply_gradient). Returns the loss before the update.
    ///
    /// # Errors
    /// [`NonFiniteStep`] if the loss or the gradient is NaN or infinite, or if the optimizer's
    /// update would make a parameter or a state entry NaN or infinite. The network (its
    /// parameters and its buffers) and the optimizer (its state, step counter and learning rate)
    /// are then exactly as they were before the call; only the workspace changed.
    ///
    /// ```
    /// use static_nn::prelude::*;
    /// use static_nn::NonFiniteStep;
    /// use nalgebra::SMatrix;
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
    /// finite: checks `loss`, measures the gradient's global norm ([`global_norm`]), clips (the
    /// norm rule scales the gradient in place, the value rule clamps it), applies the buffer
    /// updates recorded in [`Workspace::cache`] and takes the optimizer step. Returns the
    /// gradient's norm before clipping. The second half of
    /// [`try_train_step`](Workspace::try_train_step), for code that inspects the gradient in
    /// between (the [`Trainer`](crate::Trainer) and
    /// [`Monitor`](crate::diagnostics::Monitor) do).
    ///
    /// # Errors
    /// [`NonFiniteStep`] if `loss` or the norm is NaN or infinite (then nothing but the returned
    /// error has happened: no clipping, no buffer update, no step), or if the update would make
    /// a parameter or an optimizer state entry NaN or infinite ([`NonFiniteStep::Update`]: the
    /// gradient may have been clipped, nothing else has happened). The optimizer checks every
    /// value it would write before writing any ([`Optimizer::try_step`]).
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
        optimizer.try_step(net, &self.grad).map_err(NonFiniteStep::Update)?;
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
            NonFiniteStep::Update(update) => write!(f, "{update}; the step was not taken"),
        }
    }
}

impl<T: Real> core::error::Error for NonFiniteStep<T> {}
