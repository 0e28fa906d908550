//! Trains an iris classifier and a digits classifier, exports each both ways a program can
//! ship it, and reloads them.
//!
//! Run with `cargo run --release --example embed`. It writes
//! - `examples/embedded/iris.snn` and `digits.snn`: the weights in the binary format, for
//!   `include_bytes!` and `format::load` (validated and copied at run time, no allocator
//!   needed);
//! - `examples/embedded/src/iris_net.rs` and `digits_net.rs`: the weights as a Rust `static`,
//!   for `include!` (nothing to do at run time).
//!
//! They are used by the `no_std` firmware in `examples/embedded/`. The run is deterministic, so
//! running it again rewrites the same files (on a CPU with the same vector instructions: the
//! digits network's products use fused multiply-adds where the CPU has them).

use nalgebra::SMatrix;
use static_nn::data::{ConfusionMatrix, Header, Standardiser, parse_csv};
use static_nn::format;
use static_nn::prelude::*;

/// Four measurements in centimetres, sixteen ReLU units, three classes.
type Iris = (Dense<f32, 4, 16>, Relu, Dense<f32, 16, 3>);

/// 8×8 grey levels, 64 ReLU units, ten digits.
type Digits = (Dense<f32, 64, 64>, Relu, Dense<f32, 64, 10>);

const SAMPLES: usize = 150;
/// Every fifth sample is held out for testing.
const TEST: usize = SAMPLES / 5;
const TRAIN: usize = SAMPLES - TEST;

/// The measurements (columns are samples) and classes of `data/iris.csv`.
fn read_iris() -> (SMatrix<f32, 4, SAMPLES>, [usize; SAMPLES]) {
    let iris = parse_csv::<f32, 4, 3>(include_str!("../data/iris.csv"), Header::Counts).expect("data/iris.csv");
    let x = SMatrix::from_fn(|i, j| iris.samples[j].0[i]);
    (x, core::array::from_fn(|j| iris.samples[j].1.index()))
}

fn predictions<const B: usize>(net: &Iris, x: &SMatrix<f32, 4, B>) -> [usize; B] {
    let scores = net.forward(x);
    core::array::from_fn(|j| scores.column(j).argmax().0)
}

fn accuracy<const B: usize>(predicted: &[usize; B], truth: &[usize; B]) -> f32 {
    predicted.iter().zip(truth).filter(|(p, t)| p == t).count() as f32 / B as f32
}

/// Trains the digits classifier on the rows that are not held out (every fifth row is, as for
/// iris and in the firmware's `build.rs`) and writes both files.
fn ship_digits(dir: &std::path::Path) -> std::io::Result<()> {
    let digits = parse_csv::<f32, 64, 10>(include_str!("../data/digits.csv"), Header::None).expect("data/digits.csv");
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (row, sample) in digits.samples.iter().enumerate() {
        if row % 5 == 4 { &mut test } else { &mut train }.push(*sample);
    }
    let standardiser = Standardiser::fit(&train);
    standardiser.apply(&mut train);
    let mut net = Digits::build(Init::HeUniform, &mut Rng::new(7));
    let mut adam = Adam::new(AdamConfig::with_lr(1e-3));
    let mut trainer = Trainer::<f32, Digits, 64, 32>::new(TrainConfig::with_epochs(30));
    trainer
        .fit(&mut net, &mut adam, &CrossEntropy, &train, None, |_| {})
        .expect("finite training");
    standardiser.fold_into(&mut net.0);
    println!(
        "digits: held-out accuracy {:.3} ({} samples)",
        ConfusionMatrix::of(&net, &test).accuracy(),
        test.len()
    );

    let bytes_path = dir.join("digits.snn");
    format::save_file(&net, &bytes_path)?;
    std::fs::write(
        dir.join("src/digits_net.rs"),
        format::rust_source(&net, "pub static DIGITS: Digits"),
    )?;
    let mut reloaded = Digits::build(Init::PyTorch, &mut Rng::new(99));
    format::load_file(&mut reloaded, &bytes_path)?;
    assert_eq!(reloaded.0.weight, net.0.weight, "the reloaded network differs");
    println!(
        "wrote {} ({} bytes) and examples/embedded/src/digits_net.rs",
        bytes_path.display(),
        format::saved_len::<f32, Digits>()
    );
    Ok(())
}

fn main() -> std::io::Result<()> {
    let (x, classes) = read_iris();
    let (mut train_x, mut test_x) = (SMatrix::<f32, 4, TRAIN>::zeros(), SMatrix::<f32, 4, TEST>::zeros());
    let (mut train_y, mut test_y) = ([0; TRAIN], [0; TEST]);
    let (mut train_n, mut test_n) = (0, 0);
    for (j, (column, class)) in x.column_iter().zip(classes).enumerate() {
        if j % 5 == 4 {
            test_x.set_column(test_n, &column);
            test_y[test_n] = class;
            test_n += 1;
        } else {
            train_x.set_column(train_n, &column);
            train_y[train_n] = class;
            train_n += 1;
        }
    }

    // Train on standardised inputs, which suits gradient descent; the statistics are the
    // training set's.
    let train_samples: Vec<([f32; 4], ())> = train_x.column_iter().map(|c| (c.into_owned().into(), ())).collect();
    let standardiser = Standardiser::fit(&train_samples);
    let standardise = |m: &SMatrix<f32, 4, TRAIN>| {
        SMatrix::<f32, 4, TRAIN>::from_fn(|i, j| (m[(i, j)] - standardiser.mean[i]) / standardiser.scale[i])
    };
    let targets = Class::batch(train_y).expect("classes 0..3");
    let mut net = Iris::build(Init::HeUniform, &mut Rng::new(7));
    let mut optimizer = Sgd::new(SgdConfig {
        lr: 0.05,
        momentum: 0.9,
        ..SgdConfig::default()
    });
    let mut workspace = Workspace::new();
    let inputs = standardise(&train_x);
    for step in 0..=300 {
        let loss = workspace.train_step(&mut net, &mut optimizer, &CrossEntropy, &inputs, &targets);
        if step % 100 == 0 {
            println!("step {step:>3}  loss {loss:.4}");
        }
    }

    // Fold the standardisation into the first layer, so that the shipped network takes raw
    // centimetres.
    standardiser.fold_into(&mut net.0);

    let predicted = predictions(&net, &test_x);
    println!(
        "held-out accuracy {:.3} ({} samples), training accuracy {:.3}",
        accuracy(&predicted, &test_y),
        TEST,
        accuracy(&predictions(&net, &train_x), &train_y)
    );

    // Ship it: bytes for `include_bytes!` + `format::load`, and Rust source for `include!`.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/embedded");
    let bytes_path = dir.join("iris.snn");
    format::save_file(&net, &bytes_path)?;
    let source = format::rust_source(&net, "pub static IRIS: Iris");
    std::fs::write(dir.join("src/iris_net.rs"), source)?;
    println!(
        "wrote {} ({} bytes) and examples/embedded/src/iris_net.rs",
        bytes_path.display(),
        format::saved_len::<f32, Iris>()
    );

    // Reload into a network that starts out different: the same predictions, bit for bit.
    let mut reloaded = Iris::build(Init::PyTorch, &mut Rng::new(99));
    format::load_file(&mut reloaded, &bytes_path)?;
    assert_eq!(reloaded.forward(&x), net.forward(&x), "the reloaded network differs");
    assert_eq!(predictions(&reloaded, &test_x), predicted);
    println!("reloaded: identical outputs on all {SAMPLES} samples");
    ship_digits(&dir)
}
