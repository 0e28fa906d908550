//! Post-training `int8` quantisation of the digits (64-64-10) and iris (4-16-3) classifiers.
//!
//! ```sh
//! cargo run --release --example quantise
//! ```
//!
//! Each network is trained in `f32` exactly as `examples/digits.rs` and `examples/iris.rs` train
//! it (stratified 5-fold cross-validation, same seeds), then quantised to TFLite's `int8`
//! arithmetic with a calibration subset of its own training split (every fourth sample), and
//! both are scored on the held-out fold. It prints the accuracies, the sizes of the weights and
//! the time per sample of `f32` and `int8` inference at batch 1 and 32 (timed here with
//! `Instant`; `benches/quantised.rs` measures it properly).

#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;
use std::mem::{size_of, size_of_val};
use std::time::Instant;

use common::{Output, Settings};
use nalgebra::SMatrix;
use static_nn::data::{Header, Labelled, parse_csv};
use static_nn::prelude::*;
use static_nn::quantised::{
    Int8Kernel, Int8Layer, Int8Network, Int8Tensors, Int8Values, Quantise, Ranges, WeightRanges,
};

type Digits = Mlp![f32, 64 -> 64 -> 10, Relu];
type Iris = Mlp![f32, 4 -> 16 -> 3, Relu];

const DIGITS: Settings = Settings {
    name: "digits",
    folds: 5,
    seed: 0,
    epochs: 100,
    lr: 1e-3,
    weight_decay: 1e-3,
    sklearn: (0.974, 0.008),
};

const IRIS: Settings = Settings {
    name: "iris",
    folds: 5,
    seed: 0,
    epochs: 100,
    lr: 1e-2,
    weight_decay: 1e-2,
    sklearn: (0.953, 0.016),
};

/// Every fourth training sample: the calibration subset.
const CALIBRATION_STRIDE: usize = 4;

/// The two rules for the weight scales, each scored on every fold.
const WEIGHT_RANGES: [WeightRanges; 2] = [WeightRanges::MaxAbs, WeightRanges::MinimiseError];

/// Held-out accuracies of each fold, `f32` and `int8` with each rule for the weight scales,
/// and the bytes of the last fold's networks' parameters.
struct Outcome {
    real: Vec<f64>,
    int8: [Vec<f64>; 2],
    real_bytes: usize,
    int8_bytes: usize,
}

fn evaluate<N, const I: usize, const C: usize, const B: usize>(
    data: &Labelled<f32, I, C>,
    settings: &Settings,
) -> Outcome
where
    N: Layer<f32, SMatrix<f32, I, B>, Output = SMatrix<f32, C, B>>
        + Layer<f32, SMatrix<f32, I, 1>, Output = SMatrix<f32, C, 1>>
        + Send
        + Quantise<f32, SMatrix<f32, I, 1>>,
    N::Int8: Int8Layer<SMatrix<i8, I, 1>, Output = SMatrix<i8, C, 1>> + Int8Tensors,
{
    let mut outcome = Outcome {
        real: Vec::new(),
        int8: [Vec::new(), Vec::new()],
        // Counted, not `size_of::<N>()`, which on x86-64 includes the padding that puts each
        // layer on a cache line.
        real_bytes: N::scalar_count() * size_of::<f32>(),
        int8_bytes: 0,
    };
    let report = common::cross_validate_then::<N, I, C, B>(data, settings, Output::Quiet, |net, train, test| {
        let calibration: Vec<[f32; I]> = train.iter().step_by(CALIBRATION_STRIDE).map(|(x, _)| *x).collect();
        for (accuracies, weights) in outcome.int8.iter_mut().zip(WEIGHT_RANGES) {
            let int8 = Int8Network::quantise_with(net, &calibration, Ranges::MinMax, weights)
                .expect("finite weights and inputs");
            let correct = test
                .iter()
                .filter(|(x, class)| int8.classify(x) == class.index())
                .count();
            accuracies.push(correct as f64 / test.len() as f64);
            outcome.int8_bytes = parameter_bytes(&int8);
        }
    });
    outcome.real = report.accuracies;
    outcome
}

