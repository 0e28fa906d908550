//! A training step (forward, loss, backward, clipping, optimizer update, schedule) performs no
//! heap allocation, with every optimizer; nor does a `Trainer` epoch once it is set up, nor a
//! hand-written loop over `Dataset` batches with standardisation, prediction and scoring.
//!
//! `allocation-counter` replaces the global allocator in this test binary only and counts the
//! allocations made on the current thread while a closure runs.

use nalgebra::SMatrix;
use static_nn::Seq;
use static_nn::optim::{
    CosineAnnealingLr, LinearWarmup, PlateauConfig, ReduceLrOnPlateau, Schedule, clip_grad_norm, clip_grad_value,
};
use static_nn::prelude::*;

/// Builds everything outside the measured region, then runs `steps` training steps inside it.
fn allocations_per_training<T, N, L, const I: usize, const B: usize>(loss: L, target: L::Target) -> u64
where
    T: Real,
    N: Layer<T, SMatrix<T, I, B>> + Parameters<T>,
    L: Loss<T, N::Output>,
{
    let mut net = N::build_boxed(Init::PyTorch, &mut Rng::new(1));
    let mut workspace = Workspace::<T, N, SMatrix<T, I, B>>::new_boxed();
    let mut optimizer = Sgd::<T, N>::new_boxed(SgdConfig {
        lr: T::of(0.01),
        momentum: T::of(0.9),
        weight_decay: T::of(1e-4),
        nesterov: true,
        ..SgdConfig::default()
    });
    let x = SMatrix::<T, I, B>::from_fn(|i, j| T::of(((i * B + j) as f64 * 0.37).sin()));
    // Warm up outside the measurement, so first-use effects cannot hide in it.
    workspace.train_step(&mut *net, &mut *optimizer, &loss, &x, &target);
    let info = allocation_counter::measure(|| {
        for _ in 0..3 {
            let value = workspace.train_step(&mut *net, &mut *optimizer, &loss, &x, &target);
            assert!(value.is_finite());
        }
    });
    info.count_total
}

type Tanh216 = (Dense<f32, 2, 16>, Tanh, Dense<f32, 16, 16>, Tanh, Dense<f32, 16, 1>);
type EveryActivation<T> = Seq![
    Dense<T, 4, 8>, Sigmoid, Dense<T, 8, 8>, Relu, Dense<T, 8, 8>, LeakyRelu<T>, Dense<T, 8, 8>, Elu<T>,
    Dense<T, 8, 8>, Softplus, Dense<T, 8, 8>, Gelu, Dense<T, 8, 8>, Silu, Dense<T, 8, 8>, Identity,
    [(Dense<T, 8, 8>, Tanh); 2], Dense<T, 8, 3>, Softmax,
];

/// Batch norm (running statistics updated every step), dropout (a new mask every step), layer
/// norm, a residual block and parallel branches.
type Structured<T> = Seq![
    Dense<T, 4, 8>, BatchNorm<T, 8>, Relu, Dropout<T>,
    Residual<(Dense<T, 8, 8>, LayerNorm<T, 8>, Tanh)>,
    Concat<(Dense<T, 8, 6>, BatchNorm<T, 6>, Sigmoid), Identity, 14>,
    Dropout<T>, Dense<T, 14, 3>,
];

#[test]
fn mlp_training_step_allocates_nothing_f32() {
    let count = allocations_per_training::<f32, Tanh216, _, 2, 1>(Mse, SMatrix::from_element(0.5));
    assert_eq!(count, 0);
}

#[test]
fn mlp_training_step_allocates_nothing_f64() {
    let count = allocations_per_training::<f64, (Dense<f64, 2, 16>, Tanh, Dense<f64, 16, 1>), _, 2, 8>(
        Huber::default(),
        SMatrix::from_element(0.5),
    );
    assert_eq!(count, 0);
}

