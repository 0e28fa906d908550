//! Samples and targets: how a user's data becomes batches of a compile-time width.
//!
//! A data set is a slice of [`Sample`]s, `([T; I], Y)`: `I` input features and a target `Y`.
//! The [`Target`] trait says what a target becomes in a batch and whether a prediction of it is
//! correct:
//!
//! | target `Y` | network output | batch target | loss | accuracy |
//! |---|---|---|---|---|
//! | [`Class<C>`] | `C` logits | `[Class<C>; B]` | [`CrossEntropy`](crate::CrossEntropy) | largest logit is the class |
//! | `[T; K]` | `K` values | `SMatrix<T, K, B>` | [`Mse`](crate::Mse), [`Huber`](crate::Huber), [`BceWithLogits`](crate::BceWithLogits) | none |
//!
//! [`gather`] copies chosen samples into the columns of a batch; [`Trainer`](crate::Trainer)
//! uses it to draw shuffled mini-batches, and [`Dataset`] does the same for a hand-written
//! loop.
//!
//! Around them, what real data needs, in the order a program uses it:
//!
//! | step | items |
//! |---|---|
//! | load | [`parse_csv`] (from a string, e.g. `include_str!`), [`read_csv`] (a file): typed [`CsvError`]s with line numbers; needs `std` |
//! | split | [`stratified_split`] (seeded train/test), [`Folds`] (stratified k-fold cross-validation); need `alloc` |
//! | preprocess | [`Standardiser`] (fitted on the training set; [`Standardiser::fold_into`] the first layer for deployment), [`Class::one_hot`] |
//! | batch | [`Dataset`] (shuffled compile-time-width batches; needs `alloc`), [`gather`] |
//! | score | [`Predict`](crate::Predict) (`predict`, `classify` one sample), [`ConfusionMatrix`] (accuracy, recall, precision, a readable table) |
//!
//! ```
//! use static_nn::prelude::*;
//! use static_nn::data::{parse_csv, stratified_split, ConfusionMatrix, Header, Standardiser};
//!
//! let iris = parse_csv::<f32, 4, 3>(include_str!("../data/iris.csv"), Header::Counts).unwrap();
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

use nalgebra::{SMatrix, SVectorView};

use crate::{Class, Real};

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

/// One example: `I` input features and its target.
///
/// ```
/// use static_nn::Class;
/// use static_nn::data::Sample;
/// let iris: Sample<f32, 4, Class<3>> = ([5.1, 3.5, 1.4, 0.2], Class::new(0).unwrap());
/// let house: Sample<f64, 2, [f64; 1]> = ([120.0, 3.0], [250_000.0]);
/// # let _ = (iris, house);
/// ```
pub type Sample<T, const I: usize, Y> = ([T; I], Y);

/// What a network with `K` outputs is trained to produce for one sample.
///
/// Implemented for [`Class<C>`] (classification, with `K = C`) and `[T; K]` (regression, or
/// per-output probabilities for [`BceWithLogits`](crate::BceWithLogits)). A class count that
/// differs from the network's output width does not compile.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the target of a network with {K} outputs",
    note = "a `Class<C>` target needs a network with exactly C outputs; a `[T; K]` target, exactly K outputs"
)]
pub trait Target<T: Real, const K: usize>: Copy {
    /// What the loss compares a batch of `B` outputs with.
    type Batch<const B: usize>: bytemuck::Zeroable + Clone;

    /// Writes this target into column `column` of a batch target.
    ///
    /// # Panics
    /// If `column >= B`.
    fn put<const B: usize>(&self, batch: &mut Self::Batch<B>, column: usize);

    /// Whether `output` (the network's output for this sample) predicts this target correctly,
    /// for targets that have a notion of accuracy; `None` for the others (the default).
    fn is_correct(&self, output: &SVectorView<'_, T, K>) -> Option<bool> {
        let _ = output;
        None
    }
}

impl<T: Real, const C: usize> Target<T, C> for Class<C> {
    type Batch<const B: usize> = [Class<C>; B];

    fn put<const B: usize>(&self, batch: &mut [Class<C>; B], column: usize) {
        batch[column] = *self;
    }

    /// Correct when the class's output is the largest (the first largest, on ties), which is
    /// the prediction whether the outputs are logits or probabilities.
    fn is_correct(&self, output: &SVectorView<'_, T, C>) -> Option<bool> {
        Some(arg_max(output) == self.index())
    }
}

impl<T: Real, const K: usize> Target<T, K> for [T; K] {
    type Batch<const B: usize> = SMatrix<T, K, B>;

