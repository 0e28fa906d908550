//! Samples and targets: how a user's data becomes batches of a compile-time width.
//!
//! A data set is a slice of [`Sample`](crate::Sample)s, `([T; I], Y)`: `I` input features and a target `Y`.
//! The [`Target`](crate::Target) trait says what a target becomes in a batch and whether a prediction of it is
//! correct:
//!
//! | target `Y` | network output | batch target | loss | accuracy |
//! |---|---|---|---|---|
//! | [`Class<C>`](crate::Class) | `C` logits | `[Class<C>; B]` | [`CrossEntropy`](crate::CrossEntropy) | largest logit is the class |
//! | `[T; K]` | `K` values | `SMatrix<T, K, B>` | [`Mse`](crate::Mse), [`Huber`](crate::Huber), [`BceWithLogits`](crate::BceWithLogits) | none |
//!
//! [`gather`](crate::gather) copies chosen samples into the columns of a batch; [`Trainer`](crate::Trainer)
//! uses it to draw shuffled mini-batches, and [`Dataset`] does the same for a hand-written
//! loop.
//!
//! Around them, what real data needs, in the order a program uses it:
//!
//! | step | items |
//! |---|---|
//! | load | [`parse_csv`] (from a string, e.g. `include_str!`), [`read_csv`] (a file): typed [`CsvError`]s with line numbers; needs `std` |
//! | split | [`stratified_split`] (seeded train/test), [`Folds`] (stratified k-fold cross-validation); need `alloc` |
//! | preprocess | [`Standardiser`] (fitted on the training set; [`Standardiser::fold_into`] the first layer for deployment), [`Class::one_hot`](crate::Class::one_hot) |
//! | batch | [`Dataset`] (shuffled compile-time-width batches; needs `alloc`), [`gather`](crate::gather) |
//! | score | [`Predict`](crate::Predict) (`predict`, `classify` one sample), [`ConfusionMatrix`] (accuracy, recall, precision, a readable table) |
//!
//! ```
//! use static_nn::prelude::*;
//! use static_nn::data::{parse_csv, stratified_split, ConfusionMatrix, Header, Standardiser};
//!
//! let iris_csv = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv"));
//! let iris = parse_csv::<f32, 4, 3>(iris_csv, Header::Counts).unwrap();
//! let (mut train, mut test) = stratified_split(&iris.samples, 0.2, 0);
//! let standardiser = Standardiser::fit(&train); // the training set's statistics only
//! standardiser.apply(&mut train);
//! standardiser.apply(&mut test);
//!
//! type Iris = (Dense<f32, 4, 16>, Relu, Dense<f32, 16, 3>);
//! let mut net = Iris::build(Init::HeUniform, &mut Rng::new(0));
//! let mut trainer = Trainer::<f32, Iris, 4, 16>::new(TrainConfig::with_epochs(100));
//! let mut adam = Adam::new(AdamConfig::with_lr(0.01));
//! trainer.fit(&mut net, &mut adam, &CrossEntropy, &train, None, |_| {}).unwrap();
//!
//! let matrix = ConfusionMatrix::of(&net, &test);
//! assert!(matrix.accuracy() > 0.9, "{}", matrix.with_names(&iris.class_names));
//! ```

#[cfg(feature = "std")]
mod csv;
#[cfg(feature = "alloc")]
mod dataset;
mod metrics;
#[cfg(feature = "alloc")]
mod split;
mod standardise;

#[cfg(feature = "std")]
pub use csv::{CsvError, Header, Labelled, parse_csv, read_csv};
#[cfg(feature = "alloc")]
pub use dataset::{Batches, Dataset};
pub use metrics::ConfusionMatrix;
#[cfg(feature = "alloc")]
pub use split::{Folds, stratified_split};
pub use standardise::Standardiser;
