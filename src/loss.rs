//! Loss functions: value and gradient together, PyTorch's `mean` reduction; one file per loss,
//! and the targets they compare with.
//!
//! | loss | target | value (mean over …) |
//! |---|---|---|
//! | [`Mse`] | same shape as the output | `(y − t)²`, all entries |
//! | [`CrossEntropy`] | one [`Class`] per column | `−log softmax(z)[class]`, samples |
//! | [`BceWithLogits`] | same shape, entries in [0, 1] | `max(z,0) − z t + ln(1+e^−|z|)`, all entries |
//! | [`Huber`] | same shape | `½r²` if `|r| < δ` else `δ(|r| − δ/2)`, all entries |
//!
//! The target's type is part of the loss, so a target of the wrong shape does not compile.
//!
//! Each mean is taken over per-entry terms computed in `f64` and divided by their count before
//! they are added, so an `f32` loss is infinite only where the mean itself does not fit in
//! `f32` (summing first would overflow at inputs around `1e38`).

mod bce_with_logits;
mod cross_entropy;
mod huber;
mod mse;
mod target;

pub use bce_with_logits::*;
pub use cross_entropy::*;
pub use huber::*;
pub use mse::*;
pub use target::*;

use crate::Real;

/// A scalar objective of a network output `Y`: value and gradient together, with PyTorch's
/// `mean` reduction.
///
/// | loss | target | value (mean over …) |
/// |---|---|---|
/// | [`Mse`] | same shape as the output | `(y − t)²`, all entries |
/// | [`CrossEntropy`] | one [`Class`] per column | `−log softmax(z)[class]`, samples |
/// | [`BceWithLogits`] | same shape, entries in [0, 1] | `max(z,0) − z t + ln(1+e^−|z|)`, all entries |
/// | [`Huber`] | same shape | `½r²` if `|r| < δ` else `δ(|r| − δ/2)`, all entries |
///
/// The target's type is part of the loss, so a target of the wrong shape does not compile.
#[diagnostic::on_unimplemented(
    message = "loss `{Self}` cannot score a network output of type `{Y}`",
    note = "the loss must be given the network's output type; check the last layer's width and the batch width"
)]
pub trait Loss<T: Real, Y> {
    /// What the output is compared with.
    type Target;

    /// The loss.
    fn value(&self, y: &Y, target: &Self::Target) -> T;

    /// The loss and its gradient `∂loss/∂y`, which has the output's shape.
    fn value_and_gradient(&self, y: &Y, target: &Self::Target) -> (T, Y);
}

/// The mean of `n` per-element losses given in `f64`, each divided by `n` before it is added:
/// the terms of `f32` values cannot overflow in `f64`, and no partial sum of non-negative terms
/// exceeds the mean.
#[inline]
pub(crate) fn mean_of<T: Real>(n: usize, terms: impl Iterator<Item = f64>) -> T {
    let n = n as f64;
    T::of(terms.fold(0.0, |sum, term| sum + term / n))
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::{GradCheck, Loss, Tensors};

    /// Numeric-vs-analytic gradient of a loss with respect to its input, through the public
    /// checker (an identity network in front of the loss).
    pub fn check_loss<L, Y>(loss: &L, y: &Y, target: &L::Target)
    where
        L: Loss<f64, Y>,
        Y: Tensors<f64> + bytemuck::Zeroable + Clone,
    {
        let report = GradCheck::default().strict().loss(loss, y, target);
        assert!(report.passed(), "{report}");
    }
}
