use alloc::boxed::Box;
use alloc::vec::Vec;

use bytemuck::Zeroable;
use nalgebra::SMatrix;

use super::{
    EpochControl, EpochRecord, Evaluation, History, LastBatch, PlainStep, ScheduleStep, TrainConfig, TrainError,
    TrainStep,
};
use crate::optim::{FixedLr, Schedule};
use crate::{Layer, Loss, Optimizer, Real, Rng, Sample, Target, Workspace, gather};

/// Trains a network of type `N` on samples of `I` features, in mini-batches of `B` columns.
///
/// Each epoch:
/// 1. sets the optimizer's learning rate from the [schedule](Trainer::schedule), if there is one
///    (the first epoch refuses an optimizer built with another rate than the schedule's base
///    rate, [`TrainError::LearningRateTwice`]: the rate is said once);
/// 2. shuffles the sample indices with its own seeded generator (an index buffer allocated once;
///    the samples are never moved) and walks them in batches of `B`, completing or dropping the
///    last batch as [`LastBatch`] says;
/// 3. for each batch: gathers the samples into a batch buffer and takes the step with
///    [`Workspace::try_train_step`], which computes loss and gradient, refuses a non-finite
///    loss or gradient, applies the [clipping](TrainConfig::clip), updates the network's
///    buffers and takes an optimizer step;
/// 4. evaluates the validation set, if given, in inference mode ([`Trainer::evaluate`]);
/// 5. tracks the best monitored loss (validation, else training) for early stopping, copying
///    the best parameters aside if they are to be restored, and steps the schedule with it.
///
/// Set-up (the workspace, the batch buffer, the index buffer, the copy of the best parameters)
/// is the only heap allocation; an epoch allocates nothing. The workspace lives on the heap, so
/// large networks are fine; the network itself may be boxed too (pass `&mut *net`).
///
/// The trainer's state is public (generator, epoch count, early-stopping record, schedule), so
/// that it can be saved with the network and the optimizer and training resumed exactly.
///
/// ```
/// use static_nn::prelude::*;
///
/// // Which quadrant of the plane a point is in: four classes.
/// type Net = (Dense<f64, 2, 16>, Tanh, Dense<f64, 16, 4>);
/// let mut rng = Rng::new(1);
/// let samples: Vec<([f64; 2], Class<4>)> = (0..200)
///     .map(|_| {
///         let (x, y) = (rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0));
///         let class = usize::from(x < 0.0) + 2 * usize::from(y < 0.0);
///         ([x, y], Class::new(class).unwrap())
///     })
///     .collect();
/// let (train, validation) = samples.split_at(160);
///
/// let mut net = Net::build(Init::XavierUniform, &mut Rng::new(2));
/// let mut adam = Adam::new(AdamConfig::with_lr(0.02));
/// let config = TrainConfig { early_stopping: Some(EarlyStopping::patience(5)), ..TrainConfig::with_epochs(60) };
/// let mut trainer = Trainer::<f64, Net, 2, 16>::new(config);
/// let history = trainer
///     .fit(&mut net, &mut adam, &CrossEntropy, train, Some(validation), |record| println!("{record}"))
///     .unwrap();
/// let best = history.epochs[history.best_epoch.unwrap() - 1];
/// assert!(best.validation.unwrap().accuracy.unwrap() > 0.95);
/// ```
pub struct Trainer<T: Real, N: Layer<T, SMatrix<T, I, B>>, const I: usize, const B: usize, S = FixedLr<T>> {
    /// How to train; may be changed between epochs.
    pub config: TrainConfig<T>,
    /// The learning-rate schedule. When present, its rate replaces the optimizer's at the start
    /// of every epoch, and it is stepped once per epoch with the monitored loss.
    pub schedule: Option<S>,
    /// The generator that shuffles the samples (seeded from [`TrainConfig::seed`]).
    pub rng: Rng,
    /// Epochs completed over the trainer's life.
    pub epochs_done: usize,
    /// The best monitored loss so far (+∞ before the first epoch).
    pub best_loss: T,
    /// The epoch that reached [`Trainer::best_loss`] (0 before the first epoch).
    pub best_epoch: usize,
    /// Consecutive epochs without improvement of the monitored loss.
    pub bad_epochs: usize,
    workspace: Box<Workspace<T, N, SMatrix<T, I, B>>>,
    inputs: Box<SMatrix<T, I, B>>,
    order: Vec<usize>,
    best_parameters: Vec<T>,
    /// The epoch whose parameters `best_parameters` holds (0: none).
    saved_epoch: usize,
}

