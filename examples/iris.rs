//! Fisher's iris: four measurements of a flower, three species. The smallest of the real data
//! sets in `data/`, and the one the test suite trains (`tests/iris.rs` includes this file).
//!
//! ```sh
//! cargo run --release --example iris
//! ```
//!
//! Stratified 5-fold cross-validation of a 4-16-3 ReLU network, as scikit-learn's
//! `MLPClassifier` was scored on the same data (`data/README.md`). Prints the held-out
//! accuracy against scikit-learn's, the confusion matrix of all folds' held-out predictions,
//! and writes the training curves to `target/plots/iris.svg`.

#[path = "common/mod.rs"]
pub mod common;

use common::{Output, Report, Settings};
use static_nn::data::{Header, Labelled, parse_csv};
use static_nn::prelude::*;

/// Four measurements in, sixteen ReLU units, three species out.
pub type Iris = Mlp![f32, 4 -> 16 -> 3, Relu];
pub const BATCH: usize = 16;

pub const SETTINGS: Settings = Settings {
    name: "iris",
    folds: 5,
    seed: 0,
    epochs: 100,
    lr: 1e-2,
    weight_decay: 1e-2,
    sklearn: (0.953, 0.016),
};

pub fn data() -> Labelled<f32, 4, 3> {
    parse_csv(include_str!("../data/iris.csv"), Header::Counts).expect("data/iris.csv is well-formed")
}

pub fn run(data: &Labelled<f32, 4, 3>, output: Output) -> Report<3> {
    common::cross_validate::<Iris, 4, 3, BATCH>(data, &SETTINGS, output)
}

fn main() {
    let data = data();
    let output = Output::from_env();
    let report = run(&data, output);
    if output == Output::Interactive {
        common::summarise(&data, "4-16-3 (ReLU)", BATCH, &SETTINGS, &report);
    }
}
