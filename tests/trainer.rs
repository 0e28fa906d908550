//! The training loop through its public API: batching and the last partial batch, shuffling
//! and seeds, exact evaluation, early stopping, refusal of non-finite steps, schedule and
//! clipping hooks, classification and regression.

use std::cell::RefCell;

use nalgebra::{SMatrix, Vector4};
use static_nn::ScheduleStep;
use static_nn::optim::{PlateauConfig, ReduceLrOnPlateau, StepLr};
use static_nn::prelude::*;
use static_nn::train::TrainError;

/// A loss that records the targets it is shown, so that a test can see which samples went into
/// which batch. Its gradient is zero.
#[derive(Default)]
struct Recorder {
    batches: RefCell<Vec<Vec<f64>>>,
}

impl<const B: usize> Loss<f64, SMatrix<f64, 1, B>> for Recorder {
    type Target = SMatrix<f64, 1, B>;
    fn value(&self, _y: &SMatrix<f64, 1, B>, _target: &Self::Target) -> f64 {
        0.0
    }
    fn value_and_gradient(&self, y: &SMatrix<f64, 1, B>, target: &Self::Target) -> (f64, SMatrix<f64, 1, B>) {
        self.batches.borrow_mut().push(target.iter().copied().collect());
        (0.0, y * 0.0)
    }
}

type Probe = Dense<f64, 1, 1>;

/// Samples whose target is their own index.
fn numbered(n: usize) -> Vec<([f64; 1], [f64; 1])> {
    (0..n).map(|i| ([i as f64], [i as f64])).collect()
}

/// The batches of one epoch, as sample indices.
fn batches_of_one_epoch<const B: usize>(n: usize, last_batch: LastBatch) -> Result<Vec<Vec<usize>>, TrainError> {
    let recorder = Recorder::default();
    let mut net = Probe::zeros();
    let mut sgd = Sgd::new(SgdConfig::default());
    let config = TrainConfig {
        last_batch,
        seed: 5,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::<f64, Probe, 1, B>::new(config);
    let record = trainer.epoch(&mut net, &mut sgd, &recorder, &numbered(n), None)?;
    let batches = recorder.batches.take();
    assert_eq!(record.steps, batches.len());
    assert_eq!(sgd.steps as usize, batches.len());
    Ok(batches
        .into_iter()
        .map(|b| b.into_iter().map(|v| v as usize).collect())
        .collect())
}

#[test]
fn fill_completes_the_last_batch_from_the_start_of_the_order() {
    let batches = batches_of_one_epoch::<4>(10, LastBatch::Fill).unwrap();
    assert_eq!(batches.len(), 3);
    let order: Vec<usize> = batches.concat();
    let mut seen = order[..10].to_vec();
    seen.sort_unstable();
    assert_eq!(seen, (0..10).collect::<Vec<_>>(), "every sample in the epoch");
    assert_eq!(order[10..], order[..2], "the two extra are the first two of the order");
    assert_ne!(order[..10], (0..10).collect::<Vec<_>>(), "shuffled");
    // Fewer samples than one batch: the batch repeats them.
    let tiny = batches_of_one_epoch::<4>(3, LastBatch::Fill).unwrap();
    assert_eq!(tiny.len(), 1);
    assert_eq!(tiny[0][3], tiny[0][0]);
}

#[test]
fn drop_leaves_the_last_partial_batch_out() {
    let batches = batches_of_one_epoch::<4>(10, LastBatch::Drop).unwrap();
    assert_eq!(batches.len(), 2);
    let mut seen = batches.concat();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 8, "eight distinct samples, two sit the epoch out");
    assert_eq!(batches_of_one_epoch::<4>(12, LastBatch::Drop).unwrap().len(), 3);
    assert_eq!(
        batches_of_one_epoch::<4>(3, LastBatch::Drop).unwrap_err(),
        TrainError::TooFewSamples { samples: 3, batch: 4 }
    );
}

