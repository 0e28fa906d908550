//! Checkpoints written before the optimizer engine still load, into every optimizer, bit for bit.

use nalgebra::SMatrix;
use static_nn::bytemuck::Zeroable;
use static_nn::format;
use static_nn::prelude::*;

type Net = (Dense<f64, 2, 3>, Tanh, Dense<f64, 3, 1>);

fn batch(step: usize) -> (SMatrix<f64, 2, 2>, SMatrix<f64, 1, 2>) {
    let x = SMatrix::<f64, 2, 2>::from_fn(|i, j| ((step * 4 + i * 2 + j) as f64 * 0.61).sin());
    let y = SMatrix::<f64, 1, 2>::from_fn(|_, j| ((step * 2 + j) as f64 * 0.37).cos());
    (x, y)
}

/// Three steps from a fixed start with `optimizer`, then the checkpoint's bytes: how the
/// committed files were made, by the version before the optimizer engine.
fn trained<O: Optimizer<f64, Net>>(mut optimizer: O) -> Vec<u8> {
    let mut net = Net::build(Init::PyTorch, &mut Rng::new(7));
    let mut workspace = Workspace::new();
    for step in 0..3 {
        let (x, y) = batch(step);
        workspace.train_step(&mut net, &mut optimizer, &Mse, &x, &y);
    }
    format::checkpoint_to_vec(&net, &optimizer, &Rng::new(11)).unwrap()
}

fn sgd() -> Sgd<f64, Net> {
    Sgd::new(SgdConfig {
        momentum: 0.9,
        nesterov: true,
        ..SgdConfig::with_lr(0.05)
    })
}
fn adam() -> Adam<f64, Net> {
    Adam::new(AdamConfig {
        amsgrad: true,
        ..AdamConfig::with_lr(0.01)
    })
}
fn adam_w() -> AdamW<f64, Net> {
    AdamW::new(AdamWConfig::with_lr(0.01))
}
fn rms_prop() -> RmsProp<f64, Net> {
    RmsProp::new(RmsPropConfig {
        momentum: 0.5,
        centered: true,
        ..RmsPropConfig::with_lr(0.01)
    })
}
fn adagrad() -> Adagrad<f64, Net> {
    Adagrad::new(AdagradConfig {
        initial_accumulator_value: 0.1,
        ..AdagradConfig::with_lr(0.05)
    })
}

/// The committed file loads, and saving what was loaded gives the same bytes back.
fn loads<O: Optimizer<f64, Net>>(mut optimizer: O, bytes: &[u8]) {
    let mut net = Net::zeroed();
    let mut rng = Rng::new(0);
    format::load_checkpoint(&mut net, &mut optimizer, &mut rng, bytes).unwrap();
    assert_eq!(optimizer.steps(), 3);
    assert_eq!(format::checkpoint_to_vec(&net, &optimizer, &rng).unwrap(), bytes);
}

#[test]
fn checkpoints_from_before_the_engine_load() {
    loads(sgd(), include_bytes!("fixtures/checkpoint_sgd.snn"));
    loads(adam(), include_bytes!("fixtures/checkpoint_adam.snn"));
    loads(adam_w(), include_bytes!("fixtures/checkpoint_adam_w.snn"));
    loads(rms_prop(), include_bytes!("fixtures/checkpoint_rms_prop.snn"));
    loads(adagrad(), include_bytes!("fixtures/checkpoint_adagrad.snn"));
}

/// Training continued from the file matches training that never stopped, bit for bit.
#[test]
fn training_resumes_from_the_committed_file() {
    let mut net = Net::zeroed();
    let mut optimizer = adam();
    let mut rng = Rng::new(0);
    let bytes = include_bytes!("fixtures/checkpoint_adam.snn");
    format::load_checkpoint(&mut net, &mut optimizer, &mut rng, bytes).unwrap();
    let mut unbroken = Net::build(Init::PyTorch, &mut Rng::new(7));
    let mut unbroken_optimizer = adam();
    let mut workspace = Workspace::new();
    for step in 0..5 {
        let (x, y) = batch(step);
        if step >= 3 {
            workspace.train_step(&mut net, &mut optimizer, &Mse, &x, &y);
        }
        workspace.train_step(&mut unbroken, &mut unbroken_optimizer, &Mse, &x, &y);
    }
    let bits = |n: &Net| n.tensors().flatten().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&net), bits(&unbroken));
}

/// The same three steps taken today write the committed bytes: the update rules and the state's
/// layout are unchanged to the last bit.
#[test]
fn todays_checkpoints_equal_the_committed_files() {
    assert_eq!(trained(sgd()), include_bytes!("fixtures/checkpoint_sgd.snn"));
    assert_eq!(trained(adam()), include_bytes!("fixtures/checkpoint_adam.snn"));
    assert_eq!(trained(adam_w()), include_bytes!("fixtures/checkpoint_adam_w.snn"));
    assert_eq!(trained(rms_prop()), include_bytes!("fixtures/checkpoint_rms_prop.snn"));
    assert_eq!(trained(adagrad()), include_bytes!("fixtures/checkpoint_adagrad.snn"));
}
