//! A training loop for users: shuffled mini-batches, epochs, validation, early stopping,
//! clipping and learning-rate schedules, with no heap allocation per step.
//!
//! [`Trainer`] owns everything an epoch needs (the [`Workspace`](crate::Workspace), a batch
//! buffer, the index buffer it shuffles) and allocates it once; epochs then allocate nothing.
//! It is generic over the network, the optimizer, the loss and the [`Target`](crate::Target)
//! of the samples, so classification and regression go through the same code.

use core::fmt;

use crate::optim::{Clip, NonFiniteUpdate};
use crate::{BufferFault, NonFiniteStep, Real};

mod record;
mod step;
mod sweep;
mod trainer;

pub use record::{EpochRecord, Evaluation, History};
pub use step::{PlainStep, TrainStep};
pub use sweep::{Sweep, SweepResults};
pub use trainer::Trainer;

/// What to do with the last, incomplete batch of an epoch when the number of training samples
/// is not a multiple of the batch width `B`.
///
/// PyTorch's `DataLoader` keeps a smaller last batch by default; a batch width fixed at compile
/// time cannot shrink, so the batch is either completed or dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LastBatch {
    /// Complete it with the first samples of the epoch's shuffled order (default), so every
    /// sample is used in every epoch and a few twice: `⌈n / B⌉` steps per epoch. With fewer
    /// samples than `B`, the one batch repeats them.
    #[default]
    Fill,
    /// Leave it out, as `DataLoader(drop_last=True)`: `⌊n / B⌋` steps per epoch, and the
    /// `n mod B` samples that fall last in the shuffled order sit the epoch out.
    Drop,
}

/// When [`Trainer`]'s learning-rate [schedule](Trainer::schedule) takes a step: PyTorch leaves
/// the `scheduler.step()` call to the user, inside or after the batch loop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ScheduleStep {
    /// Once per epoch (default), with the monitored loss (validation, else training); the rate
    /// is set before the epoch's first batch.
    #[default]
    Epoch,
    /// After every batch, with that batch's loss; the rate is set before each batch, so a
    /// schedule's period is one optimizer step (warm-up over steps, one-cycle, cosine per step).
    Batch,
}

/// What the per-epoch callback of [`Trainer::fit`] returns: `()` to go on, or a
/// [`ControlFlow`](core::ops::ControlFlow), whose `Break` stops training after that epoch.
pub trait EpochControl {
    /// Whether training stops after this epoch.
    fn stops(&self) -> bool;
}

impl EpochControl for () {
    fn stops(&self) -> bool {
        false
    }
}

impl<B> EpochControl for core::ops::ControlFlow<B> {
    fn stops(&self) -> bool {
        self.is_break()
    }
}

/// Stop when the monitored loss (the validation loss, or the training loss without a
/// validation set) has not improved for `patience` epochs in a row, as Keras' and Lightning's
/// `EarlyStopping`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStopping<T> {
    /// Consecutive epochs without improvement after which training stops (0 counts as 1).
    pub patience: usize,
    /// An epoch improves when its loss is below the best so far minus `min_delta` (default 0).
    pub min_delta: T,
    /// At the end of [`Trainer::fit`], put back the parameters and buffers of the best epoch
    /// (default true), if it was reached while this was set. The copy is made in a buffer
    /// allocated once.
    pub restore_best: bool,
}

impl<T: Real> EarlyStopping<T> {
    /// Stops after `patience` epochs without improvement, restoring the best parameters.
    pub fn patience(patience: usize) -> Self {
        Self {
            patience,
            min_delta: T::zero(),
            restore_best: true,
        }
    }
}

/// How [`Trainer`] trains. Defaults: 10 epochs, seed 0, shuffled, last batch filled, no
/// clipping, no early stopping, the schedule stepped per epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainConfig<T> {
    /// Epochs [`Trainer::fit`] runs, at most.
    pub epochs: usize,
    /// Seed of the generator that shuffles the samples each epoch, read once by
    /// [`Trainer::new`] (afterwards the generator is [`Trainer::rng`]).
    pub seed: u64,
    /// Shuffle the samples each epoch (default true); otherwise batches follow the slice order.
    pub shuffle: bool,
    /// What to do with an incomplete last batch.
    pub last_batch: LastBatch,
    /// Clip each batch's gradient before the optimizer step.
    pub clip: Option<Clip<T>>,
    /// Stop when the monitored loss stops improving.
    pub early_stopping: Option<EarlyStopping<T>>,
    /// When the schedule steps: per epoch (default) or per batch.
    pub schedule_step: ScheduleStep,
}

impl<T: Real> Default for TrainConfig<T> {
    fn default() -> Self {
        Self {
            epochs: 10,
            seed: 0,
            shuffle: true,
            last_batch: LastBatch::Fill,
            clip: None,
            early_stopping: None,
            schedule_step: ScheduleStep::Epoch,
        }
    }
}

impl<T: Real> TrainConfig<T> {
    /// The defaults, with the given number of epochs.
    pub fn with_epochs(epochs: usize) -> Self {
        Self {
            epochs,
            ..Self::default()
        }
    }
}

