//! Learning rates side by side on iris: too low, about right and too high, with the loss
//! curves, the first-order check of the first step (the decrease the gradient predicted against
//! the actual one) and the update ratio `‖Δθ‖/‖θ‖`; then a deeper sigmoid network across
//! learning rates, with and without batch norm.
//!
//! Every network starts from the same weights and sees the same batches in the same order
//! (plain SGD, batches of 8, 10 epochs, `f64`). The numbers printed are asserted at the end, so
//! the example fails if the story it tells stops being true.
//!
//! Data: `data/iris.csv` (UCI, see `data/README.md`).
//! Run with `cargo run --release --example learning_rates`.

use nalgebra::SMatrix;
use static_nn::data::{Header, Standardiser, parse_csv, stratified_split};
use static_nn::diagnostics::Monitor;
use static_nn::prelude::*;

type Batch = SMatrix<f64, 4, 8>;
type Labels = [Class<3>; 8];

/// Two hidden sigmoid layers of 16.
type Shallow = (
    Dense<f64, 4, 16>,
    Sigmoid,
    Dense<f64, 16, 16>,
    Sigmoid,
    Dense<f64, 16, 3>,
);
/// Four hidden sigmoid layers of 16.
type Deep = (
    Dense<f64, 4, 16>,
    Sigmoid,
    [(Dense<f64, 16, 16>, Sigmoid); 3],
    Dense<f64, 16, 3>,
);
/// The same with a batch norm before every sigmoid.
type DeepNormalised = (
    Dense<f64, 4, 16>,
    BatchNorm<f64, 16>,
    Sigmoid,
    [(Dense<f64, 16, 16>, BatchNorm<f64, 16>, Sigmoid); 3],
    Dense<f64, 16, 3>,
);

const EPOCHS: usize = 10;

/// What a run shows: the mean training loss of every epoch, and of its first step the ratio
/// of the actual to the predicted decrease and the update ratio over all parameters.
struct Run {
    losses: Vec<f64>,
    agreement: f64,
    update_ratio: f64,
}

impl Run {
    fn last(&self) -> f64 {
        *self.losses.last().expect("at least one epoch")
    }
}

fn train<N>(net: &N, lr: f64, batches: &[(Batch, Labels)]) -> Run
where
    N: Layer<f64, Batch, Output = SMatrix<f64, 3, 8>> + Clone,
{
    let mut net = net.clone();
    let mut workspace = Workspace::<f64, N, Batch>::new_boxed();
    let mut monitor = Monitor::<f64, N, Batch, 24>::new_boxed().expect("capacity");
    monitor.first_order = true;
    let mut sgd = Sgd::new(SgdConfig::with_lr(lr));
    let mut run = Run {
        losses: Vec::new(),
        agreement: f64::NAN,
        update_ratio: f64::NAN,
    };
    for _ in 0..EPOCHS {
        let mut total = 0.0;
        for (x, labels) in batches {
            // A refused (non-finite) step counts as an infinite loss.
            let loss = monitor
                .train_step(&mut workspace, &mut net, &mut sgd, &CrossEntropy, x, labels, None)
                .unwrap_or(f64::INFINITY);
            total += loss;
            let record = monitor.record();
            if record.step == 1 {
                run.agreement = record.first_order().expect("asked for").agreement();
                run.update_ratio = record.stats.total.update_ratio();
            }
        }
        run.losses.push(total / batches.len() as f64);
    }
    run
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let iris = parse_csv::<f64, 4, 3>(include_str!("../data/iris.csv"), Header::Counts)?;
    let (mut samples, _) = stratified_split(&iris.samples, 0.2, 0);
    Standardiser::fit(&samples).apply(&mut samples);
    Rng::new(3).shuffle(&mut samples);
    let batches: Vec<(Batch, Labels)> = samples
        .chunks_exact(8)
        .map(|c| (Batch::from_fn(|i, j| c[j].0[i]), std::array::from_fn(|j| c[j].1)))
        .collect();
    println!(
        "iris, {} training samples, plain SGD, batches of 8, {EPOCHS} epochs\n",
        samples.len()
    );

    // 1. One network, three learning rates.
    let shallow = Shallow::build(Init::PyTorch, &mut Rng::new(0));
    let rates = [("too low", 0.01), ("about right", 1.0), ("too high", 30.0)];
    let runs: Vec<Run> = rates.iter().map(|&(_, lr)| train(&shallow, lr, &batches)).collect();
    println!("two hidden sigmoid layers: training loss per epoch");
    for ((name, lr), run) in rates.iter().zip(&runs) {
        let curve: Vec<String> = run.losses.iter().map(|l| format!("{l:.3}")).collect();
        println!("  lr {lr:>5} ({name:>11}): {}", curve.join(" "));
    }
    println!("first step: actual / predicted decrease, and ‖Δθ‖/‖θ‖");
    for ((name, lr), run) in rates.iter().zip(&runs) {
        println!(
            "  lr {lr:>5} ({name:>11}): {:>6.3}, {:.1e}",
            run.agreement, run.update_ratio
        );
    }

    // 2. A deeper network across learning rates, with and without batch norm.
    let deep = Deep::build(Init::PyTorch, &mut Rng::new(0));
    let normalised = DeepNormalised::build(Init::PyTorch, &mut Rng::new(0));
    let sweep = [0.01, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0];
    println!("\nfour hidden sigmoid layers: training loss after {EPOCHS} epochs");
    println!("{:>8} {:>10} {:>11}", "lr", "plain", "batch norm");
    let mut table = Vec::new();
    for lr in sweep {
        let (plain, with) = (
            train(&deep, lr, &batches).last(),
            train(&normalised, lr, &batches).last(),
        );
        println!("{lr:>8} {plain:>10.3} {with:>11.3}");
        table.push((lr, plain, with));
    }

    // The story, asserted.
    let [low, right, high] = [&runs[0], &runs[1], &runs[2]];
    assert!(low.losses[0] - low.last() < 0.05, "too low: the loss barely moves");
    assert!(
        low.agreement > 0.95 && low.update_ratio < 2e-3,
        "too low: linear, tiny steps"
    );
    assert!(right.last() < 0.2 && right.agreement > 0.2, "about right: learns");
    assert!(
        high.last() > 5.0 && high.agreement < 0.0 && high.update_ratio > 1.0,
        "too high: diverges"
    );
    let trains = |loss: f64| loss < 0.5;
    assert!(
        table.iter().all(|&(_, plain, _)| !trains(plain)),
        "plain: no rate trains in {EPOCHS} epochs"
    );
    let with: Vec<f64> = table
        .iter()
        .filter(|&&(_, _, with)| trains(with))
        .map(|&(lr, _, _)| lr)
        .collect();
    assert_eq!(with, [0.1, 0.3, 1.0, 3.0], "batch norm: a range of rates trains");
    println!("\nwith batch norm, rates from 0.1 to 3 train the deep network; without, none does in {EPOCHS} epochs");
    Ok(())
}