#[test]
fn without_shuffling_batches_follow_the_slice() {
    let recorder = Recorder::default();
    let config = TrainConfig {
        shuffle: false,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::<f64, Probe, 1, 3>::new(config);
    let (mut net, mut sgd) = (Probe::zeros(), Sgd::new(SgdConfig::default()));
    trainer
        .epoch(&mut net, &mut sgd, &recorder, &numbered(5), None)
        .unwrap();
    assert_eq!(recorder.batches.take(), [vec![0.0, 1.0, 2.0], vec![3.0, 4.0, 0.0]]);
}

/// Points in four quadrants, labelled by quadrant.
fn quadrants(n: usize, seed: u64) -> Vec<([f64; 2], Class<4>)> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let (x, y) = (rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0));
            let class = usize::from(x < 0.0) + 2 * usize::from(y < 0.0);
            ([x, y], Class::new(class).unwrap())
        })
        .collect()
}

type Classifier = (Dense<f64, 2, 12>, Tanh, Dense<f64, 12, 4>);

fn train_classifier(seed: u64, epochs: usize) -> (Classifier, Vec<f64>) {
    let data = quadrants(150, 1);
    let mut net = Classifier::build(Init::XavierUniform, &mut Rng::new(2));
    let mut adam = Adam::new(AdamConfig::with_lr(0.02));
    let config = TrainConfig {
        seed,
        ..TrainConfig::with_epochs(epochs)
    };
    let mut trainer = Trainer::<f64, Classifier, 2, 16>::new(config);
    let history = trainer
        .fit(&mut net, &mut adam, &CrossEntropy, &data, None, |_| {})
        .unwrap();
    (net, history.epochs.iter().map(|r| r.train.loss).collect())
}

#[test]
fn classification_learns_and_reports_accuracy() {
    let data = quadrants(150, 1);
    let test = quadrants(100, 9);
    let mut net = Classifier::build(Init::XavierUniform, &mut Rng::new(2));
    let mut adam = Adam::new(AdamConfig::with_lr(0.02));
    let mut trainer = Trainer::<f64, Classifier, 2, 16>::new(TrainConfig::with_epochs(40));
    let mut seen = Vec::new();
    let history = trainer
        .fit(&mut net, &mut adam, &CrossEntropy, &data, Some(&test), |r| {
            seen.push(r.epoch)
        })
        .unwrap();
    assert_eq!(seen, (1..=40).collect::<Vec<_>>());
    assert!(!history.stopped_early);
    let first = history.epochs[0];
    let last = history.last().unwrap();
    assert_eq!(last.steps, 10, "⌈150 / 16⌉ batches");
    assert!(last.train.loss < 0.3 * first.train.loss, "{first} → {last}");
    assert!(last.train.accuracy.unwrap() > 0.95, "{last}");
    assert!(last.validation.unwrap().accuracy.unwrap() > 0.95, "{last}");
    let evaluation = trainer.evaluate(&net, &CrossEntropy, &test).unwrap();
    assert_eq!(Some(evaluation), last.validation);
}

#[test]
fn regression_with_array_targets() {
    let mut rng = Rng::new(3);
    let data: Vec<([f32; 2], [f32; 1])> = (0..64)
        .map(|_| {
            let (a, b) = (rng.uniform(-1.0, 1.0) as f32, rng.uniform(-1.0, 1.0) as f32);
            ([a, b], [2.0 * a - b + 0.5])
        })
        .collect();
    type Linear = Dense<f32, 2, 1>;
    let mut net = Linear::zeros();
    let mut sgd = Sgd::new(SgdConfig {
        momentum: 0.9,
        ..SgdConfig::with_lr(0.05)
    });
    let mut trainer = Trainer::<f32, Linear, 2, 8>::new(TrainConfig::with_epochs(30));
    let history = trainer.fit(&mut net, &mut sgd, &Mse, &data, None, |_| {}).unwrap();
    let last = history.last().unwrap();
    assert!(last.train.loss < 1e-6, "{last}");
    assert_eq!(last.train.accuracy, None);
    assert!((net.weight[0] - 2.0).abs() < 1e-3 && (net.bias[0] - 0.5).abs() < 1e-3);
}

#[test]
fn the_same_seed_gives_the_same_run_and_another_seed_another() {
    let (a, losses_a) = train_classifier(7, 3);
    let (b, losses_b) = train_classifier(7, 3);
    let (c, _) = train_classifier(8, 3);
    assert_eq!(losses_a, losses_b);
    assert_eq!(a.2.weight, b.2.weight);
    assert_ne!(a.2.weight, c.2.weight);
}

