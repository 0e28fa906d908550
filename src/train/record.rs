use alloc::vec::Vec;
use core::fmt;

use crate::Real;

/// A loss, and an accuracy where the targets have one, over a set of samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation<T> {
    /// The mean loss.
    pub loss: T,
    /// The fraction of samples predicted correctly, in `[0, 1]`; `None` for targets without a
    /// notion of accuracy (regression).
    pub accuracy: Option<T>,
}

/// What happened in one epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochRecord<T> {
    /// The epoch, counted from 1 over the trainer's life.
    pub epoch: usize,
    /// The learning rate the optimizer used in this epoch.
    pub learning_rate: T,
    /// Optimizer steps taken in this epoch.
    pub steps: usize,
    /// On the training set: the mean of the batch losses, each computed before that batch's
    /// update, and the accuracy of those same predictions (as a running loss in a PyTorch
    /// loop). Samples that [`LastBatch::Fill`](crate::train::LastBatch) repeats count once in
    /// the accuracy.
    pub train: Evaluation<T>,
    /// On the validation set, after the epoch's last update, in inference mode.
    pub validation: Option<Evaluation<T>>,
    /// Whether the monitored loss (validation, else training) was the best so far.
    pub improved: bool,
}

impl<T: Real> EpochRecord<T> {
    /// The loss that early stopping and [`ReduceLrOnPlateau`](crate::optim::ReduceLrOnPlateau)
    /// watch: the validation loss if there is a validation set, else the training loss.
    pub fn monitored_loss(&self) -> T {
        self.validation.map_or(self.train.loss, |v| v.loss)
    }
}

impl<T: Real> fmt::Display for Evaluation<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "loss {:.6}", self.loss.to_f64())?;
        if let Some(accuracy) = self.accuracy {
            write!(f, ", accuracy {:.2}%", 100.0 * accuracy.to_f64())?;
        }
        Ok(())
    }
}

/// One line: `epoch 3  lr 1.000e-2  train loss 0.412345, accuracy 87.50%  validation loss …`.
impl<T: Real> fmt::Display for EpochRecord<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "epoch {}  lr {:.3e}  train {}",
            self.epoch,
            self.learning_rate.to_f64(),
            self.train
        )?;
        if let Some(validation) = &self.validation {
            write!(f, "  validation {validation}")?;
        }
        Ok(())
    }
}

/// What [`Trainer::fit`](crate::Trainer::fit) did.
#[derive(Clone, Debug, PartialEq)]
pub struct History<T> {
    /// One record per epoch run, in order.
    pub epochs: Vec<EpochRecord<T>>,
    /// Whether early stopping ended training before the configured number of epochs.
    pub stopped_early: bool,
    /// Whether the per-epoch callback ended training (it returned `ControlFlow::Break`).
    pub stopped_by_callback: bool,
    /// The epoch with the best monitored loss, whose parameters were restored if early stopping
    /// asked for it.
    pub best_epoch: Option<usize>,
}

impl<T: Real> History<T> {
    /// The last epoch's record, if any epoch ran.
    pub fn last(&self) -> Option<&EpochRecord<T>> {
        self.epochs.last()
    }

    /// The first epoch whose monitored loss is at most `target`, if one is.
    pub fn first_epoch_below(&self, target: T) -> Option<usize> {
        self.epochs
            .iter()
            .find(|r| r.monitored_loss() <= target)
            .map(|r| r.epoch)
    }
}