/// Why training or evaluation could not go on. Where a batch is named, the network and the
/// optimizer were left exactly as they were before that batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TrainError {
    /// The training set has no samples.
    EmptyTrainingSet,
    /// The validation set, or the set given to [`Trainer::evaluate`], has no samples.
    EmptyEvaluationSet,
    /// With [`LastBatch::Drop`], fewer samples than one batch: no step could be taken.
    TooFewSamples {
        /// Samples in the training set.
        samples: usize,
        /// The batch width.
        batch: usize,
    },
    /// The learning rate was said twice, differently: the optimizer was built with one rate
    /// and the trainer's schedule starts from another (which would silently win). Nothing was
    /// changed. Build the optimizer with the schedule's rate (or call
    /// [`Optimizer::set_learning_rate`](crate::Optimizer::set_learning_rate) with it).
    LearningRateTwice {
        /// The optimizer's learning rate.
        optimizer: f64,
        /// The schedule's base rate ([`Schedule::base_learning_rate`](crate::optim::Schedule::base_learning_rate)).
        schedule: f64,
    },
    /// A batch's loss was NaN or infinite.
    NonFiniteLoss {
        /// The epoch, counted from 1 over the trainer's life.
        epoch: usize,
        /// The batch within the epoch, counted from 1.
        batch: usize,
        /// The loss.
        loss: f64,
    },
    /// A batch's loss was finite but its gradient's norm was NaN or infinite.
    NonFiniteGradient {
        /// The epoch, counted from 1 over the trainer's life.
        epoch: usize,
        /// The batch within the epoch, counted from 1.
        batch: usize,
        /// The norm.
        norm: f64,
    },
    /// A batch's loss and gradient were finite, but a buffer update (a batch norm's running
    /// statistics) would have made a value non-finite.
    NonFiniteBuffer {
        /// The epoch, counted from 1 over the trainer's life.
        epoch: usize,
        /// The batch within the epoch, counted from 1.
        batch: usize,
        /// Where the buffer is and the value it would have taken.
        fault: BufferFault<f64>,
    },
    /// A batch's loss and gradient were finite, but the optimizer's update would have made a
    /// parameter or a state entry NaN or infinite.
    NonFiniteUpdate {
        /// The epoch, counted from 1 over the trainer's life.
        epoch: usize,
        /// The batch within the epoch, counted from 1.
        batch: usize,
        /// Which value, and what it would have become.
        update: NonFiniteUpdate<f64>,
    },
}

impl TrainError {
    /// The error for a step [`Workspace`](crate::Workspace) refused in batch `batch` of epoch
    /// `epoch`.
    fn non_finite<T: Real>(error: NonFiniteStep<T>, epoch: usize, batch: usize) -> Self {
        match error {
            NonFiniteStep::Loss { loss } => TrainError::NonFiniteLoss {
                epoch,
                batch,
                loss: loss.to_f64(),
            },
            NonFiniteStep::Gradient { norm } => TrainError::NonFiniteGradient {
                epoch,
                batch,
                norm: norm.to_f64(),
            },
            NonFiniteStep::Buffer(fault) => TrainError::NonFiniteBuffer {
                epoch,
                batch,
                fault: BufferFault {
                    layer: fault.layer,
                    buffer: fault.buffer,
                    index: fault.index,
                    value: fault.value.to_f64(),
                },
            },
            NonFiniteStep::Update(update) => TrainError::NonFiniteUpdate {
                epoch,
                batch,
                update: NonFiniteUpdate {
                    tensor: update.tensor,
                    index: update.index,
                    value: update.value,
                    new: update.new.to_f64(),
                },
            },
        }
    }
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TrainError::EmptyTrainingSet => write!(f, "the training set is empty"),
            TrainError::EmptyEvaluationSet => write!(f, "the validation or evaluation set is empty"),
            TrainError::TooFewSamples { samples, batch } => write!(
                f,
                "the training set has {samples} samples, fewer than one batch of {batch}, and LastBatch::Drop drops them all"
            ),
            TrainError::LearningRateTwice { optimizer, schedule } => write!(
                f,
                "the optimizer's learning rate is {optimizer} but the schedule starts from {schedule}: say it once, by building the optimizer with the schedule's rate"
            ),
            TrainError::NonFiniteLoss { epoch, batch, loss } => write!(
                f,
                "the loss is {loss} in batch {batch} of epoch {epoch}; the network and optimizer are as they were before that batch"
            ),
            TrainError::NonFiniteGradient { epoch, batch, norm } => write!(
                f,
                "the gradient's norm is {norm} in batch {batch} of epoch {epoch}; the network and optimizer are as they were before that batch"
            ),
            TrainError::NonFiniteBuffer { epoch, batch, fault } => write!(
                f,
                "{}.{}[{}] would become {} in batch {batch} of epoch {epoch}; the network and optimizer are as they were before that batch",
                fault.layer, fault.buffer, fault.index, fault.value
            ),
            TrainError::NonFiniteUpdate { epoch, batch, update } => write!(
                f,
                "in batch {batch} of epoch {epoch}, {update}; the network and optimizer are as they were before that batch"
            ),
        }
    }
}

impl core::error::Error for TrainError {}