#[test]
fn every_layer_and_loss_allocates_nothing() {
    let labels = Class::batch([0, 2, 1, 1, 0]).unwrap();
    assert_eq!(
        allocations_per_training::<f32, EveryActivation<f32>, _, 4, 5>(CrossEntropy, labels),
        0
    );
    assert_eq!(
        allocations_per_training::<f64, EveryActivation<f64>, _, 4, 5>(CrossEntropy, labels),
        0
    );
    let soft = SMatrix::from_element(0.25);
    assert_eq!(
        allocations_per_training::<f64, EveryActivation<f64>, _, 4, 5>(BceWithLogits, soft),
        0
    );
    assert_eq!(
        allocations_per_training::<f32, EveryActivation<f32>, _, 4, 5>(Mse, soft.cast()),
        0
    );
}

type Small<T> = (Dense<T, 3, 16>, Tanh, Dense<T, 16, 16>, Relu, Dense<T, 16, 2>);

/// Training steps with `optimizer`, both kinds of clipping and two schedules, all inside the
/// measured region; everything built before it.
fn allocations_per_step_with<T: Real, O: Optimizer<T, Small<T>>>(mut optimizer: Box<O>) -> u64 {
    let mut net = Small::<T>::build_boxed(Init::PyTorch, &mut Rng::new(1));
    let mut workspace = Workspace::<T, Small<T>, SMatrix<T, 3, 4>>::new_boxed();
    let x = SMatrix::<T, 3, 4>::from_fn(|i, j| T::of(((i * 4 + j) as f64 * 0.37).sin()));
    let target = SMatrix::<T, 2, 4>::from_fn(|i, j| T::of(((i + j) as f64 * 0.5).cos()));
    let mut warmup = LinearWarmup::new(T::of(0.1), 2, CosineAnnealingLr::new(T::of(0.01), 10, T::zero()));
    let mut plateau = ReduceLrOnPlateau::new(T::of(0.01), PlateauConfig::default());
    let mut step = |optimizer: &mut O| {
        optimizer.set_learning_rate(warmup.learning_rate().min(plateau.learning_rate()));
        let loss = workspace.compute_gradient(&net, &Mse, &x, &target);
        clip_grad_norm(&mut workspace.grad, T::of(1.0)).unwrap();
        clip_grad_value(&mut workspace.grad, T::of(0.1));
        net.update_buffers(&workspace.cache);
        optimizer.step(&mut net, &workspace.grad);
        warmup.step(loss);
        plateau.step(loss);
        assert!(loss.is_finite());
    };
    step(&mut optimizer);
    allocation_counter::measure(|| {
        for _ in 0..3 {
            step(&mut optimizer);
        }
    })
    .count_total
}

#[test]
fn every_optimizer_with_clipping_and_schedules_allocates_nothing() {
    let sgd = SgdConfig {
        momentum: 0.9,
        nesterov: true,
        weight_decay: 1e-4,
        ..SgdConfig::default()
    };
    let adam = AdamConfig {
        amsgrad: true,
        weight_decay: 1e-4,
        ..AdamConfig::default()
    };
    let rms_prop = RmsPropConfig {
        centered: true,
        momentum: 0.9,
        ..RmsPropConfig::default()
    };
    let adagrad = AdagradConfig {
        lr_decay: 0.01,
        ..AdagradConfig::default()
    };
    assert_eq!(
        allocations_per_step_with(Sgd::new_boxed(SgdConfig::<f32>::default())),
        0
    );
    assert_eq!(allocations_per_step_with(Sgd::new_boxed(sgd)), 0);
    assert_eq!(
        allocations_per_step_with(Adam::new_boxed(AdamConfig::<f32>::default())),
        0
    );
    assert_eq!(allocations_per_step_with(Adam::new_boxed(adam)), 0);
    assert_eq!(
        allocations_per_step_with(AdamW::new_boxed(AdamWConfig::<f32>::default())),
        0
    );
    assert_eq!(
        allocations_per_step_with(RmsProp::new_boxed(RmsPropConfig::<f32>::default())),
        0
    );
    assert_eq!(allocations_per_step_with(RmsProp::new_boxed(rms_prop)), 0);
    assert_eq!(allocations_per_step_with(Adagrad::new_boxed(adagrad)), 0);
    // And in f64.
    let adam64 = AdamConfig::<f64> {
        amsgrad: true,
        ..AdamConfig::default()
    };
    assert_eq!(allocations_per_step_with(Adam::new_boxed(adam64)), 0);
    assert_eq!(
        allocations_per_step_with(RmsProp::<f64, _>::new_boxed(RmsPropConfig::default())),
        0
    );
}

