//! The buffers one training step needs, built once and reused.

use core::marker::PhantomData;

use bytemuck::Zeroable;

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
}
