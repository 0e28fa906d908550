//! Resuming from a checkpoint is bit-identical for a network with every stateful layer (GRU,
//! LSTM, batch norm, dropout) under every optimizer, when the workspace's counters (dropout's
//! call count) travel with the checkpoint.

use nalgebra::SMatrix;
use static_nn::Counters;
use static_nn::format;
use static_nn::prelude::*;

const B: usize = 4;
const L: usize = 3;

type Input = [SMatrix<f64, 2, B>; L];
type Net = (
    Gru<f64, 2, 5>,
    Lstm<f64, 5, 4>,
    LastStep,
    Dense<f64, 4, 6>,
    BatchNorm<f64, 6>,
    Tanh,
    Dropout<f64>,
    Dense<f64, 6, 1>,
);

/// A batch that changes with the step, so that no step repeats another.
fn batch(step: u64) -> (Input, SMatrix<f64, 1, B>) {
    let s = step as f64;
    let x = core::array::from_fn(|t| SMatrix::from_fn(|i, j| ((t * 7 + i * 3 + j) as f64 * 0.31 + s).sin()));
    let y = SMatrix::from_fn(|_, j| (j as f64 * 0.5 + s * 0.2).cos());
    (x, y)
}

struct Run<O> {
    net: Net,
    optimizer: O,
    workspace: Workspace<f64, Net, Input>,
}

impl<O: Optimizer<f64, Net>> Run<O> {
    fn new(seed: u64, optimizer: O) -> Self {
        let mut net = Net::build(Init::PyTorch, &mut Rng::new(seed));
        // Hyperparameters, dropout's probability and mask sequence included, come from the
        // network loaded into, as an optimizer's do; only state travels in a checkpoint.
        net.6 = Dropout::new(0.3, 17);
        Self {
            net,
            optimizer,
            workspace: Workspace::new(),
        }
    }

    fn step(&mut self) {
        let (x, y) = batch(self.optimizer.steps());
        self.workspace
            .try_train_step(&mut self.net, &mut self.optimizer, &Mse, &x, &y, None)
            .unwrap();
    }

    /// Every bit of state: weights, running statistics, optimizer state, learning rate, step
    /// count and the dropout counter.
    fn state(&self) -> Vec<u64> {
        let reals = self
            .net
            .tensors()
            .chain(self.net.buffers())
            .chain(self.optimizer.tensors())
            .flatten()
            .map(|v| v.to_bits());
        reals
            .chain([self.optimizer.learning_rate().to_bits(), self.optimizer.steps()])
            .chain(self.workspace.counters())
            .collect()
    }
}

fn resumes_bit_identically<O: Optimizer<f64, Net>>(make: impl Fn() -> O, name: &str) {
    const TOTAL: usize = 9;
    let mut uninterrupted = Run::new(1, make());
    for _ in 0..TOTAL {
        uninterrupted.step();
    }
    for k in [1, 4, 8] {
        let (checkpoint, without_counters) = {
            let mut first = Run::new(1, make());
            for _ in 0..k {
                first.step();
            }
            (
                format::checkpoint_to_vec(&first.net, &first.optimizer, &first.workspace).unwrap(),
                format::checkpoint_to_vec(&first.net, &first.optimizer, &()).unwrap(),
            )
        };
        let mut resumed = Run::new(9, make());
        format::load_checkpoint(
            &mut resumed.net,
            &mut resumed.optimizer,
            &mut resumed.workspace,
            &checkpoint,
        )
        .unwrap();
        assert_eq!(resumed.workspace.counters().collect::<Vec<_>>(), [k as u64], "{name}");
        for _ in k..TOTAL {
            resumed.step();
        }
        assert_eq!(resumed.state(), uninterrupted.state(), "{name} resumed at step {k}");

        // Without the counter the resumed run redraws the first masks, and drifts.
        let mut forgetful = Run::new(9, make());
        format::load_checkpoint(&mut forgetful.net, &mut forgetful.optimizer, &mut (), &without_counters).unwrap();
        for _ in k..TOTAL {
            forgetful.step();
        }
        assert_ne!(forgetful.net.7.weight, uninterrupted.net.7.weight, "{name} at step {k}");
    }
}

#[test]
fn sgd_with_momentum() {
    let config = SgdConfig {
        momentum: 0.9,
        nesterov: true,
        weight_decay: 1e-3,
        ..SgdConfig::with_lr(0.05)
    };
    resumes_bit_identically(|| Sgd::new(config), "Sgd");
}

#[test]
fn adam() {
    let config = AdamConfig {
        amsgrad: true,
        ..AdamConfig::with_lr(0.01)
    };
    resumes_bit_identically(|| Adam::new(config), "Adam");
}

#[test]
fn adam_w() {
    resumes_bit_identically(|| AdamW::new(AdamWConfig::with_lr(0.01)), "AdamW");
}

#[test]
fn rms_prop() {
    let config = RmsPropConfig {
        momentum: 0.5,
        centered: true,
        ..RmsPropConfig::with_lr(0.01)
    };
    resumes_bit_identically(|| RmsProp::new(config), "RmsProp");
}

#[test]
fn adagrad() {
    let config = AdagradConfig {
        lr_decay: 0.01,
        ..AdagradConfig::with_lr(0.05)
    };
    resumes_bit_identically(|| Adagrad::new(config), "Adagrad");
}

#[test]
fn workspace_counters_are_named_and_travel_with_other_state() {
    let names: Vec<&str> = Workspace::<f64, Net, Input>::counter_names().collect();
    assert_eq!(names, ["dropout_calls"]);
    let mut run = Run::new(1, Sgd::new(SgdConfig::with_lr(0.1)));
    run.step();
    run.step();
    let rng = Rng::new(5);
    let bytes = format::checkpoint_to_vec(&run.net, &run.optimizer, &(&rng, &run.workspace)).unwrap();
    let mut other = Run::new(2, Sgd::new(SgdConfig::with_lr(0.1)));
    let mut restored_rng = Rng::new(0);
    format::load_checkpoint(
        &mut other.net,
        &mut other.optimizer,
        &mut (&mut restored_rng, &mut other.workspace),
        &bytes,
    )
    .unwrap();
    assert_eq!((restored_rng, other.workspace.counters().next()), (rng, Some(2)));
}
