//! Checkpoints: training resumed from one is bit-identical to training that never stopped.

use nalgebra::SMatrix;
use proptest::prelude::{ProptestConfig, any, prop_assert, proptest};
use static_nn::Counters;
use static_nn::format::{self, Error, Name};
use static_nn::optim::{CosineAnnealingLr, LinearWarmup, PlateauConfig, ReduceLrOnPlateau, Schedule};
use static_nn::prelude::*;

type Net = (Dense<f64, 2, 8>, Tanh, Dense<f64, 8, 8>, Relu, Dense<f64, 8, 1>);

const SAMPLES: usize = 16;
const BATCH: usize = 4;

fn config() -> SgdConfig<f64> {
    SgdConfig {
        lr: 0.05,
        momentum: 0.9,
        weight_decay: 1e-3,
        nesterov: true,
        ..SgdConfig::default()
    }
}

/// Everything a training run changes: the network, the optimizer and the shuffling generator.
struct Run {
    net: Net,
    sgd: Sgd<f64, Net>,
    rng: Rng,
}

impl Run {
    fn new(seed: u64) -> Self {
        Self {
            net: Net::build(Init::PyTorch, &mut Rng::new(seed)),
            sgd: Sgd::new(config()),
            rng: Rng::new(seed + 1),
        }
    }

    /// One step on a minibatch drawn by the run's generator; every tenth step halves the
    /// learning rate, as a schedule would.
    fn step(&mut self) {
        let mut order: [usize; SAMPLES] = core::array::from_fn(|i| i);
        self.rng.shuffle(&mut order);
        let x = SMatrix::<f64, 2, BATCH>::from_fn(|i, j| (order[j] as f64 * 0.37 + i as f64).sin());
        let y = SMatrix::<f64, 1, BATCH>::from_fn(|_, j| (order[j] as f64 * 0.2).cos());
        let mut workspace = Workspace::new();
        workspace.train_step(&mut self.net, &mut self.sgd, &Mse, &x, &y);
        if self.sgd.steps.is_multiple_of(10) {
            let lr = self.sgd.learning_rate();
            self.sgd.set_learning_rate(lr * 0.5);
        }
    }

    fn checkpoint(&self) -> Vec<u8> {
        format::checkpoint_to_vec(&self.net, &self.sgd, &self.rng).unwrap()
    }

    fn resume(&mut self, bytes: &[u8]) -> Result<(), Error> {
        format::load_checkpoint(&mut self.net, &mut self.sgd, &mut self.rng, bytes)
    }

    /// Every bit of state: weights, momentum, learning rate, counters.
    fn state(&self) -> Vec<u64> {
        let reals = self
            .net
            .tensors()
            .chain(self.sgd.tensors())
            .flatten()
            .map(|v| v.to_bits());
        reals
            .chain([self.sgd.learning_rate().to_bits(), self.sgd.steps])
            .chain(self.rng.counters())
            .collect()
    }
}

#[test]
fn resuming_from_a_checkpoint_is_bit_identical_sgd_momentum() {
    const TOTAL: usize = 25;
    let mut uninterrupted = Run::new(1);
    for _ in 0..TOTAL {
        uninterrupted.step();
    }

    for k in [1, 7, 10, 24] {
        // The interrupted run ends with this block.
        let checkpoint = {
            let mut first = Run::new(1);
            for _ in 0..k {
                first.step();
            }
            first.checkpoint()
        };
        assert_eq!(
            checkpoint.len(),
            format::checkpoint_len::<f64, Net, Sgd<f64, Net>, Rng>()
        );

        // Fresh objects, deliberately different, then the checkpoint.
        let mut resumed = Run::new(77);
        resumed.resume(&checkpoint).unwrap();
        assert_eq!(resumed.sgd.steps, k as u64);
        for _ in k..TOTAL {
            resumed.step();
        }
        assert_eq!(resumed.state(), uninterrupted.state(), "resumed at step {k}");
    }
}

#[test]
fn a_failed_resume_changes_nothing() {
    let mut run = Run::new(1);
    for _ in 0..3 {
        run.step();
    }
    let checkpoint = run.checkpoint();
    let mut other = Run::new(5);
    other.step();
    let before = other.state();

    let mut corrupted = checkpoint.clone();
    let middle = corrupted.len() / 2;
    corrupted[middle] ^= 4;
    assert!(matches!(other.resume(&corrupted), Err(Error::ChecksumMismatch { .. })));
    assert!(matches!(other.resume(&checkpoint[..40]), Err(Error::Truncated { .. })));
    assert_eq!(other.state(), before);

    // A checkpoint is not a weights file, and the other way round.
    let weights = format::to_vec(&run.net).unwrap();
    assert_eq!(
        other.resume(&weights),
        Err(Error::MissingTensor {
            tensor: Name::from_bytes(b"optimizer.0.weight")
        })
    );
    assert_eq!(
        format::load(&mut other.net, &checkpoint),
        Err(Error::UnexpectedTensor {
            tensor: Name::from_bytes(b"optimizer.0.weight"),
            expected: None
        })
    );
    // Extra state of another type is refused by name.
    assert_eq!(
        format::load_checkpoint(&mut other.net, &mut other.sgd, &mut (), &checkpoint),
        Err(Error::UnexpectedTensor {
            tensor: Name::from_bytes(b"extra.rng"),
            expected: None
        })
    );
    assert_eq!(other.state(), before);
}