type Classifier = (Dense<f32, 2, 16>, Tanh, Dense<f32, 16, 3>);

fn three_classes(n: usize) -> Vec<([f32; 2], Class<3>)> {
    (0..n)
        .map(|i| {
            let angle = i as f32 * 0.7;
            (
                [angle.cos() * (1.0 + (i % 3) as f32), angle.sin()],
                Class::new(i % 3).unwrap(),
            )
        })
        .collect()
}

/// A trainer with every hook on: clipping, a schedule, early stopping that copies the best
/// parameters, a validation set, a partial last batch.
fn busy_trainer() -> Trainer<f32, Classifier, 2, 8, LinearWarmup<f32, CosineAnnealingLr<f32>>> {
    let config = TrainConfig {
        clip: Some(Clip::Norm(1.0)),
        early_stopping: Some(EarlyStopping::patience(100)),
        ..TrainConfig::with_epochs(1)
    };
    let schedule = LinearWarmup::new(0.5, 2, CosineAnnealingLr::new(0.05, 20, 0.0));
    Trainer::new(config).with_schedule(schedule)
}

#[test]
fn a_trainer_epoch_allocates_nothing_after_set_up() {
    let (train, validation) = (three_classes(45), three_classes(13));
    let mut net = Classifier::build_boxed(Init::PyTorch, &mut Rng::new(1));
    let mut adam = Adam::<f32, Classifier>::new_boxed(AdamConfig::with_lr(0.05));
    let mut trainer = busy_trainer();
    // The first epoch sizes the index buffer and the copy of the best parameters.
    trainer
        .epoch(&mut *net, &mut *adam, &CrossEntropy, &train, Some(&validation))
        .unwrap();
    let info = allocation_counter::measure(|| {
        for _ in 0..3 {
            let record = trainer
                .epoch(&mut *net, &mut *adam, &CrossEntropy, &train, Some(&validation))
                .unwrap();
            assert!(record.train.loss.is_finite());
        }
    });
    assert_eq!(info.count_total, 0);
    assert!(
        trainer.best_epoch > 1,
        "the best parameters were copied inside the measurement"
    );
}

#[test]
fn fit_allocates_only_at_set_up() {
    let (train, validation) = (three_classes(45), three_classes(13));
    let allocations_for = |epochs: usize| {
        let mut net = Classifier::build_boxed(Init::PyTorch, &mut Rng::new(1));
        let mut adam = Adam::<f32, Classifier>::new_boxed(AdamConfig::with_lr(0.05));
        let mut trainer = busy_trainer();
        trainer.config.epochs = epochs;
        allocation_counter::measure(|| {
            let history = trainer
                .fit(&mut *net, &mut *adam, &CrossEntropy, &train, Some(&validation), |_| {})
                .unwrap();
            assert_eq!(history.epochs.len(), epochs);
        })
        .count_total
    };
    assert_eq!(allocations_for(1), allocations_for(6));
}

/// Conv (strided) -> pooling -> GRU -> LSTM -> flatten -> dense: every sequence layer's training step.
type SequenceNet<T> = Seq![
    Conv1d<T, 2, 4, 3, 17, 8, 2>, Tanh, AvgPool1d<2, 8, 7, 1>, Gru<T, 4, 6>, Relu, MaxPool1d<2, 7, 6, 1>,
    Lstm<T, 6, 5>, Flatten<30>, Dense<T, 30, 2>,
];

fn allocations_per_sequence_training<T: Real>() -> u64 {
    let mut net = SequenceNet::<T>::build_boxed(Init::PyTorch, &mut Rng::new(1));
    net.3.bptt_window = 3;
    let mut workspace = Workspace::<T, SequenceNet<T>, [SMatrix<T, 2, 4>; 17]>::new_boxed();
    let mut optimizer = Sgd::<T, SequenceNet<T>>::new_boxed(SgdConfig {
        lr: T::of(0.01),
        momentum: T::of(0.9),
        ..SgdConfig::default()
    });
    let x: [SMatrix<T, 2, 4>; 17] =
        core::array::from_fn(|t| SMatrix::from_fn(|i, j| T::of(((t * 8 + i * 4 + j) as f64 * 0.37).sin())));
    let labels = Class::batch([0, 1, 1, 0]).unwrap();
    workspace.train_step(&mut *net, &mut *optimizer, &CrossEntropy, &x, &labels);
    allocation_counter::measure(|| {
        for _ in 0..3 {
            let value = workspace.train_step(&mut *net, &mut *optimizer, &CrossEntropy, &x, &labels);
            assert!(value.is_finite());
        }
    })
    .count_total
}

