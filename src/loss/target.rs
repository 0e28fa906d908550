//! Targets: what a loss compares a network's output with, for one sample ([`Class`] or
//! `[T; K]`) and for a batch ([`Target::Batch`]), and [`gather`], which copies samples into the
//! columns of a batch. [`CrossEntropy`](crate::CrossEntropy) scores `Class` targets; the other
//! losses score `[T; K]` ones.

use core::fmt;

use nalgebra::{SMatrix, SVectorView};

use crate::Real;

/// A class index known to be below `C`, the number of classes: the target of [`CrossEntropy`](crate::CrossEntropy).
///
/// Range is checked once, when the label is made, so a loss never meets an index it cannot
/// score.
///
/// ```
/// use static_nn::Class;
/// let label = Class::<3>::new(2).unwrap();
/// assert_eq!(label.index(), 2);
/// assert!(Class::<3>::new(3).is_none());
/// let batch = Class::<10>::batch([3, 1, 4]).unwrap();
/// assert_eq!(batch[2].index(), 4);
/// assert_eq!(Class::<10>::batch([3, 10]).unwrap_err().to_string(), "class index 10 is out of range for 10 classes");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, bytemuck::Zeroable)]
pub struct Class<const C: usize>(u32);

impl<const C: usize> Class<C> {
    /// The class `index`, or `None` if `index >= C`.
    pub const fn new(index: usize) -> Option<Self> {
        if index < C && index <= u32::MAX as usize {
            Some(Self(index as u32))
        } else {
            None
        }
    }

    /// The index, below `C`.
    pub const fn index(self) -> usize {
        self.0 as usize
    }

    /// Labels for a whole batch, or the first out-of-range index.
    pub fn batch<const B: usize>(indices: [usize; B]) -> Result<[Self; B], ClassOutOfRange> {
        let mut out = [Self(0); B];
        for (slot, &index) in out.iter_mut().zip(&indices) {
            *slot = Self::try_from(index)?;
        }
        Ok(out)
    }
}

impl<const C: usize> TryFrom<usize> for Class<C> {
    type Error = ClassOutOfRange;
    fn try_from(index: usize) -> Result<Self, ClassOutOfRange> {
        Self::new(index).ok_or(ClassOutOfRange { index, classes: C })
    }
}

/// A class index that is not below the number of classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassOutOfRange {
    /// The offending index.
    pub index: usize,
    /// The number of classes.
    pub classes: usize,
}

impl fmt::Display for ClassOutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "class index {} is out of range for {} classes",
            self.index, self.classes
        )
    }
}

impl core::error::Error for ClassOutOfRange {}

/// One example: `I` input features and its target.
///
/// ```
/// use static_nn::{Class, Sample};
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
/// use static_nn::{gather, Class};
/// use nalgebra::SMatrix;
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
