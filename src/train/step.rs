//! How the trainer takes each step, so that diagnostics can watch it.

use crate::optim::Clip;
use crate::{Layer, Loss, NonFiniteStep, Optimizer, Real, Workspace};

/// Takes one training step for [`Trainer::fit_with`](crate::Trainer::fit_with): plain
/// ([`PlainStep`], what [`Trainer::fit`](crate::Trainer::fit) uses) or observed, as
/// [`Monitor`](crate::diagnostics::Monitor) does (gradient health, update ratios, the
/// first-order check), so that a monitor plugs into the trainer's loop instead of a loop
/// written by hand.
pub trait TrainStep<T: Real, N: Layer<T, X>, X> {
    /// One step with [`Workspace::try_train_step`]'s contract: the loss before the step, or
    /// the refusal of a non-finite step with the network and optimizer unchanged.
    ///
    /// # Errors
    /// [`NonFiniteStep`] as [`Workspace::try_train_step`].
    #[allow(clippy::too_many_arguments)]
    fn train_step<L, O>(
        &mut self,
        workspace: &mut Workspace<T, N, X>,
        net: &mut N,
        optimizer: &mut O,
        loss: &L,
        x: &X,
        target: &L::Target,
        clip: Option<Clip<T>>,
    ) -> Result<T, NonFiniteStep<T>>
    where
        L: Loss<T, N::Output>,
        O: Optimizer<T, N>;
}

/// [`Workspace::try_train_step`], unobserved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlainStep;

impl<T: Real, N: Layer<T, X>, X> TrainStep<T, N, X> for PlainStep {
    fn train_step<L, O>(
        &mut self,
        workspace: &mut Workspace<T, N, X>,
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
        workspace.try_train_step(net, optimizer, loss, x, target, clip)
    }
}