/// Layers large enough for the tiled kernels (and a narrow one for the transposed products),
/// with Adam, whose element loops run in the widest vectors the CPU has.
type Kernels<T> = (
    Dense<T, 40, 64>,
    Tanh,
    [(Dense<T, 64, 64>, Relu); 2],
    Dense<T, 64, 33>,
    Relu,
    Dense<T, 33, 10>,
);

fn allocations_with_kernels<T: Real>() -> u64 {
    let mut net = Kernels::<T>::build_boxed(Init::PyTorch, &mut Rng::new(1));
    let mut workspace = Workspace::<T, Kernels<T>, SMatrix<T, 40, 16>>::new_boxed();
    let mut adam = Adam::<T, Kernels<T>>::new_boxed(AdamConfig::default());
    let x = SMatrix::<T, 40, 16>::from_fn(|i, j| T::of(((i * 16 + j) as f64 * 0.37).sin()));
    let labels = Class::batch(core::array::from_fn(|i| i % 10)).unwrap();
    workspace.train_step(&mut *net, &mut *adam, &CrossEntropy, &x, &labels);
    allocation_counter::measure(|| {
        for _ in 0..3 {
            let loss = workspace.train_step(&mut *net, &mut *adam, &CrossEntropy, &x, &labels);
            assert!(loss.is_finite());
            std::hint::black_box(net.forward(&x));
        }
    })
    .count_total
}

#[test]
fn sequence_training_step_allocates_nothing() {
    assert_eq!(allocations_per_sequence_training::<f32>(), 0);
    assert_eq!(allocations_per_sequence_training::<f64>(), 0);
}

#[test]
fn streaming_step_allocates_nothing() {
    type Streaming = (
        Conv1d<f32, 1, 8, 3, 64, 64, 1, Causal, 2>,
        Relu,
        Gru<f32, 8, 16>,
        Lstm<f32, 16, 8>,
        EachStep<Dense<f32, 8, 1>>,
    );
    let net = Streaming::build(Init::PyTorch, &mut Rng::new(2));
    let mut state = Streaming::stream_state();
    let mut sum = 0.0;
    net.step(&SMatrix::<f32, 1, 1>::new(0.5), &mut state);
    let info = allocation_counter::measure(|| {
        for t in 0..100 {
            sum += net.step(&SMatrix::<f32, 1, 1>::new((t as f32 * 0.1).sin()), &mut state)[0];
        }
    });
    assert!(sum.is_finite());
    assert_eq!(info.count_total, 0);
}

#[test]
fn streaming_a_strided_causal_convolution_allocates_nothing() {
    type Streaming = (
        Conv1d<f32, 1, 8, 3, 64, 16, 4, Causal, 2>,
        Downstream<(Relu, Gru<f32, 8, 16>, EachStep<Dense<f32, 16, 1>>)>,
    );
    let net = Streaming::build(Init::PyTorch, &mut Rng::new(3));
    let mut state = Streaming::stream_state();
    let mut outputs = 0;
    net.step(&Some(SMatrix::<f32, 1, 1>::new(0.5)), &mut state);
    let info = allocation_counter::measure(|| {
        for t in 0..100 {
            if let Some(y) = net.step(&Some(SMatrix::<f32, 1, 1>::new((t as f32 * 0.1).sin())), &mut state) {
                assert!(y[0].is_finite());
                outputs += 1;
            }
        }
    });
    assert_eq!(outputs, 25, "one output every 4 frames");
    assert_eq!(info.count_total, 0);
}

