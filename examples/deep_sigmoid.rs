//! Why batch normalisation: a deep sigmoid network on handwritten digits, trained twice with
//! the same weights, data order and optimizer, once plain and once with a batch norm before
//! every sigmoid.
//!
//! The gradient vanishes here *without* saturation: the diagnostics find no saturated layer.
//! On its way back each layer multiplies the gradient by a sigmoid slope of at most 1/4 and by
//! its transposed weight, whose gain is about 0.58 under PyTorch's initialisation (uniform in
//! ±1/√fan_in, variance 1/(3 fan_in)): the program measures 4e-7 through eight layers, about
//! 0.16 per layer. Batch norm helps mostly on the way back: its backward pass divides by the
//! batch's standard deviation of each pre-activation (it multiplies by γ/σ_batch), and these
//! are small here, so each layer's factor grows back towards one (the ratio becomes 0.9). Keeping the pre-activations centred matters less in this network, which never
//! saturates; `guide::saturation` shows a network whose units really saturate.
//!
//! Data: `data/digits.csv` (UCI optical digits, 8×8 images, see `data/README.md`).
//! Run with `cargo run --release --example deep_sigmoid`.

use std::error::Error;

use nalgebra::SMatrix;
use static_nn::diagnostics::{ActivationHealth, Diagnosis, Monitor, Thresholds};
use static_nn::prelude::*;

#[path = "common/digits.rs"]
mod digits;
use digits::{CLASSES, FEATURES, Sample};

const HIDDEN: usize = 32;
const BATCH: usize = 32;
const EPOCHS: usize = 30;

/// Eight hidden sigmoid layers of 32 units.
type Plain = (
    Dense<f32, FEATURES, HIDDEN>,
    Sigmoid,
    [(Dense<f32, HIDDEN, HIDDEN>, Sigmoid); 7],
    Dense<f32, HIDDEN, CLASSES>,
);

/// The same, with a batch norm between every dense layer and its sigmoid.
type Normalised = (
    Dense<f32, FEATURES, HIDDEN>,
    BatchNorm<f32, HIDDEN>,
    Sigmoid,
    [(Dense<f32, HIDDEN, HIDDEN>, BatchNorm<f32, HIDDEN>, Sigmoid); 7],
    Dense<f32, HIDDEN, CLASSES>,
);

/// Trains `net` for [`EPOCHS`] epochs of shuffled mini-batches; returns, per epoch, the mean
/// training loss and the test accuracy (inference mode, one sample at a time).
fn train<N>(net: &mut N, train: &[Sample], test: &[Sample]) -> Vec<(f32, f32)>
where
    N: Layer<f32, SMatrix<f32, FEATURES, BATCH>, Output = SMatrix<f32, CLASSES, BATCH>>
        + Layer<f32, SMatrix<f32, FEATURES, 1>, Output = SMatrix<f32, CLASSES, 1>>,
{
    let mut workspace = Workspace::<f32, N, SMatrix<f32, FEATURES, BATCH>>::new_boxed();
    let mut optimizer = Sgd::new(SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..SgdConfig::default()
    });
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut rng = Rng::new(7); // the same data order for every network
    let mut history = Vec::new();
    for _ in 0..EPOCHS {
        rng.shuffle(&mut order);
        let mut total = 0.0;
        let batches = order.chunks_exact(BATCH);
        let count = batches.len();
        for batch in batches {
            let x = SMatrix::<f32, FEATURES, BATCH>::from_fn(|i, j| train[batch[j]].0[i]);
            let labels: [Class<CLASSES>; BATCH] = std::array::from_fn(|j| train[batch[j]].1);
            total += workspace.train_step(net, &mut optimizer, &CrossEntropy, &x, &labels);
        }
        let correct = test
            .iter()
            .filter(|(x, label)| net.forward(x).imax() == label.index())
            .count();
        history.push((total / count as f32, correct as f32 / test.len() as f32));
    }
    history
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut samples = digits::load()?;
    Rng::new(1).shuffle(&mut samples);
    let (test, train_set) = samples.split_at(samples.len() / 5);
    println!(
        "digits: {} training and {} test samples; 8 hidden sigmoid layers of {HIDDEN}",
        train_set.len(),
        test.len()
    );
    println!("SGD lr 0.1, momentum 0.9, batches of {BATCH}; both networks start from the same dense weights\n");

    let mut plain = Plain::build(Init::PyTorch, &mut Rng::new(42));
    let mut normalised = Normalised::build(Init::PyTorch, &mut Rng::new(42));
    assert_eq!(plain.0, normalised.0);

    // How much of the gradient reaches the first layer, relative to the last, before training.
    let x = SMatrix::<f32, FEATURES, BATCH>::from_fn(|i, j| train_set[j].0[i]);
    let labels: [Class<CLASSES>; BATCH] = std::array::from_fn(|j| train_set[j].1);
    let mut workspace = Workspace::<f32, Plain, _>::new_boxed();
    workspace.compute_gradient(&plain, &CrossEntropy, &x, &labels);
    let plain_ratio = workspace.grad.0.weight.norm() / workspace.grad.3.weight.norm();
    let mut workspace = Workspace::<f32, Normalised, _>::new_boxed();
    workspace.compute_gradient(&normalised, &CrossEntropy, &x, &labels);
    let normalised_ratio = workspace.grad.0.weight.norm() / workspace.grad.4.weight.norm();
    println!("gradient norm of the first weight / of the last, before training:");
    println!("    plain {plain_ratio:.1e}, batch norm {normalised_ratio:.1e}\n");

    // What the diagnostics find at the plain network's first step (on a copy, so that both
    // networks still start from the same weights).
    let mut monitor = Monitor::<f32, Plain, SMatrix<f32, FEATURES, BATCH>, 24>::new_boxed()?;
    let mut workspace = Workspace::<f32, Plain, _>::new_boxed();
    let mut health = ActivationHealth::<f32, 8, 256>::new(&plain, &x, &workspace)?;
    let mut sgd = Sgd::new(SgdConfig::with_lr(0.1));
    monitor.train_step(
        &mut workspace,
        &mut plain.clone(),
        &mut sgd,
        &CrossEntropy,
        &x,
        &labels,
        None,
    )?;
    health.record(&plain, &x, &workspace);
    let thresholds = Thresholds::default();
    let saturated: Vec<String> = health
        .layers()
        .iter()
        .map(|l| format!("{:.0}%", 100.0 * l.saturated_fraction()))
        .collect();
    println!("saturated entries per sigmoid layer: {}", saturated.join(" "));
    println!("the plain network's first step:");
    let diagnosis = Diagnosis::of(
        monitor
            .record()
            .findings(&thresholds)
            .chain(health.findings(&thresholds)),
    );
    for line in diagnosis.to_string().lines() {
        println!("    {line}");
    }
    println!();
    // Vanishing without saturation, and batch norm's rescaling undoing it.
    assert!(health.layers().iter().all(|l| l.saturated == 0));
    assert!(plain_ratio < 1e-5 && normalised_ratio > 0.1);

    let without = train(&mut plain, train_set, test);
    let with = train(&mut normalised, train_set, test);

    println!("        training loss          test accuracy");
    println!("epoch   plain   batch norm     plain   batch norm");
    for (epoch, ((loss_a, acc_a), (loss_b, acc_b))) in without.iter().zip(&with).enumerate() {
        println!(
            "{:>5}  {loss_a:>6.3}   {loss_b:>10.3}    {:>5.1}%   {:>9.1}%",
            epoch + 1,
            acc_a * 100.0,
            acc_b * 100.0
        );
    }
    Ok(())
}
