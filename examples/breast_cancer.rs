//! Breast Cancer Wisconsin (Diagnostic): thirty measurements of cell nuclei in a biopsy image,
//! malignant or benign.
//!
//! ```sh
//! cargo run --release --example breast_cancer
//! ```
//!
//! Stratified 5-fold cross-validation of a 30-32-2 ReLU network, as scikit-learn's
//! `MLPClassifier` was scored on the same data (`data/README.md`). Two classes are trained as
//! two logits with cross-entropy, which is the same model as one logit with a sigmoid.
//! Writes the training curves to `target/plots/breast_cancer.svg`.

#[path = "common/mod.rs"]
mod common;

use common::{Output, Report, Settings};
use static_nn::data::{Header, Labelled, parse_csv};
use static_nn::prelude::*;

/// 30 features in, 32 ReLU units, 2 classes out.
type Cancer = Mlp![f32, 30 -> 32 -> 2, Relu];
const BATCH: usize = 32;

const SETTINGS: Settings = Settings {
    name: "breast_cancer",
    folds: 5,
    seed: 0,
    epochs: 100,
    lr: 1e-3,
    weight_decay: 3e-2,
    sklearn: (0.977, 0.018),
};

fn data() -> Labelled<f32, 30, 2> {
    parse_csv(include_str!("../data/breast_cancer.csv"), Header::Counts).expect("data/breast_cancer.csv is well-formed")
}

fn run(data: &Labelled<f32, 30, 2>, output: Output) -> Report<2> {
    common::cross_validate::<Cancer, 30, 2, BATCH>(data, &SETTINGS, output)
}

fn main() {
    let data = data();
    let output = Output::from_env();
    let report = run(&data, output);
    if output == Output::Interactive {
        common::summarise(&data, "30-32-2 (ReLU)", BATCH, &SETTINGS, &report);
    }
}