impl<T: Real, N: Layer<T, SMatrix<T, I, B>>, const I: usize, const B: usize> Trainer<T, N, I, B> {
    /// A trainer without a schedule (the optimizer keeps its own learning rate). Allocates the
    /// workspace and the batch buffer.
    pub fn new(config: TrainConfig<T>) -> Self {
        Self {
            config,
            schedule: None,
            rng: Rng::new(config.seed),
            epochs_done: 0,
            best_loss: T::of(f64::INFINITY),
            best_epoch: 0,
            bad_epochs: 0,
            workspace: Workspace::new_boxed(),
            inputs: crate::zeroed_box(),
            order: Vec::new(),
            best_parameters: Vec::new(),
            saved_epoch: 0,
        }
    }
}

impl<T, N, S, const I: usize, const B: usize> Trainer<T, N, I, B, S>
where
    T: Real,
    N: Layer<T, SMatrix<T, I, B>>,
    S: Schedule<T>,
{
    /// The same trainer, driving the learning rate with `schedule`.
    pub fn with_schedule<S2: Schedule<T>>(self, schedule: S2) -> Trainer<T, N, I, B, S2> {
        Trainer {
            config: self.config,
            schedule: Some(schedule),
            rng: self.rng,
            epochs_done: self.epochs_done,
            best_loss: self.best_loss,
            best_epoch: self.best_epoch,
            bad_epochs: self.bad_epochs,
            workspace: self.workspace,
            inputs: self.inputs,
            order: self.order,
            best_parameters: self.best_parameters,
            saved_epoch: self.saved_epoch,
        }
    }

    /// The workspace of the last training step: its cache, output and gradient (to inspect
    /// gradients between epochs, say).
    pub fn workspace(&self) -> &Workspace<T, N, SMatrix<T, I, B>> {
        &self.workspace
    }

    /// Whether early stopping says to stop: `patience` epochs in a row without improvement.
    pub fn should_stop(&self) -> bool {
        self.config
            .early_stopping
            .is_some_and(|e| self.bad_epochs >= e.patience.max(1))
    }

    /// Runs epochs until [`TrainConfig::epochs`] have run in this call, early stopping stops
    /// them, or `on_epoch`, called after each, returns `ControlFlow::Break` (it may also return
    /// `()`, see [`EpochControl`]); then, if early stopping asks for it, restores the best
    /// epoch's parameters and buffers. Allocates the buffers an epoch needs (and the
    /// returned history) once, before the first epoch.
    ///
    /// The trainer's state carries over between calls: a second `fit` continues the epoch
    /// count, the schedule and the early-stopping record.
    ///
    /// # Errors
    /// As [`Trainer::epoch`]; training stops at the first error.
    pub fn fit<O, L, Y, C: EpochControl, const K: usize>(
        &mut self,
        net: &mut N,
        optimizer: &mut O,
        loss: &L,
        train: &[Sample<T, I, Y>],
        validation: Option<&[Sample<T, I, Y>]>,
        mut on_epoch: impl FnMut(&EpochRecord<T>) -> C,
    ) -> Result<History<T>, TrainError>
    where
        N: Layer<T, SMatrix<T, I, B>, Output = SMatrix<T, K, B>>,
        O: Optimizer<T, N>,
        Y: Target<T, K>,
        L: Loss<T, SMatrix<T, K, B>, Target = Y::Batch<B>> + Loss<T, SMatrix<T, K, 1>, Target = Y::Batch<1>>,
    {
        self.fit_with(net, optimizer, loss, train, validation, &mut PlainStep, |record, _| {
            on_epoch(record)
        })
    }

    /// [`Trainer::fit`] with every step taken by `step`: a
    /// [`Monitor`](crate::diagnostics::Monitor) records gradient health, update ratios and the
    /// first-order check of each step, and `on_epoch` sees it after each epoch (with the last
    /// step's record).
    ///
    /// ```
    /// use static_nn::prelude::*;
    /// use static_nn::nalgebra::SMatrix;
    ///
    /// type Net = (Dense<f64, 2, 8>, Tanh, Dense<f64, 8, 1>);
    /// let samples: Vec<([f64; 2], [f64; 1])> =
    ///     (0..64).map(|i| { let x = i as f64 / 32.0 - 1.0; ([x, -x], [x * x]) }).collect();
    /// let mut net = Net::build(Init::PyTorch, &mut Rng::new(0));
    /// let mut adam = Adam::new(AdamConfig::with_lr(0.01));
    /// let mut monitor = Monitor::<f64, Net, SMatrix<f64, 2, 16>, 8>::new().unwrap();
    /// let mut trainer = Trainer::<f64, Net, 2, 16>::new(TrainConfig::with_epochs(3));
    /// let mut healthy = 0;
    /// trainer
    ///     .fit_with(&mut net, &mut adam, &Mse, &samples, None, &mut monitor, |_, monitor| {
    ///         healthy += usize::from(monitor.record().findings(&Thresholds::default()).count() == 0);
    ///     })
    ///     .unwrap();
    /// assert_eq!(monitor.record().step, 12); // 4 batches × 3 epochs, the last one recorded
    /// assert!(healthy > 0);
    /// ```
    ///
    /// # Errors
    /// As [`Trainer::fit`].
    #[allow(clippy::too_many_arguments)]
    pub fn fit_with<O, L, Y, S2, C, const K: usize>(
        &mut self,
        net: &mut N,
        optimizer: &mut O,
        loss: &L,
        train: &[Sample<T, I, Y>],
        validation: Option<&[Sample<T, I, Y>]>,
        step: &mut S2,
        mut on_epoch: impl FnMut(&EpochRecord<T>, &S2) -> C,
    ) -> Result<History<T>, TrainError>
    where
        N: Layer<T, SMatrix<T, I, B>, Output = SMatrix<T, K, B>>,
        O: Optimizer<T, N>,
        Y: Target<T, K>,
        L: Loss<T, SMatrix<T, K, B>, Target = Y::Batch<B>> + Loss<T, SMatrix<T, K, 1>, Target = Y::Batch<1>>,
        S2: TrainStep<T, N, SMatrix<T, I, B>>,
        C: EpochControl,
    {
        self.prepare(net, train.len());
        let mut epochs = Vec::with_capacity(self.config.epochs);
        let (mut stopped_early, mut stopped_by_callback) = (false, false);
        for _ in 0..self.config.epochs {
            let record = self.epoch_with(net, optimizer, loss, train, validation, step)?;
            stopped_by_callback = on_epoch(&record, step).stops();
            epochs.push(record);
            if stopped_by_callback {
                break;
            }
            if self.should_stop() {
                stopped_early = true;
                break;
            }
        }
        let restore = self.config.early_stopping.is_some_and(|e| e.restore_best);
        // The copy may predate the best epoch if restoring was switched on between epochs.
        if restore && self.best_epoch > 0 && self.saved_epoch == self.best_epoch {
            self.restore_best(net);
        }
        Ok(History {
            epochs,
            stopped_early,
            stopped_by_callback,
            best_epoch: (self.best_epoch > 0).then_some(self.best_epoch),
        })
    }

    /// One epoch over `train`, then an evaluation of `validation` (see the steps in the type's
    /// documentation). The first epoch on a training set of a new size sizes the index buffer;
    /// every other epoch allocates nothing.
    ///
    /// # Errors
    /// - [`TrainError::EmptyTrainingSet`], [`TrainError::EmptyEvaluationSet`] for an empty set,
    ///   and [`TrainError::TooFewSamples`] when [`LastBatch::Drop`] leaves no batch; nothing is
    ///   changed.
    /// - [`TrainError::NonFiniteLoss`], [`TrainError::NonFiniteGradient`],
    ///   [`TrainError::NonFiniteBuffer`]: the batch is not applied; the network and the
    ///   optimizer are as they were before it.
    pub fn epoch<O, L, Y, const K: usize>(
        &mut self,
        net: &mut N,
        optimizer: &mut O,
        loss: &L,
        train: &[Sample<T, I, Y>],
        validation: Option<&[Sample<T, I, Y>]>,
    ) -> Result<EpochRecord<T>, TrainError>
    where
        N: Layer<T, SMatrix<T, I, B>, Output = SMatrix<T, K, B>>,
        O: Optimizer<T, N>,
        Y: Target<T, K>,
        L: Loss<T, SMatrix<T, K, B>, Target = Y::Batch<B>> + Loss<T, SMatrix<T, K, 1>, Target = Y::Batch<1>>,
    {
        self.epoch_with(net, optimizer, loss, train, validation, &mut PlainStep)
    }

    /// [`Trainer::epoch`] with every step taken by `step` (see [`Trainer::fit_with`]).
    ///
    /// # Errors
    /// As [`Trainer::epoch`].
    pub fn epoch_with<O, L, Y, S2, const K: usize>(
        &mut self,
        net: &mut N,
        optimizer: &mut O,
        loss: &L,
        train: &[Sample<T, I, Y>],
        validation: Option<&[Sample<T, I, Y>]>,
        step: &mut S2,
    ) -> Result<EpochRecord<T>, TrainError>
    where
        N: Layer<T, SMatrix<T, I, B>, Output = SMatrix<T, K, B>>,
        O: Optimizer<T, N>,
        Y: Target<T, K>,
        L: Loss<T, SMatrix<T, K, B>, Target = Y::Batch<B>> + Loss<T, SMatrix<T, K, 1>, Target = Y::Batch<1>>,
        S2: TrainStep<T, N, SMatrix<T, I, B>>,
    {
        let n = train.len();
        if n == 0 {
            return Err(TrainError::EmptyTrainingSet);
        }
        if validation.is_some_and(|v| v.is_empty()) {
            return Err(TrainError::EmptyEvaluationSet);
        }
        let batches = match self.config.last_batch {
            LastBatch::Fill => n.div_ceil(B),
            LastBatch::Drop => n / B,
        };
        if batches == 0 {
            return Err(TrainError::TooFewSamples { samples: n, batch: B });
        }
        if let (0, Some(schedule)) = (self.epochs_done, &self.schedule) {
            let (ours, theirs) = (optimizer.learning_rate(), schedule.base_learning_rate());
            if ours != theirs {
                return Err(TrainError::LearningRateTwice {
                    optimizer: ours.to_f64(),
                    schedule: theirs.to_f64(),
                });
            }
        }
        self.prepare(net, n);
        if let Some(schedule) = &self.schedule {
            optimizer.set_learning_rate(schedule.learning_rate());
        }
        let epoch = self.epochs_done + 1;
        let learning_rate = optimizer.learning_rate();
        let per_batch = self.config.schedule_step == ScheduleStep::Batch;
        // Each epoch's order depends only on the generator's state, not on the last epoch's.
        for (i, index) in self.order.iter_mut().enumerate() {
            *index = i;
        }
        if self.config.shuffle {
            self.rng.shuffle(&mut self.order);
        }

        let mut targets = <Y::Batch<B>>::zeroed();
        let mut indices = [0usize; B];
        let (mut loss_sum, mut judged, mut correct) = (T::zero(), 0usize, 0usize);
        for batch in 0..batches {
            let start = batch * B;
            for (j, index) in indices.iter_mut().enumerate() {
                *index = self.order[(start + j) % n];
            }
            gather(train, &indices, &mut self.inputs, &mut targets);
            if let (true, Some(schedule)) = (per_batch && batch > 0, &self.schedule) {
                optimizer.set_learning_rate(schedule.learning_rate());
            }
            let value = step
                .train_step(
                    &mut self.workspace,
                    net,
                    optimizer,
                    loss,
                    &self.inputs,
                    &targets,
                    self.config.clip,
                )
                .map_err(|e| TrainError::non_finite(e, epoch, batch + 1))?;
            loss_sum += value;
            if let (true, Some(schedule)) = (per_batch, &mut self.schedule) {
                schedule.step(value);
            }
            // Samples the filled last batch repeats from the start of the order count once.
            let first_seen = (n - start).min(B);
            for (j, &index) in indices[..first_seen].iter().enumerate() {
                if let Some(hit) = train[index].1.is_correct(&self.workspace.output.column(j)) {
                    judged += 1;
                    correct += usize::from(hit);
                }
            }
        }
        let train_evaluation = Evaluation {
            loss: loss_sum / T::of(batches as f64),
            accuracy: fraction(correct, judged),
        };
        let validation = match validation {
            Some(samples) => Some(self.evaluate(net, loss, samples)?),
            None => None,
        };

        self.epochs_done = epoch;
        let monitored = validation.map_or(train_evaluation.loss, |v| v.loss);
        let min_delta = self.config.early_stopping.map_or(T::zero(), |e| e.min_delta);
        let improved = monitored < self.best_loss - min_delta;
        if improved {
            self.best_loss = monitored;
            self.best_epoch = epoch;
            self.bad_epochs = 0;
            if self.config.early_stopping.is_some_and(|e| e.restore_best) {
                self.save_best(net);
                self.saved_epoch = epoch;
            }
        } else {
            self.bad_epochs += 1;
        }
        if let (false, Some(schedule)) = (per_batch, &mut self.schedule) {
            schedule.step(monitored);
        }
        Ok(EpochRecord {
            epoch,
            learning_rate,
            steps: batches,
            train: train_evaluation,
            validation,
            improved,
        })
    }

    /// The mean loss and the accuracy (where the targets have one) of `net` on `samples`, in
    /// inference mode ([`Layer::forward`]), in batches of `B`. Every sample counts exactly once:
    /// the columns an incomplete last batch lacks are computed but ignored, and the loss is
    /// taken one column at a time, so it is exactly the mean of the per-sample losses.
    ///
    /// # Errors
    /// [`TrainError::EmptyEvaluationSet`] if `samples` is empty.
    pub fn evaluate<L, Y, const K: usize>(
        &mut self,
        net: &N,
        loss: &L,
        samples: &[Sample<T, I, Y>],
    ) -> Result<Evaluation<T>, TrainError>
    where
        N: Layer<T, SMatrix<T, I, B>, Output = SMatrix<T, K, B>>,
        Y: Target<T, K>,
        L: Loss<T, SMatrix<T, K, B>, Target = Y::Batch<B>> + Loss<T, SMatrix<T, K, 1>, Target = Y::Batch<1>>,
    {
        if samples.is_empty() {
            return Err(TrainError::EmptyEvaluationSet);
        }
        let mut targets = <Y::Batch<B>>::zeroed();
        let mut single = <Y::Batch<1>>::zeroed();
        let mut indices = [0usize; B];
        let (mut loss_sum, mut judged, mut correct) = (T::zero(), 0usize, 0usize);
        for start in (0..samples.len()).step_by(B) {
            let count = (samples.len() - start).min(B);
            for (j, index) in indices[..count].iter_mut().enumerate() {
                *index = start + j;
            }
            gather(samples, &indices[..count], &mut self.inputs, &mut targets);
            let output = net.forward(&self.inputs);
            for (j, (_, target)) in samples[start..start + count].iter().enumerate() {
                let column = output.column(j);
                target.put(&mut single, 0);
                loss_sum += loss.value(&column.into_owned(), &single);
                if let Some(hit) = target.is_correct(&column) {
                    judged += 1;
                    correct += usize::from(hit);
                }
            }
        }
        Ok(Evaluation {
            loss: loss_sum / T::of(samples.len() as f64),
            accuracy: fraction(correct, judged),
        })
    }

    /// Sizes the index buffer for `n` samples and the copy of the best parameters.
    fn prepare(&mut self, net: &N, n: usize) {
        self.order.resize(n, 0);
        if self.config.early_stopping.is_some_and(|e| e.restore_best) {
            let len = net.tensors().chain(net.buffers()).map(<[T]>::len).sum();
            self.best_parameters.resize(len, T::zero());
        }
    }

    fn save_best(&mut self, net: &N) {
        let mut to = self.best_parameters.as_mut_slice();
        for from in net.tensors().chain(net.buffers()) {
            let (head, tail) = to.split_at_mut(from.len());
            head.copy_from_slice(from);
            to = tail;
        }
    }

    fn restore_best(&self, net: &mut N) {
        let mut from = self.best_parameters.as_slice();
        let mut copy = |to: &mut [T]| {
            let (head, tail) = from.split_at(to.len());
            to.copy_from_slice(head);
            from = tail;
        };
        net.tensors_mut().for_each(&mut copy);
        net.buffers_mut().for_each(&mut copy);
    }
}

/// `correct / judged`, or `None` when nothing could be judged.
fn fraction<T: Real>(correct: usize, judged: usize) -> Option<T> {
    (judged > 0).then(|| T::of(correct as f64) / T::of(judged as f64))
}
