//! Seeing gradients on handwritten digits: vanishing gradients in a deep sigmoid network, the
//! same depth healthy with ReLU and He initialisation or with batch norm, an exploding
//! initialisation tamed by clipping, the first-order check of steepest descent, and units whose
//! large gradients say nothing about their importance.
//!
//! Data: `data/digits.csv` (UCI optical digits, 8×8 images, see `data/README.md`).
//! Run with `cargo run --release --features plot --example gradient_health`; the SVG plots go
//! to `target/gradient_health/`.

use std::error::Error;
use std::path::{Path, PathBuf};

use nalgebra::SMatrix;
use static_nn::diagnostics::plot::{self, Chart};
use static_nn::diagnostics::{
    ActivationHealth, Diagnosis, Finding, Importance, Monitor, Series, Thresholds, Trace, UnitImportance, UnitTable,
};
use static_nn::prelude::*;

#[path = "common/digits.rs"]
mod digits;
use digits::{CLASSES, FEATURES, Sample};

const HIDDEN: usize = 32;
const BATCH: usize = 32;
const EPOCHS: usize = 8;
const LR: f32 = 0.02;

type Batch = SMatrix<f32, FEATURES, BATCH>;
type Labels = [Class<CLASSES>; BATCH];

/// Eight hidden sigmoid layers of 32 units.
type SigmoidNet = (
    Dense<f32, FEATURES, HIDDEN>,
    Sigmoid,
    [(Dense<f32, HIDDEN, HIDDEN>, Sigmoid); 7],
    Dense<f32, HIDDEN, CLASSES>,
);
/// The same depth with ReLU.
type ReluNet = (
    Dense<f32, FEATURES, HIDDEN>,
    Relu,
    [(Dense<f32, HIDDEN, HIDDEN>, Relu); 7],
    Dense<f32, HIDDEN, CLASSES>,
);
/// The sigmoid network with a batch norm before every sigmoid.
type NormalisedNet = (
    Dense<f32, FEATURES, HIDDEN>,
    BatchNorm<f32, HIDDEN>,
    Sigmoid,
    [(Dense<f32, HIDDEN, HIDDEN>, BatchNorm<f32, HIDDEN>, Sigmoid); 7],
    Dense<f32, HIDDEN, CLASSES>,
);

/// Capacity of the records: tensors, activation layers, activation units.
const TENSORS: usize = 48;
const ACTIVATIONS: usize = 16;
const UNITS: usize = 512;

/// What a training run leaves: its trace, the first step's record as a table, the gradient
/// norm of each dense layer (position, norm) and the findings at the first step, grouped by
/// kind, the test accuracy, and whether and why it stopped early.
struct Run {
    trace: Trace,
    first_dense: Vec<(usize, f32)>,
    first_step: String,
    findings: Diagnosis<f32>,
    accuracy: f32,
    refused: Option<String>,
}

/// The training set in batches of [`BATCH`], in an order shuffled by `rng`.
fn batches(train: &[Sample], rng: &mut Rng) -> Vec<(Batch, Labels)> {
    let mut order: Vec<usize> = (0..train.len()).collect();
    rng.shuffle(&mut order);
    order
        .chunks_exact(BATCH)
        .map(|chunk| {
            let x = Batch::from_fn(|i, j| train[chunk[j]].0[i]);
            (x, std::array::from_fn(|j| train[chunk[j]].1))
        })
        .collect()
}

fn accuracy<N>(net: &N, test: &[Sample]) -> f32
where
    N: Layer<f32, SMatrix<f32, FEATURES, 1>, Output = SMatrix<f32, CLASSES, 1>>,
{
    let correct = test
        .iter()
        .filter(|(x, label)| net.forward(x).imax() == label.index())
        .count();
    correct as f32 / test.len() as f32
}