#[test]
fn evaluation_is_the_mean_of_per_sample_losses() {
    // 7 samples in batches of 4: the second batch has a column that must not count.
    let data = quadrants(7, 4);
    let net = Classifier::build(Init::PyTorch, &mut Rng::new(5));
    let mut trainer = Trainer::<f64, Classifier, 2, 4>::new(TrainConfig::default());
    let evaluation = trainer.evaluate(&net, &CrossEntropy, &data).unwrap();
    let mut total = 0.0;
    let mut correct = 0;
    for (x, label) in &data {
        let logits = net.forward(&SMatrix::<f64, 2, 1>::from_column_slice(x));
        total += CrossEntropy.value(&logits, &[*label]);
        correct += usize::from(logits.argmax().0 == label.index());
    }
    assert!((evaluation.loss - total / 7.0).abs() < 1e-15, "{evaluation:?}");
    assert_eq!(evaluation.accuracy, Some(correct as f64 / 7.0));
    assert_eq!(
        trainer.evaluate(&net, &CrossEntropy, &data[..0]),
        Err(TrainError::EmptyEvaluationSet)
    );
}

#[test]
fn early_stopping_stops_and_restores_the_best_epoch() {
    // A quarter of the validation labels contradict the training labels: validation improves
    // while the network learns the quadrants, then worsens as it grows confident.
    let train = quadrants(64, 1);
    let validation: Vec<_> = train
        .iter()
        .enumerate()
        .map(|(i, (x, c))| {
            (
                *x,
                Class::new(if i % 4 == 0 { 3 - c.index() } else { c.index() }).unwrap(),
            )
        })
        .collect();
    let patience = 3;
    let config = TrainConfig {
        early_stopping: Some(EarlyStopping::patience(patience)),
        ..TrainConfig::with_epochs(50)
    };
    let start = Classifier::build(Init::XavierUniform, &mut Rng::new(2));
    let mut net = start.clone();
    let mut adam = Adam::new(AdamConfig::with_lr(0.02));
    let mut trainer = Trainer::<f64, Classifier, 2, 16>::new(config);
    let history = trainer
        .fit(&mut net, &mut adam, &CrossEntropy, &train, Some(&validation), |_| {})
        .unwrap();
    assert!(history.stopped_early);
    let best = history.best_epoch.unwrap();
    assert!(best > 1, "validation should improve for a while first");
    assert_eq!(history.epochs.len(), best + patience);
    assert!(history.epochs[best - 1].improved);
    assert!(history.epochs[best..].iter().all(|r| !r.improved));

    // The parameters are those after the best epoch: replay that many epochs.
    let mut replay = start;
    let mut adam = Adam::new(AdamConfig::with_lr(0.02));
    let mut twin = Trainer::<f64, Classifier, 2, 16>::new(config);
    for _ in 0..best {
        twin.epoch(&mut replay, &mut adam, &CrossEntropy, &train, Some(&validation))
            .unwrap();
    }
    assert_eq!(net.0.weight, replay.0.weight);
    assert_eq!(net.2.bias, replay.2.bias);
}

#[test]
fn restoring_switched_on_late_never_restores_a_copy_it_did_not_make() {
    // Every validation label is wrong: the first epoch is the best one.
    let train = quadrants(64, 1);
    let validation: Vec<_> = train
        .iter()
        .map(|(x, c)| (*x, Class::new(3 - c.index()).unwrap()))
        .collect();
    let start = Classifier::build(Init::XavierUniform, &mut Rng::new(2));
    let run = |switch_on_after_first: bool| {
        let mut net = start.clone();
        let mut adam = Adam::new(AdamConfig::with_lr(0.02));
        let mut trainer = Trainer::<f64, Classifier, 2, 16>::new(TrainConfig::with_epochs(1));
        trainer
            .epoch(&mut net, &mut adam, &CrossEntropy, &train, Some(&validation))
            .unwrap();
        if switch_on_after_first {
            trainer.config.early_stopping = Some(EarlyStopping::patience(1));
        }
        let history = trainer
            .fit(&mut net, &mut adam, &CrossEntropy, &train, Some(&validation), |_| {})
            .unwrap();
        assert_eq!(history.best_epoch, Some(1));
        net
    };
    let late = run(true);
    assert_eq!(
        late.0.weight,
        run(false).0.weight,
        "the second epoch's parameters are kept"
    );
}

