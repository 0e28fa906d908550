//! Loss functions: value and gradient together, PyTorch's `mean` reduction.
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

use core::fmt;

mod bce_with_logits;
mod cross_entropy;
mod huber;
mod mse;

pub use bce_with_logits::BceWithLogits;
pub use cross_entropy::CrossEntropy;
pub use huber::Huber;
pub use mse::Mse;

use crate::Real;

/// A scalar objective of a network output `Y`.
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
pub(crate) fn mean_of<T: Real>(n: usize, terms: impl Iterator<Item = f64>) -> T {
    let n = n as f64;
    T::of(terms.fold(0.0, |sum, term| sum + term / n))
}

/// A class index known to be below `C`, the number of classes: the target of [`CrossEntropy`].
///
/// Range is checked once, when the label is made, so a loss never meets an index it cannot
/// score.
///
/// ```
/// use static_nn::Class;
/// let label = Class::<3>::new(2).unwrap();
/// assert_eq!(label.index(), 2);
/// assert!(Class::<3>::new(3).is_none());
/// let batch = Class::<10>::batch([3, 1, 4]).unwrap();
/// assert_eq!(batch[2].index(), 4);
/// assert_eq!(Class::<10>::batch([3, 10]).unwrap_err().to_string(), "class index 10 is out of range for 10 classes");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, bytemuck::Zeroable)]
pub struct Class<const C: usize>(u32);

impl<const C: usize> Class<C> {
    /// The class `index`, or `None` if `index >= C`.
    pub const fn new(index: usize) -> Option<Self> {
        if index < C && index <= u32::MAX as usize {
            Some(Self(index as u32))
        } else {
            None
        }
    }

    /// The index, below `C`.
    pub const fn index(self) -> usize {
        self.0 as usize
    }

    /// Labels for a whole batch, or the first out-of-range index.
    pub fn batch<const B: usize>(indices: [usize; B]) -> Result<[Self; B], ClassOutOfRange> {
        let mut out = [Self(0); B];
        for (slot, &index) in out.iter_mut().zip(&indices) {
            *slot = Self::try_from(index)?;
        }
        Ok(out)
    }
}

impl<const C: usize> TryFrom<usize> for Class<C> {
    type Error = ClassOutOfRange;
    fn try_from(index: usize) -> Result<Self, ClassOutOfRange> {
        Self::new(index).ok_or(ClassOutOfRange { index, classes: C })
    }
}

/// A class index that is not below the number of classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassOutOfRange {
    /// The offending index.
    pub index: usize,
    /// The number of classes.
    pub classes: usize,
}

impl fmt::Display for ClassOutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "class index {} is out of range for {} classes",
            self.index, self.classes
        )
    }
}

impl core::error::Error for ClassOutOfRange {}

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