/// Trains `net` with SGD (momentum 0.9), monitoring every step; the data order is the same for
/// every network.
fn train<N>(label: &str, net: &mut N, lr: f32, clip: Option<Clip<f32>>, train: &[Sample], test: &[Sample]) -> Run
where
    N: Layer<f32, Batch, Output = SMatrix<f32, CLASSES, BATCH>>
        + Layer<f32, SMatrix<f32, FEATURES, 1>, Output = SMatrix<f32, CLASSES, 1>>,
{
    let mut workspace = Workspace::<f32, N, Batch>::new_boxed();
    let mut monitor = Monitor::<f32, N, Batch, TENSORS>::new_boxed().expect("capacity");
    let mut sgd = Sgd::new(SgdConfig {
        momentum: 0.9,
        ..SgdConfig::with_lr(lr)
    });
    let mut rng = Rng::new(7);
    let first = batches(train, &mut rng.clone());
    let mut health = ActivationHealth::<f32, ACTIVATIONS, UNITS>::new(net, &first[0].0, &workspace).expect("capacity");
    let thresholds = Thresholds::default();
    let mut run = Run {
        trace: Trace::new(label),
        first_dense: Vec::new(),
        first_step: String::new(),
        findings: Diagnosis::of([]),
        accuracy: 0.0,
        refused: None,
    };
    'epochs: for _ in 0..EPOCHS {
        health.reset();
        for (x, labels) in batches(train, &mut rng) {
            let step = monitor.train_step(&mut workspace, net, &mut sgd, &CrossEntropy, &x, &labels, clip);
            let record = monitor.record();
            if record.step == 1 {
                health.record(net, &x, &workspace);
                run.first_step = record.to_string();
                let stats = &record.stats;
                run.first_dense = stats
                    .tensors()
                    .iter()
                    .map(|t| t.info())
                    .filter(|info| info.name == "weight" && info.cols > 1)
                    .map(|info| (info.layer, stats.layer(info.layer).expect("has tensors").grad_norm))
                    .collect();
                run.findings = Diagnosis::of(record.findings(&thresholds).chain(health.findings(&thresholds)));
            }
            if let Err(error) = step {
                run.refused = Some(format!("step {} refused: {error}", record.step));
                break 'epochs;
            }
            health.record(net, &x, &workspace);
            run.trace.push(record);
            run.trace.push_health(record.step, &health);
        }
    }
    run.accuracy = accuracy(net, test);
    run
}

/// The gradient norm of every dense layer at the first step, side by side: the vanishing
/// gradient, layer by layer.
fn print_first_gradients(runs: &[(&str, &Run)]) {
    println!("gradient norm of each dense layer (its position in brackets) at the first step:");
    print!("{:>8}", "");
    for (name, _) in runs {
        print!("{name:>18}");
    }
    println!();
    for row in 0..runs[0].1.first_dense.len() {
        print!("{:>8}", format!("dense {}", row + 1));
        for (_, run) in runs {
            let (position, norm) = run.first_dense[row];
            print!("{:>18}", format!("{norm:.2e} ({position})"));
        }
        println!();
    }
}

/// The findings of a run's first step, one line per kind, each with its cause, fix and chapter.
fn print_findings(findings: &Diagnosis<f32>) {
    for line in findings.to_string().lines() {
        println!("    {line}");
    }
}