#[test]
fn a_non_finite_loss_is_refused_before_any_change() {
    let mut data = quadrants(8, 1);
    data[4].0[0] = f64::NAN;
    let config = TrainConfig {
        shuffle: false,
        ..TrainConfig::default()
    };
    let mut net = Classifier::build(Init::PyTorch, &mut Rng::new(2));
    let mut sgd = Sgd::new(SgdConfig {
        momentum: 0.9,
        ..SgdConfig::with_lr(0.1)
    });
    let mut trainer = Trainer::<f64, Classifier, 2, 4>::new(config);
    let error = trainer
        .epoch(&mut net, &mut sgd, &CrossEntropy, &data, None)
        .unwrap_err();
    assert!(
        matches!(error, TrainError::NonFiniteLoss { epoch: 1, batch: 2, loss } if loss.is_nan()),
        "{error}"
    );
    assert!(
        error.to_string().starts_with("the loss is NaN in batch 2 of epoch 1"),
        "{error}"
    );
    // Exactly one step, the first batch's, was applied.
    let mut expected = Classifier::build(Init::PyTorch, &mut Rng::new(2));
    let mut sgd_expected = Sgd::new(sgd.config);
    let mut workspace = Workspace::<f64, Classifier, SMatrix<f64, 2, 4>>::new();
    let x = SMatrix::<f64, 2, 4>::from_fn(|i, j| data[j].0[i]);
    let labels = [data[0].1, data[1].1, data[2].1, data[3].1];
    workspace.train_step(&mut expected, &mut sgd_expected, &CrossEntropy, &x, &labels);
    assert_eq!(sgd.steps, 1);
    assert_eq!(net.0.weight, expected.0.weight);
    assert_eq!(sgd.state[0].0.weight, sgd_expected.state[0].0.weight);
}

