//! # Training on real data
//!
//! Four small, well-known data sets ship in `data/` (UCI, CC BY 4.0; see `data/README.md`):
//! iris, wine, breast cancer and handwritten digits. A program that trains on one goes through
//! the same steps, each a function of [`data`](crate::data):
//!
//! 1. **Load** into compile-time widths. [`parse_csv`](crate::data::parse_csv) reads text (here
//!    compiled in with `include_str!`), [`read_csv`](crate::data::read_csv) a file; the feature
//!    count and the class count are type parameters, checked against the file's header, and
//!    every problem is a [`CsvError`](crate::data::CsvError) naming its line.
//! 2. **Split** before looking at anything: [`stratified_split`](crate::data::stratified_split)
//!    keeps each class's share on both sides; [`Folds`](crate::data::Folds) gives stratified
//!    k-fold cross-validation.
//! 3. **Standardise** with statistics of the training split only
//!    ([`Standardiser::fit`](crate::data::Standardiser::fit)), applied to both. Statistics
//!    taken from the test split would leak it into training.
//! 4. **Train**: a [`Trainer`](crate::Trainer) for epochs of shuffled mini-batches, or
//!    [`Dataset`](crate::data::Dataset) batches in a loop of your own.
//! 5. **Score** on the held-out split: [`ConfusionMatrix`](crate::data::ConfusionMatrix),
//!    [`Predict::classify`](crate::Predict::classify).
//! 6. **Deploy** a network that takes raw inputs:
//!    [`Standardiser::fold_into`](crate::data::Standardiser::fold_into) the first layer, then
//!    save it ([`format`](crate::format)).
//!
//! ```
//! use static_nn::prelude::*;
//! use static_nn::data::{parse_csv, stratified_split, ConfusionMatrix, Header, Standardiser};
//!
//! // 1. Thirteen features, three classes: the types say so, the header is checked.
//! let wine_csv = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/wine_data.csv"));
//! let wine = parse_csv::<f32, 13, 3>(wine_csv, Header::Counts).unwrap();
//! // 2.
//! let (mut train, mut test) = stratified_split(&wine.samples, 0.25, 1);
//! // 3.
//! let standardiser = Standardiser::fit(&train);
//! standardiser.apply(&mut train);
//! standardiser.apply(&mut test);
//! // 4.
//! type Wine = Mlp![f32, 13 -> 32 -> 3, Relu];
//! let mut net = Wine::build(Init::HeUniform, &mut Rng::new(0));
//! let mut adam = Adam::new(AdamConfig { weight_decay: 0.01, ..AdamConfig::with_lr(0.01) });
//! let mut trainer = Trainer::<f32, Wine, 13, 16>::new(TrainConfig::with_epochs(40));
//! trainer.fit(&mut net, &mut adam, &CrossEntropy, &train, None, |_| {}).unwrap();
//! // 5.
//! let matrix = ConfusionMatrix::of(&net, &test);
//! println!("{}", matrix.with_names(&wine.class_names));
//! assert!(matrix.accuracy() > 0.93);
//! // 6. The deployed network reads raw measurements and predicts the same classes.
//! let mut deployed = net.clone();
//! standardiser.fold_into(&mut deployed.0);
//! let raw = &wine.samples[0].0;
//! assert_eq!(deployed.classify(raw), net.classify(&standardiser.transform(raw)));
//! ```
//!
//! ## On real data
//!
//! `examples/iris.rs`, `examples/wine.rs`, `examples/breast_cancer.rs` and `examples/digits.rs`
//! run stratified 5-fold cross-validation with a progress bar, print the held-out accuracy
//! next to scikit-learn's `MLPClassifier` on the same protocol and the confusion matrix, and
//! draw the training curves to `target/plots/`. `cargo run --release --example digits`.
