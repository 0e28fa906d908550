//! Handwritten digits: 8×8 images of 16 grey levels, ten classes (UCI optical digits).
//!
//! ```sh
//! cargo run --release --example digits
//! ```
//!
//! Stratified 5-fold cross-validation of a 64-64-10 ReLU network, as scikit-learn's
//! `MLPClassifier` was scored on the same data (`data/README.md`). Writes the training curves
//! to `target/plots/digits.svg`.
//!
//! With the environment variable `STATIC_NN_TIMING` set, it prints one line per fold (training
//! time and held-out accuracy) and nothing else: `scripts/compare_sklearn.py` times it against
//! scikit-learn that way.

#[path = "common/mod.rs"]
mod common;

use common::{Output, Report, Settings};
use static_nn::data::{Header, Labelled, parse_csv};
use static_nn::prelude::*;

/// 64 features in, 64 ReLU units, 10 classes out.
type Digits = Mlp![f32, 64 -> 64 -> 10, Relu];
const BATCH: usize = 32;

const SETTINGS: Settings = Settings {
    name: "digits",
    folds: 5,
    seed: 0,
    epochs: 100,
    lr: 1e-3,
    weight_decay: 1e-3,
    sklearn: (0.974, 0.008),
};

fn data() -> Labelled<f32, 64, 10> {
    parse_csv(include_str!("../data/digits.csv"), Header::None).expect("data/digits.csv is well-formed")
}

fn run(data: &Labelled<f32, 64, 10>, output: Output) -> Report<10> {
    common::cross_validate::<Digits, 64, 10, BATCH>(data, &SETTINGS, output)
}

fn main() {
    let data = data();
    let output = Output::from_env();
    let report = run(&data, output);
    if output == Output::Interactive {
        common::summarise(&data, "64-64-10 (ReLU)", BATCH, &SETTINGS, &report);
    }
}