/// The bytes of an `int8` network's parameters: every tensor (weights, biases, multipliers,
/// shifts, zero points, clamps) and the input and output encodings. Not `size_of`, which on
/// x86-64 includes the padding that puts each layer's weights on a cache line.
fn parameter_bytes<N: Int8Tensors, const I: usize>(int8: &Int8Network<N, I>) -> usize {
    let mut bytes = 2 * (size_of::<f32>() + size_of::<i8>());
    int8.network.visit(&mut |values| {
        bytes += match values {
            Int8Values::Int8(v) => size_of_val(v),
            Int8Values::Int32(v) => size_of_val(v),
        }
    });
    bytes
}

fn percent(values: &[f64]) -> String {
    let (mean, std) = common::mean_std(values);
    format!("{:5.1}% ± {:.1}", 100.0 * mean, 100.0 * std)
}

/// Nanoseconds per sample of `run` over `rounds` calls on `samples` samples each.
fn nanoseconds_per_sample(samples: usize, rounds: usize, mut run: impl FnMut()) -> f64 {
    run();
    let start = Instant::now();
    for _ in 0..rounds {
        run();
    }
    start.elapsed().as_nanos() as f64 / (rounds * samples) as f64
}

/// Times the digits network in `f32` and `int8` (input encoding included, in one pass:
/// `forward_real`) on held-out samples.
fn time_digits(data: &Labelled<f32, 64, 10>) {
    let net = Digits::build(Init::HeUniform, &mut Rng::new(0));
    let inputs: Vec<[f32; 64]> = data.samples.iter().map(|(x, _)| *x).collect();
    let int8 = Int8Network::quantise(&net, &inputs[..400], Ranges::MinMax).expect("finite weights and inputs");
    let batch = SMatrix::<f32, 64, 32>::from_fn(|i, j| inputs[j][i]);
    let rounds = 20_000;
    let real_1 = nanoseconds_per_sample(1, rounds, || {
        black_box(net.forward(&SMatrix::<f32, 64, 1>::from_column_slice(black_box(&inputs[7]))));
    });
    let int8_1 = nanoseconds_per_sample(1, rounds, || {
        let x = SMatrix::<f32, 64, 1>::from_column_slice(black_box(&inputs[7]));
        black_box(int8.forward_real(&x));
    });
    let real_32 = nanoseconds_per_sample(32, rounds / 8, || {
        black_box(net.forward(black_box(&batch)));
    });
    let int8_32 = nanoseconds_per_sample(32, rounds / 8, || {
        black_box(int8.forward_real(black_box(&batch)));
    });
    println!(
        "\ndigits inference, ns per sample ({:?} kernel; rough, see benches/quantised.rs):",
        Int8Kernel::best()
    );
    println!(
        "  batch  1: f32 {real_1:7.1}   int8 {int8_1:7.1}   ({:.1}x)",
        real_1 / int8_1
    );
    println!(
        "  batch 32: f32 {real_32:7.1}   int8 {int8_32:7.1}   ({:.1}x)",
        real_32 / int8_32
    );
}

fn main() {
    let digits: Labelled<f32, 64, 10> =
        parse_csv(include_str!("../data/digits.csv"), Header::None).expect("data/digits.csv is well-formed");
    let iris: Labelled<f32, 4, 3> =
        parse_csv(include_str!("../data/iris.csv"), Header::Counts).expect("data/iris.csv is well-formed");

    println!(
        "held-out accuracy, stratified 5-fold (calibration: every {CALIBRATION_STRIDE}th training sample, min/max)"
    );
    println!(
        "{:<22} {:>14} {:>14} {:>14} {:>10} {:>10} {:>7}",
        "network", "f32", "int8 MaxAbs", "int8 MinErr", "f32 bytes", "int8 bytes", "ratio"
    );
    for (name, outcome) in [
        ("digits 64-64-10 ReLU", evaluate::<Digits, 64, 10, 32>(&digits, &DIGITS)),
        ("iris 4-16-3 ReLU", evaluate::<Iris, 4, 3, 16>(&iris, &IRIS)),
    ] {
        println!(
            "{name:<22} {:>14} {:>14} {:>14} {:>10} {:>10} {:>6.1}%",
            percent(&outcome.real),
            percent(&outcome.int8[0]),
            percent(&outcome.int8[1]),
            outcome.real_bytes,
            outcome.int8_bytes,
            100.0 * outcome.int8_bytes as f64 / outcome.real_bytes as f64
        );
    }
    time_digits(&digits);
}