#[test]
fn a_hand_written_loop_over_dataset_batches_allocates_nothing() {
    use static_nn::data::{ConfusionMatrix, Dataset, Standardiser};
    let mut samples = three_classes(45);
    let standardiser = Standardiser::fit(&samples);
    let mut net = Classifier::build_boxed(Init::PyTorch, &mut Rng::new(1));
    let mut adam = Adam::<f32, Classifier>::new_boxed(AdamConfig::with_lr(0.01));
    let mut workspace = Workspace::<f32, Classifier, SMatrix<f32, 2, 8>>::new_boxed();
    let mut rng = Rng::new(2);
    let info = allocation_counter::measure(|| {
        standardiser.apply(&mut samples);
        let mut data = Dataset::new(&samples); // the one allocation: the order
        for _ in 0..3 {
            data.shuffle(&mut rng);
            for (x, labels) in data.batches::<8>(LastBatch::Fill) {
                workspace.train_step(&mut *net, &mut *adam, &CrossEntropy, &x, &labels);
            }
        }
        assert!(ConfusionMatrix::of(&*net, &samples).total() == 45);
        let _ = net.classify(&samples[0].0);
    });
    assert_eq!(info.count_total, 1);
}

#[test]
fn normalisation_dropout_residual_and_concat_allocate_nothing() {
    let labels = Class::batch([0, 2, 1, 1, 0]).unwrap();
    assert_eq!(
        allocations_per_training::<f32, Structured<f32>, _, 4, 5>(CrossEntropy, labels),
        0
    );
    assert_eq!(
        allocations_per_training::<f64, Structured<f64>, _, 4, 5>(CrossEntropy, labels),
        0
    );
}

/// Fine-tuning: a frozen backbone in inference mode first, a layer in eval mode, a trained head.
type FineTuned<T> = (
    Frozen<(Dense<T, 4, 8>, BatchNorm<T, 8>, Relu, Dropout<T>)>,
    Dense<T, 8, 8>,
    Frozen<(BatchNorm<T, 8>, Tanh)>,
    Eval<BatchNorm<T, 8>>,
    Dense<T, 8, 3>,
);

#[test]
fn frozen_and_eval_mode_layers_allocate_nothing() {
    let labels = Class::batch([0, 2, 1, 1, 0]).unwrap();
    assert_eq!(
        allocations_per_training::<f32, FineTuned<f32>, _, 4, 5>(CrossEntropy, labels),
        0
    );
    assert_eq!(
        allocations_per_training::<f64, FineTuned<f64>, _, 4, 5>(CrossEntropy, labels),
        0
    );
}

#[test]
fn kernel_paths_allocate_nothing() {
    assert_eq!(allocations_with_kernels::<f32>(), 0);
    assert_eq!(allocations_with_kernels::<f64>(), 0);
}

#[test]
fn the_counter_does_count() {
    // Guards against a measurement that can never fail.
    let info = allocation_counter::measure(|| {
        let v = vec![1u8; 16];
        std::hint::black_box(v);
    });
    assert_eq!(info.count_total, 1);
}

#[test]
fn saving_and_loading_weights_and_checkpoints_allocates_nothing() {
    type Net = EveryActivation<f32>;
    let trained = Net::build_boxed(Init::PyTorch, &mut Rng::new(1));
    let optimizer = Sgd::<f32, Net>::new_boxed(SgdConfig {
        momentum: 0.9,
        ..SgdConfig::default()
    });
    let mut net = Net::build_boxed(Init::PyTorch, &mut Rng::new(2));
    let mut restored = Sgd::<f32, Net>::new_boxed(SgdConfig::default());
    let mut rng = Rng::new(3);
    let mut weights = vec![0u8; static_nn::format::saved_len::<f32, Net>()];
    let mut checkpoint = vec![0u8; static_nn::format::checkpoint_len::<f32, Net, Sgd<f32, Net>, Rng>()];
    let info = allocation_counter::measure(|| {
        static_nn::format::save(&*trained, &mut weights).unwrap();
        static_nn::format::load(&mut *net, &weights).unwrap();
        static_nn::format::save_checkpoint(&*trained, &*optimizer, &rng, &mut checkpoint).unwrap();
        static_nn::format::load_checkpoint(&mut *net, &mut *restored, &mut rng, &checkpoint).unwrap();
        // The error paths allocate nothing either.
        assert!(static_nn::format::load(&mut *net, &checkpoint).is_err());
        assert!(static_nn::format::load(&mut *net, &weights[..100]).is_err());
    });
    assert_eq!(info.count_total, 0);
    assert_eq!(net.0.weight, trained.0.weight);
}