/// A learning-rate schedule's position, saved as an extra counter next to the generator.
struct Halving {
    epoch: u64,
}

impl Counters for Halving {
    fn counter_names() -> impl Iterator<Item = &'static str> {
        ["epoch"].into_iter()
    }
    fn counters(&self) -> impl Iterator<Item = u64> {
        [self.epoch].into_iter()
    }
    fn set_counter(&mut self, index: usize, value: u64) {
        assert_eq!(index, 0);
        self.epoch = value;
    }
}

#[test]
fn extra_state_travels_in_tuples() {
    let run = Run::new(2);
    let extra = (Halving { epoch: 12 }, Rng::new(42));
    let bytes = format::checkpoint_to_vec(&run.net, &run.sgd, &extra).unwrap();
    let mut restored = (Halving { epoch: 0 }, Rng::new(0));
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(3));
    let mut sgd = Sgd::new(config());
    format::load_checkpoint(&mut net, &mut sgd, &mut restored, &bytes).unwrap();
    assert_eq!(restored.0.epoch, 12);
    assert_eq!(restored.1, Rng::new(42));
    let names: Vec<&str> = <(Halving, Rng)>::counter_names().collect();
    assert_eq!(names, ["epoch", "rng"]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_checkpoints_are_rejected_cleanly(
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..4),
        keep in any::<proptest::sample::Index>(),
    ) {
        let mut run = Run::new(1);
        run.step();
        let mut bytes = run.checkpoint();
        for (at, value) in edits {
            let at = at.index(bytes.len());
            bytes[at] = value;
        }
        let keep = keep.index(bytes.len() + 1);
        bytes.truncate(keep);
        let mut other = Run::new(5);
        let before = other.state();
        if other.resume(&bytes).is_err() {
            prop_assert!(other.state() == before);
        }
    }
}

/// A run with Adam (AMSGrad), a warm-up around cosine annealing stepped every step, and a
/// plateau schedule watching the loss: every piece of optimizer and schedule state must travel.
struct AdamRun {
    net: Net,
    adam: Adam<f64, Net>,
    warmup: LinearWarmup<f64, CosineAnnealingLr<f64>>,
    plateau: ReduceLrOnPlateau<f64>,
    rng: Rng,
}

impl AdamRun {
    fn new(seed: u64) -> Self {
        Self {
            net: Net::build(Init::PyTorch, &mut Rng::new(seed)),
            adam: Adam::new(AdamConfig {
                amsgrad: true,
                weight_decay: 1e-3,
                ..AdamConfig::with_lr(0.01)
            }),
            warmup: LinearWarmup::new(0.1, 5, CosineAnnealingLr::new(0.01, 20, 1e-4)),
            plateau: ReduceLrOnPlateau::new(
                1.0,
                PlateauConfig {
                    patience: 2,
                    ..PlateauConfig::default()
                },
            ),
            rng: Rng::new(seed + 1),
        }
    }

    fn step(&mut self) {
        let mut order: [usize; SAMPLES] = core::array::from_fn(|i| i);
        self.rng.shuffle(&mut order);
        let x = SMatrix::<f64, 2, BATCH>::from_fn(|i, j| (order[j] as f64 * 0.37 + i as f64).sin());
        let y = SMatrix::<f64, 1, BATCH>::from_fn(|_, j| (order[j] as f64 * 0.2).cos());
        let mut workspace = Workspace::new();
        let loss = workspace.train_step(&mut self.net, &mut self.adam, &Mse, &x, &y);
        self.warmup.step(loss);
        self.plateau.step(loss);
        // The plateau schedule acts as a multiplier on the warm-up cosine.
        self.adam
            .set_learning_rate(self.warmup.learning_rate() * self.plateau.learning_rate());
    }

    fn state(&self) -> Vec<u64> {
        let reals = self
            .net
            .tensors()
            .chain(self.adam.tensors())
            .flatten()
            .map(|v| v.to_bits());
        reals
            .chain([self.adam.learning_rate().to_bits(), self.adam.steps])
            .chain((self.warmup, self.plateau, self.rng.clone()).counters())
            .collect()
    }
}

#[test]
fn resuming_from_a_checkpoint_is_bit_identical_adam_with_schedules() {
    const TOTAL: usize = 30;
    let mut uninterrupted = AdamRun::new(3);
    for _ in 0..TOTAL {
        uninterrupted.step();
    }
    for k in [1, 5, 6, 17] {
        let checkpoint = {
            let mut first = AdamRun::new(3);
            for _ in 0..k {
                first.step();
            }
            let extra = (first.warmup, first.plateau, first.rng.clone());
            format::checkpoint_to_vec(&first.net, &first.adam, &extra).unwrap()
        };
        let mut resumed = AdamRun::new(99);
        let mut extra = (resumed.warmup, resumed.plateau, resumed.rng.clone());
        format::load_checkpoint(&mut resumed.net, &mut resumed.adam, &mut extra, &checkpoint).unwrap();
        (resumed.warmup, resumed.plateau, resumed.rng) = extra;
        for _ in k..TOTAL {
            resumed.step();
        }
        assert_eq!(resumed.state(), uninterrupted.state(), "resumed at step {k}");
    }
}