fn folder() -> Result<PathBuf, Box<dyn Error>> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("gradient_health");
    std::fs::create_dir_all(&folder)?;
    Ok(folder)
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut samples = digits::load()?;
    Rng::new(1).shuffle(&mut samples);
    let (test, train_set) = samples.split_at(samples.len() / 5);
    let out = folder()?;
    println!(
        "digits: {} training and {} test samples; 8 hidden layers of {HIDDEN}; SGD lr {LR}, momentum 0.9, batches of {BATCH}, {EPOCHS} epochs\n",
        train_set.len(),
        test.len()
    );

    // 1. Vanishing gradients, and two cures.
    let mut sigmoid = SigmoidNet::build(Init::PyTorch, &mut Rng::new(42));
    let mut relu = ReluNet::build(Init::HeUniform, &mut Rng::new(42));
    let mut normalised = NormalisedNet::build(Init::PyTorch, &mut Rng::new(42));
    let sigmoid_run = train("sigmoid", &mut sigmoid, LR, None, train_set, test);
    let relu_run = train("ReLU, He init", &mut relu, LR, None, train_set, test);
    let normalised_run = train("sigmoid + batch norm", &mut normalised, LR, None, train_set, test);
    let runs = [
        ("sigmoid", &sigmoid_run),
        ("ReLU + He", &relu_run),
        ("batch norm", &normalised_run),
    ];
    print_first_gradients(&runs);
    println!("\nthe sigmoid network's first step:\n{}", sigmoid_run.first_step);
    for (name, run) in &runs {
        println!(
            "{name}: test accuracy {:.1}% after {EPOCHS} epochs",
            100.0 * run.accuracy
        );
        print_findings(&run.findings);
    }

    // 2. A bad initialisation explodes; clipping the gradient's norm bounds every step. One
    // change at a time: clipping alone at the same learning rate, then a larger rate as well.
    let mut bad = ReluNet::build(Init::HeUniform, &mut Rng::new(42));
    for t in bad.tensors_mut() {
        t.iter_mut().for_each(|v| *v *= 2.0);
    }
    let (mut clipped, mut clipped_faster) = (bad.clone(), bad.clone());
    let exploding_run = train("He init × 2", &mut bad, LR, None, train_set, test);
    let clip = Some(Clip::Norm(0.2));
    let clipped_run = train("× 2, clipped to norm 0.2", &mut clipped, LR, clip, train_set, test);
    let faster_run = train("× 2, clipped, lr 0.1", &mut clipped_faster, 0.1, clip, train_set, test);
    println!("\nweights at twice He's scale:");
    for (name, run) in [
        (format!("lr {LR}, unclipped"), &exploding_run),
        (format!("lr {LR}, clipped to norm 0.2"), &clipped_run),
        ("lr 0.1, clipped to norm 0.2".to_string(), &faster_run),
    ] {
        let last = run.trace.loss.points.last().map_or(f64::NAN, |p| p.1);
        println!(
            "{name}: {}, last loss {last:.3}, test accuracy {:.1}%",
            run.refused.as_deref().unwrap_or("every step applied"),
            100.0 * run.accuracy
        );
        print_findings(&run.findings);
    }

    // The story told above, asserted: one change at a time.
    assert!(
        sigmoid_run
            .findings
            .groups()
            .all(|g| !matches!(g.first, Finding::Saturated { .. }))
    );
    assert!(exploding_run.refused.is_some(), "unclipped, the run overflows");
    assert!(
        clipped_run.refused.is_none() && faster_run.refused.is_none(),
        "clipped, every step is taken"
    );
    assert!(
        clipped_run.accuracy < faster_run.accuracy,
        "the larger learning rate does the rest"
    );

    // 3. The first-order check: how far one step can go before the gradient stops predicting it.
    let (x, labels) = batches(train_set, &mut Rng::new(3)).swap_remove(0);
    println!("\none plain SGD step of the trained ReLU network, on one batch:");
    println!("{:>10} {:>14} {:>14} {:>8}", "lr", "predicted", "actual", "ratio");
    let mut agreement = Series::new("actual / predicted decrease");
    for lr in [1e-4f32, 1e-3, 1e-2, 1e-1, 1.0, 3.0, 10.0] {
        let mut net = relu.clone();
        let mut workspace = Workspace::<f32, ReluNet, Batch>::new_boxed();
        let mut monitor = Monitor::<f32, ReluNet, Batch, TENSORS>::new_boxed()?;
        monitor.first_order = true;
        let mut sgd = Sgd::new(SgdConfig::with_lr(lr));
        monitor.train_step(&mut workspace, &mut net, &mut sgd, &CrossEntropy, &x, &labels, None)?;
        let check = monitor.record().first_order().expect("asked for");
        println!(
            "{lr:>10.0e} {:>14.3e} {:>14.3e} {:>8.3}",
            check.predicted,
            check.actual(),
            check.agreement()
        );
        agreement.points.push((f64::from(lr), f64::from(check.agreement())));
    }

    // 4. Local impact against overall importance: the units of the last hidden layer.
    let data = batches(train_set, &mut Rng::new(5));
    let mut importance = Importance::<f32, ReluNet, Batch>::new_boxed();
    importance.measure(&relu, &CrossEntropy, &data);
    let mut units = [UnitImportance::default(); HIDDEN];
    let layer = importance.layer(&mut relu, &CrossEntropy, &data, 16, &mut units)?;
    println!("\n{layer}");
    let rank = |key: fn(&UnitImportance<f32>) -> f32| {
        let mut sorted = units;
        sorted.sort_by(|a, b| key(b).total_cmp(&key(a)));
        sorted
    };
    let by_gradient = rank(|u| u.mean_abs_gradient);
    let by_ablation = rank(|u| u.ablation);
    let ablation_rank = |unit: usize| by_ablation.iter().position(|u| u.unit == unit).unwrap() + 1;
    println!("the eight units with the largest gradients, and where their ablation ranks (of {HIDDEN}):");
    print!("{}", UnitTable(&by_gradient[..8]));
    let misleading: Vec<String> = by_gradient[..8]
        .iter()
        .filter(|u| ablation_rank(u.unit) > HIDDEN / 2)
        .map(|u| format!("unit {} (ablation rank {})", u.unit, ablation_rank(u.unit)))
        .collect();
    println!(
        "large gradients, little importance: {}",
        if misleading.is_empty() {
            "none".into()
        } else {
            misleading.join(", ")
        }
    );
    println!("per layer, removing the whole hidden layer that the dense layer at each position reads:");
    for position in (2..=16).step_by(2) {
        let mut scratch = [UnitImportance::default(); HIDDEN];
        let whole = importance.layer(&mut relu, &CrossEntropy, &data, position, &mut scratch)?;
        println!(
            "    layer {position:>2}: mean |∂L/∂θ| {:.2e}, loss increase {:+.3}, rank correlation {:+.2}",
            whole.mean_abs_gradient,
            whole.ablation,
            whole.gradient_vs_ablation.unwrap_or(f32::NAN)
        );
    }

    // Pictures.
    let smooth = |series: &[Series]| -> Vec<Series> { series.iter().map(|s| s.smoothed(10)).collect() };
    let step = "step";
    plot::lines(
        out.join("loss.svg"),
        &Chart {
            title: "training loss (mean of 10 steps)",
            x_label: step,
            y_label: "cross-entropy",
            ..Chart::default()
        },
        &[
            sigmoid_run.trace.loss.smoothed(10),
            relu_run.trace.loss.smoothed(10),
            normalised_run.trace.loss.smoothed(10),
            clipped_run.trace.loss.smoothed(10),
        ],
    )?;
    for (name, run) in [
        ("sigmoid", &sigmoid_run),
        ("relu", &relu_run),
        ("batch_norm", &normalised_run),
    ] {
        let title = format!("gradient norm per layer: {}", run.trace.loss.label);
        plot::lines(
            out.join(format!("gradient_norms_{name}.svg")),
            &Chart {
                title: &title,
                x_label: step,
                y_label: "‖g‖ (mean of 10 steps)",
                log_y: true,
                ..Chart::default()
            },
            &smooth(&run.trace.gradient_norms),
        )?;
    }
    plot::lines(
        out.join("saturation.svg"),
        &Chart {
            title: "saturated fraction of each sigmoid layer",
            x_label: step,
            y_label: "fraction",
            ..Chart::default()
        },
        &[
            smooth(&sigmoid_run.trace.saturation),
            smooth(&normalised_run.trace.saturation)
                .into_iter()
                .map(|s| {
                    let label = format!("{} (BN)", s.label);
                    s.labelled(label)
                })
                .collect(),
        ]
        .concat(),
    )?;
    let exploding = [&exploding_run, &clipped_run, &faster_run].map(|run| run.trace.loss.clone());
    plot::lines(
        out.join("exploding.svg"),
        &Chart {
            title: "a bad initialisation, with and without clipping",
            x_label: step,
            y_label: "loss",
            log_y: true,
            ..Chart::default()
        },
        &exploding,
    )?;
    plot::lines(
        out.join("first_order.svg"),
        &Chart {
            title: "first-order check of one SGD step",
            x_label: "learning rate",
            y_label: "actual / predicted decrease",
            log_x: true,
            ..Chart::default()
        },
        &[agreement],
    )?;
    let scatter = |key: fn(&UnitImportance<f32>) -> f32, label: &str| Series {
        label: label.into(),
        points: units
            .iter()
            .map(|u| (f64::from(key(u)), f64::from(u.ablation)))
            .collect(),
    };
    plot::scatter(
        out.join("saliency_vs_ablation.svg"),
        &Chart {
            title: "units of the last hidden layer",
            x_label: "mean |∂L/∂θ| of the outgoing weights",
            y_label: "loss increase when ablated",
            ..Chart::default()
        },
        &[scatter(|u| u.mean_abs_gradient, "gradient saliency")],
    )?;
    plot::scatter(
        out.join("taylor_vs_ablation.svg"),
        &Chart {
            title: "units of the last hidden layer",
            x_label: "−θ·∂L/∂θ (first-order prediction)",
            y_label: "loss increase when ablated",
            ..Chart::default()
        },
        &[scatter(|u| u.taylor, "Taylor estimate")],
    )?;
    println!("\nplots written to {}", out.display());
    Ok(())
}
