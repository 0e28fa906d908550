//! Optimizers: how a gradient becomes a parameter update.

mod sgd;

pub use sgd::{Sgd, SgdConfig};

use crate::{Parameters, Real};

/// Updates a network's parameters from their gradient.
///
/// An optimizer's state (momentum buffers, moment estimates) is held as copies of the network's
/// [`Parameters::Gradient`], and the optimizer type names the network (`Sgd<f32, Mlp>`), so a
/// state built for one network does not compile with another, and a step allocates nothing.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an optimizer for the network `{N}`",
    note = "an optimizer's state is shaped like one network type; build a new optimizer for this network"
)]
pub trait Optimizer<T: Real, N: Parameters<T>> {
    /// Applies one update to `net` from `grad`, the gradient of the loss.
    fn step(&mut self, net: &mut N, grad: &N::Gradient);

    /// The current learning rate.
    fn learning_rate(&self) -> T;

    /// Changes the learning rate used by later steps (schedules call this between steps).
    fn set_learning_rate(&mut self, learning_rate: T);
}