#[test]
fn a_non_finite_gradient_norm_is_refused_when_clipping() {
    // A finite Huber loss whose weight gradient, dy·xᵀ, has a norm beyond f64's range.
    type Wide = Dense<f64, 4, 1>;
    let data = [([1.5e308; 4], [0.0])];
    let mut net = Wide::new(SMatrix::from_row_slice(&[1e-300, 0.0, 0.0, 0.0]), Default::default());
    let before = net.clone();
    let mut sgd = Sgd::new(SgdConfig::default());
    let config = TrainConfig {
        clip: Some(Clip::Norm(1.0)),
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::<f64, Wide, 4, 1>::new(config);
    let error = trainer
        .epoch(&mut net, &mut sgd, &Huber::default(), &data, None)
        .unwrap_err();
    assert_eq!(
        error,
        TrainError::NonFiniteGradient {
            epoch: 1,
            batch: 1,
            norm: f64::INFINITY
        }
    );
    assert_eq!(net, before);
    assert_eq!(sgd.steps, 0);
}

#[test]
fn clipping_bounds_every_update() {
    let data = quadrants(16, 1);
    let start = Classifier::build(Init::PyTorch, &mut Rng::new(2));
    for (clip, bound) in [(Clip::Norm(1e-3), 1e-3), (Clip::Value(1e-4), 1e-4)] {
        let mut net = start.clone();
        let mut sgd = Sgd::new(SgdConfig::with_lr(1.0));
        let config = TrainConfig {
            clip: Some(clip),
            ..TrainConfig::default()
        };
        let mut trainer = Trainer::<f64, Classifier, 2, 16>::new(config);
        trainer.epoch(&mut net, &mut sgd, &CrossEntropy, &data, None).unwrap();
        let deltas: Vec<f64> = net
            .tensors()
            .flatten()
            .zip(start.tensors().flatten())
            .map(|(a, b)| a - b)
            .collect();
        let measured = match clip {
            Clip::Norm(_) => deltas.iter().map(|d| d * d).sum::<f64>().sqrt(),
            Clip::Value(_) => deltas.iter().fold(0.0, |m, d| d.abs().max(m)),
        };
        assert!(
            measured > 0.5 * bound && measured <= bound * (1.0 + 1e-12),
            "{clip:?}: {measured}"
        );
    }
}

#[test]
fn the_schedule_sets_each_epochs_rate_and_hears_the_monitored_loss() {
    let data = quadrants(32, 1);
    let validation = quadrants(20, 2);
    let mut net = Classifier::build(Init::PyTorch, &mut Rng::new(2));
    // The rate is said once: an optimizer built with another rate than the schedule's is refused.
    let mut sgd = Sgd::new(SgdConfig::with_lr(123.0));
    let mut trainer =
        Trainer::<f64, Classifier, 2, 8>::new(TrainConfig::with_epochs(5)).with_schedule(StepLr::new(0.1, 2, 0.5));
    let before = net.clone();
    let error = trainer
        .fit(&mut net, &mut sgd, &CrossEntropy, &data, Some(&validation), |_| {})
        .unwrap_err();
    assert_eq!(
        error,
        TrainError::LearningRateTwice {
            optimizer: 123.0,
            schedule: 0.1
        }
    );
    assert_eq!(
        (net.0.weight, trainer.epochs_done, sgd.learning_rate()),
        (before.0.weight, 0, 123.0)
    );

    let mut sgd = Sgd::new(SgdConfig::with_lr(0.1));
    let history = trainer
        .fit(&mut net, &mut sgd, &CrossEntropy, &data, Some(&validation), |_| {})
        .unwrap();
    let rates: Vec<f64> = history.epochs.iter().map(|r| r.learning_rate).collect();
    assert_eq!(rates, [0.1, 0.1, 0.05, 0.05, 0.025]);
    assert_eq!(trainer.schedule.unwrap().steps, 5);

    let plateau = ReduceLrOnPlateau::new(0.05, PlateauConfig::default());
    sgd.set_learning_rate(0.05);
    let mut trainer = Trainer::<f64, Classifier, 2, 8>::new(TrainConfig::with_epochs(4)).with_schedule(plateau);
    let history = trainer
        .fit(&mut net, &mut sgd, &CrossEntropy, &data, Some(&validation), |_| {})
        .unwrap();
    let best = history
        .epochs
        .iter()
        .map(|r| r.validation.unwrap().loss)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(trainer.schedule.unwrap().best, best);
    assert_eq!(trainer.best_loss, best);
}

#[test]
fn a_schedule_steps_per_batch_when_asked() {
    let data = quadrants(32, 1);
    let mut net = Classifier::build(Init::PyTorch, &mut Rng::new(2));
    let mut sgd = Sgd::new(SgdConfig::with_lr(0.1));
    let config = TrainConfig {
        schedule_step: ScheduleStep::Batch,
        ..TrainConfig::with_epochs(3)
    };
    // 32 samples in batches of 8: 4 steps per epoch, the rate halving every 2 steps.
    let mut trainer = Trainer::<f64, Classifier, 2, 8>::new(config).with_schedule(StepLr::new(0.1, 2, 0.5));
    let history = trainer
        .fit(&mut net, &mut sgd, &CrossEntropy, &data, None, |_| {})
        .unwrap();
    let rates: Vec<f64> = history.epochs.iter().map(|r| r.learning_rate).collect();
    assert_eq!(rates, [0.1, 0.025, 0.00625], "the rate at each epoch's first batch");
    assert_eq!(trainer.schedule.unwrap().steps, 12);
    assert_eq!(sgd.learning_rate(), 0.1 * 0.5f64.powi(5), "set before the last batch");
}

#[test]
fn the_epoch_callback_can_stop_training() {
    let data = quadrants(32, 1);
    let mut net = Classifier::build(Init::PyTorch, &mut Rng::new(2));
    let mut adam = Adam::new(AdamConfig::with_lr(0.01));
    let mut trainer = Trainer::<f64, Classifier, 2, 8>::new(TrainConfig::with_epochs(50));
    let history = trainer
        .fit(&mut net, &mut adam, &CrossEntropy, &data, None, |record| {
            if record.epoch == 3 {
                core::ops::ControlFlow::Break(())
            } else {
                core::ops::ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(history.epochs.len(), 3);
    assert!(history.stopped_by_callback && !history.stopped_early);
    assert_eq!(trainer.epochs_done, 3);
}

#[test]
fn a_network_on_the_heap_trains_in_place() {
    type Wide = (Dense<f32, 4, 256>, Relu, Dense<f32, 256, 3>);
    let mut rng = Rng::new(6);
    let data: Vec<([f32; 4], Class<3>)> = (0..60)
        .map(|i| {
            let class = i % 3;
            let x = Vector4::from_fn(|j, _| if j == class { 1.0 } else { 0.0 } + rng.uniform(-0.2, 0.2) as f32);
            (x.into(), Class::new(class).unwrap())
        })
        .collect();
    let mut net = Wide::build_boxed(Init::HeUniform, &mut Rng::new(1));
    let mut optimizer = AdamW::<f32, Wide>::new_boxed(AdamWConfig::with_lr(0.01));
    let mut trainer = Trainer::<f32, Wide, 4, 12>::new(TrainConfig::with_epochs(10));
    let history = trainer
        .fit(&mut *net, &mut *optimizer, &CrossEntropy, &data, None, |_| {})
        .unwrap();
    assert_eq!(history.last().unwrap().train.accuracy, Some(1.0));
}

#[test]
fn empty_sets_are_errors_that_change_nothing() {
    let data = quadrants(4, 1);
    let mut net = Classifier::build(Init::PyTorch, &mut Rng::new(2));
    let before = net.clone();
    let mut sgd = Sgd::new(SgdConfig::with_lr(0.1));
    let mut trainer = Trainer::<f64, Classifier, 2, 4>::new(TrainConfig::default());
    let empty: &[([f64; 2], Class<4>)] = &[];
    assert_eq!(
        trainer.epoch(&mut net, &mut sgd, &CrossEntropy, empty, None),
        Err(TrainError::EmptyTrainingSet)
    );
    assert_eq!(
        trainer.epoch(&mut net, &mut sgd, &CrossEntropy, &data, Some(empty)),
        Err(TrainError::EmptyEvaluationSet)
    );
    assert_eq!(net.0.weight, before.0.weight);
    assert_eq!((sgd.steps, trainer.epochs_done), (0, 0));
    assert_eq!(TrainError::EmptyTrainingSet.to_string(), "the training set is empty");
}

#[test]
fn records_print_on_one_line() {
    let data = quadrants(16, 1);
    let mut net = Classifier::build(Init::PyTorch, &mut Rng::new(2));
    let mut sgd = Sgd::new(SgdConfig::with_lr(0.1));
    let mut trainer = Trainer::<f64, Classifier, 2, 16>::new(TrainConfig::default());
    let record = trainer
        .epoch(&mut net, &mut sgd, &CrossEntropy, &data, Some(&data))
        .unwrap();
    let line = record.to_string();
    assert!(line.starts_with("epoch 1  lr 1.000e-1  train loss "), "{line}");
    assert!(line.contains("%  validation loss "), "{line}");
    assert!(!line.contains('\n'));
}

#[test]
fn a_batch_that_would_overflow_a_running_variance_is_refused_before_any_change() {
    type Normed = (Dense<f32, 2, 3>, BatchNorm<f32, 3>, Dense<f32, 3, 4>);
    let data: Vec<([f32; 2], Class<4>)> = (0..4)
        .map(|i| ([(i as f32 - 1.5) * 1e30, 1e30 - i as f32], Class::new(i % 4).unwrap()))
        .collect();
    let mut net = Normed::build(Init::PyTorch, &mut Rng::new(2));
    let before = net.clone();
    let mut sgd = Sgd::new(SgdConfig::with_lr(0.1));
    let mut trainer = Trainer::<f32, Normed, 2, 4>::new(TrainConfig::default());
    let error = trainer
        .epoch(&mut net, &mut sgd, &CrossEntropy, &data, None)
        .unwrap_err();
    let TrainError::NonFiniteBuffer {
        epoch: 1,
        batch: 1,
        fault,
    } = error
    else {
        panic!("{error}");
    };
    assert_eq!(
        (fault.layer, fault.buffer, fault.value),
        (1, "running_var", f64::INFINITY)
    );
    assert!(error.to_string().contains("running_var"), "{error}");
    assert_eq!((net, sgd.steps), (before, 0));
}