/// A monitored step (statistics, update ratios, the first-order check, clipping), activation
/// health, findings and an importance analysis allocate nothing once built.
#[test]
fn diagnostics_allocate_nothing() {
    use static_nn::diagnostics::{ActivationHealth, Importance, Monitor, Thresholds, UnitImportance};
    type Net = Structured<f32>;
    type Input = SMatrix<f32, 4, 5>;
    let mut net = Net::build_boxed(Init::PyTorch, &mut Rng::new(1));
    let mut workspace = Workspace::<f32, Net, Input>::new_boxed();
    let mut adam = Adam::<f32, Net>::new_boxed(AdamConfig::default());
    let mut monitor = Monitor::<f32, Net, Input, 32>::new_boxed().unwrap();
    monitor.first_order = true;
    let mut importance = Importance::<f32, Net, Input>::new_boxed();
    let x = Input::from_fn(|i, j| ((i * 5 + j) as f32 * 0.37).sin());
    let labels = Class::batch([0, 2, 1, 1, 0]).unwrap();
    let data = [(x, labels), (x * 0.5, labels)];
    let mut health = ActivationHealth::<f32, 8, 64>::new(&*net, &x, &workspace).unwrap();
    let mut units = [UnitImportance::default(); 16];
    let thresholds = Thresholds::default();
    let mut step = |net: &mut Net, clip: Option<Clip<f32>>| {
        if clip.is_none() {
            health.reset();
        }
        let loss = monitor
            .train_step(&mut workspace, net, &mut *adam, &CrossEntropy, &x, &labels, clip)
            .unwrap();
        health.record(net, &x, &workspace);
        let findings = monitor.record().findings(&thresholds).count() + health.findings(&thresholds).count();
        std::hint::black_box((loss, findings, monitor.record().stats.gradient_ratio()));
    };
    step(&mut net, None);
    let info = allocation_counter::measure(|| {
        step(&mut net, Some(Clip::Norm(1.0)));
        step(&mut net, Some(Clip::Value(0.1)));
        step(&mut net, None);
        importance.measure(&*net, &CrossEntropy, &data);
        let layer = importance
            .layer(&mut net, &CrossEntropy, &data, 12, &mut units)
            .unwrap();
        std::hint::black_box(layer);
    });
    assert_eq!(info.count_total, 0);
    assert!(monitor.record().first_order().is_some());
}

/// A plain recurrent layer, trained with truncated backpropagation and streamed frame by frame.
#[test]
fn elman_rnn_training_and_streaming_allocate_nothing() {
    type Recurrent = (Rnn<f32, 2, 8>, LastStep, Dense<f32, 8, 2>);
    let mut net = Recurrent::build_boxed(Init::PyTorch, &mut Rng::new(1));
    net.0.bptt_window = 4;
    let mut workspace = Workspace::<f32, Recurrent, [SMatrix<f32, 2, 4>; 12]>::new_boxed();
    let mut optimizer = Sgd::<f32, Recurrent>::new_boxed(SgdConfig::with_lr(0.01));
    let x: [SMatrix<f32, 2, 4>; 12] =
        core::array::from_fn(|t| SMatrix::from_fn(|i, j| ((t * 8 + i * 4 + j) as f32 * 0.37).sin()));
    let labels = Class::batch([0, 1, 1, 0]).unwrap();
    workspace.train_step(&mut *net, &mut *optimizer, &CrossEntropy, &x, &labels);
    let mut state = <Rnn<f32, 2, 8> as Stream<f32, SMatrix<f32, 2, 1>>>::stream_state();
    let info = allocation_counter::measure(|| {
        for t in 0..3 {
            let value = workspace.train_step(&mut *net, &mut *optimizer, &CrossEntropy, &x, &labels);
            assert!(value.is_finite());
            let h = net
                .0
                .step(&SMatrix::<f32, 2, 1>::new(0.5, (t as f32).sin()), &mut state);
            assert!(h[0].is_finite());
        }
    });
    assert_eq!(info.count_total, 0);
}
