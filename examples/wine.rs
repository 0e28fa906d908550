//! Wine recognition: thirteen chemical measurements of wines from three cultivars.
//!
//! ```sh
//! cargo run --release --example wine
//! ```
//!
//! Stratified 5-fold cross-validation of a 13-32-3 ReLU network, as scikit-learn's
//! `MLPClassifier` was scored on the same data (`data/README.md`). The features range from
//! about 0.1 (hue) to over 1000 (proline), so standardisation, fitted on each training split,
//! matters here more than anywhere else. Writes the training curves to `target/plots/wine.svg`.

#[path = "common/mod.rs"]
mod common;

use common::{Output, Report, Settings};
use static_nn::data::{Header, Labelled, parse_csv};
use static_nn::prelude::*;

/// 13 features in, 32 ReLU units, 3 classes out.
type Wine = Mlp![f32, 13 -> 32 -> 3, Relu];
const BATCH: usize = 16;

const SETTINGS: Settings = Settings {
    name: "wine",
    folds: 5,
    seed: 0,
    epochs: 100,
    lr: 1e-2,
    weight_decay: 1e-2,
    sklearn: (0.978, 0.011),
};

fn data() -> Labelled<f32, 13, 3> {
    parse_csv(include_str!("../data/wine_data.csv"), Header::Counts).expect("data/wine_data.csv is well-formed")
}

fn run(data: &Labelled<f32, 13, 3>, output: Output) -> Report<3> {
    common::cross_validate::<Wine, 13, 3, BATCH>(data, &SETTINGS, output)
}

fn main() {
    let data = data();
    let output = Output::from_env();
    let report = run(&data, output);
    if output == Output::Interactive {
        common::summarise(&data, "13-32-3 (ReLU)", BATCH, &SETTINGS, &report);
    }
}