    fn put<const B: usize>(&self, batch: &mut SMatrix<T, K, B>, column: usize) {
        batch.as_mut_slice()[column * K..(column + 1) * K].copy_from_slice(self);
    }
}

impl<const C: usize> Class<C> {
    /// The one-hot vector of this class: 1 at its index, 0 elsewhere. A data set of one-hot
    /// targets `([T; I], [T; C])` trains with [`Mse`](crate::Mse) or
    /// [`BceWithLogits`](crate::BceWithLogits) instead of [`CrossEntropy`](crate::CrossEntropy).
    ///
    /// ```
    /// use static_nn::Class;
    /// assert_eq!(Class::<4>::new(2).unwrap().one_hot::<f32>(), [0.0, 0.0, 1.0, 0.0]);
    /// ```
    pub fn one_hot<T: Real>(self) -> [T; C] {
        core::array::from_fn(|i| if i == self.index() { T::one() } else { T::zero() })
    }
}

/// The index of the first largest entry.
fn arg_max<T: Real, const C: usize>(values: &SVectorView<'_, T, C>) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// Copies `samples[indices[j]]` into column `j` of `inputs` and of `targets`, for each `j`.
/// Columns from `indices.len()` to `B` are left as they were.
///
/// # Panics
/// If there are more than `B` indices, or an index is out of range.
///
/// ```
/// use static_nn::Class;
/// use static_nn::data::gather;
/// use static_nn::nalgebra::SMatrix;
///
/// let samples = [([1.0, 2.0], Class::<3>::new(0).unwrap()), ([3.0, 4.0], Class::new(2).unwrap())];
/// let mut x = SMatrix::<f64, 2, 2>::zeros();
/// let mut labels = [Class::new(0).unwrap(); 2];
/// gather(&samples, &[1, 0], &mut x, &mut labels);
/// assert_eq!(x, SMatrix::<f64, 2, 2>::new(3.0, 1.0, 4.0, 2.0));
/// assert_eq!(labels[0].index(), 2);
/// ```
pub fn gather<T, Y, const I: usize, const K: usize, const B: usize>(
    samples: &[Sample<T, I, Y>],
    indices: &[usize],
    inputs: &mut SMatrix<T, I, B>,
    targets: &mut Y::Batch<B>,
) where
    T: Real,
    Y: Target<T, K>,
{
    assert!(indices.len() <= B, "{} indices for a batch of {B}", indices.len());
    let columns = inputs.as_mut_slice().chunks_exact_mut(I);
    for (column, (&index, input)) in indices.iter().zip(columns).enumerate() {
        let (x, y) = &samples[index];
        input.copy_from_slice(x);
        y.put(targets, column);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Vector3;

    #[test]
    fn classes_are_correct_when_their_output_is_largest() {
        let label = Class::<3>::new(1).unwrap();
        let hit = Vector3::new(0.1_f64, 2.0, -1.0);
        let miss = Vector3::new(3.0_f64, 2.0, -1.0);
        let tie = Vector3::new(2.0_f64, 2.0, -1.0);
        assert_eq!(label.is_correct(&hit.column(0)), Some(true));
        assert_eq!(label.is_correct(&miss.column(0)), Some(false));
        assert_eq!(label.is_correct(&tie.column(0)), Some(false));
        let value = [0.5_f64, 1.0, 2.0];
        assert_eq!(value.is_correct(&hit.column(0)), None);
    }

    #[test]
    fn regression_targets_fill_columns() {
        let samples = [([0.0_f32], [1.0_f32, 2.0]), ([1.0], [3.0, 4.0]), ([2.0], [5.0, 6.0])];
        let mut x = SMatrix::<f32, 1, 4>::from_element(-1.0);
        let mut y = SMatrix::<f32, 2, 4>::from_element(-1.0);
        gather(&samples, &[2, 0, 1], &mut x, &mut y);
        assert_eq!(x, SMatrix::<f32, 1, 4>::new(2.0, 0.0, 1.0, -1.0));
        assert_eq!(y, SMatrix::<f32, 2, 4>::new(5.0, 1.0, 3.0, -1.0, 6.0, 2.0, 4.0, -1.0));
    }

    #[test]
    #[should_panic(expected = "3 indices for a batch of 2")]
    fn too_many_indices_panic() {
        let samples = [([0.0_f64], [0.0_f64])];
        let mut x = SMatrix::<f64, 1, 2>::zeros();
        let mut y = SMatrix::<f64, 1, 2>::zeros();
        gather(&samples, &[0, 0, 0], &mut x, &mut y);
    }
}
