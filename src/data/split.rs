//! Seeded, stratified train/test splits and cross-validation folds.

use alloc::vec;
use alloc::vec::Vec;

use crate::Sample;
use crate::{Class, Real, Rng};

/// Splits labelled samples into a training and a test set, keeping each class's share in both
/// (scikit-learn's `train_test_split(stratify=y)`).
///
/// The test set has `round(n × test_fraction)` samples. They are spread over the classes in
/// proportion to the classes' sizes, rounding by largest remainder (ties to the lower class
/// index), so every class's test count is within one of its exact share; within a class, which
/// samples are held out is drawn from `Rng::new(seed)`. Both sets keep the input's order. The
/// same samples and seed always give the same split.
///
/// ```
/// use static_nn::data::{parse_csv, stratified_split, Header};
///
/// let iris_csv = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv"));
/// let iris = parse_csv::<f32, 4, 3>(iris_csv, Header::Counts).unwrap();
/// let (train, test) = stratified_split(&iris.samples, 0.2, 7);
/// assert_eq!((train.len(), test.len()), (120, 30));
/// // 50 of each class in the file: 10 of each in the test set.
/// assert!((0..3).all(|c| test.iter().filter(|s| s.1.index() == c).count() == 10));
/// ```
///
/// # Panics
/// If `test_fraction` is not within `[0, 1]`.
#[allow(clippy::type_complexity)]
pub fn stratified_split<T: Real, const I: usize, const C: usize>(
    samples: &[Sample<T, I, Class<C>>],
    test_fraction: f64,
    seed: u64,
) -> (Vec<Sample<T, I, Class<C>>>, Vec<Sample<T, I, Class<C>>>) {
    assert!(
        (0.0..=1.0).contains(&test_fraction),
        "the test fraction {test_fraction} is not within [0, 1]"
    );
    let mut by_class = shuffled_classes(samples, seed);
    let exact: Vec<f64> = by_class.iter().map(|c| c.len() as f64 * test_fraction).collect();
    let mut counts: Vec<usize> = exact.iter().map(|&e| e as usize).collect();
    // libm's: `f64::round` and `floor` are not in `core`.
    let total = libm::round(samples.len() as f64 * test_fraction) as usize;
    let mut by_remainder: Vec<usize> = (0..C).collect();
    // A stable sort: equal remainders keep the lower class first.
    let remainder = |c: usize| exact[c] - libm::floor(exact[c]);
    by_remainder.sort_by(|&a, &b| remainder(b).total_cmp(&remainder(a)));
    let missing = total.saturating_sub(counts.iter().sum());
    for &class in by_remainder.iter().take(missing) {
        counts[class] += 1;
    }

    let mut held_out = vec![false; samples.len()];
    for (indices, count) in by_class.iter_mut().zip(counts) {
        for &i in &indices[..count] {
            held_out[i] = true;
        }
    }
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (sample, &out) in samples.iter().zip(&held_out) {
        if out { &mut test } else { &mut train }.push(*sample);
    }
    (train, test)
}

/// `k` cross-validation folds that keep each class's share in every fold (scikit-learn's
/// `StratifiedKFold(shuffle=True)`).
///
/// Each class's samples are shuffled (from `Rng::new(seed)`) and dealt to the folds in turn,
/// each class continuing where the previous one stopped, so fold sizes differ by at most one,
/// overall and within every class. [`Folds::split`] gives fold `i` as the test set and the other
/// `k − 1` as the training set.
///
/// ```
/// use static_nn::data::{parse_csv, Folds, Header};
///
/// let wine_csv = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/wine_data.csv"));
/// let wine = parse_csv::<f32, 13, 3>(wine_csv, Header::Counts).unwrap();
/// let folds = Folds::stratified(&wine.samples, 5, 0);
/// let mut tested = 0;
/// for i in 0..folds.k() {
///     let (train, test) = folds.split(i, &wine.samples);
///     assert_eq!(train.len() + test.len(), 178);
///     tested += test.len();
/// }
/// assert_eq!(tested, 178); // every sample is tested exactly once
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folds {
    fold_of: Vec<usize>,
    k: usize,
}

impl Folds {
    /// Assigns each of `samples` to one of `k` folds, stratified by class.
    ///
    /// # Panics
    /// If `k < 2`.
    pub fn stratified<T: Real, const I: usize, const C: usize>(
        samples: &[Sample<T, I, Class<C>>],
        k: usize,
        seed: u64,
    ) -> Self {
        assert!(k >= 2, "cross-validation needs at least 2 folds, not {k}");
        let mut fold_of = vec![0; samples.len()];
        let mut next = 0;
        for indices in shuffled_classes(samples, seed) {
            for i in indices {
                fold_of[i] = next;
                next = (next + 1) % k;
            }
        }
        Self { fold_of, k }
    }

    /// The number of folds.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The fold of each sample, in `0..k`.
    pub fn fold_of(&self) -> &[usize] {
        &self.fold_of
    }

    /// `(training, test)`: the samples outside fold `fold`, and those in it, in input order.
    ///
    /// # Panics
    /// If `fold >= k`, or `samples` is not as long as the slice the folds were made for.
    pub fn split<S: Clone>(&self, fold: usize, samples: &[S]) -> (Vec<S>, Vec<S>) {
        assert!(fold < self.k, "fold {fold} of {}", self.k);
        assert_eq!(
            samples.len(),
            self.fold_of.len(),
            "the folds were made for another number of samples"
        );
        let (mut train, mut test) = (Vec::new(), Vec::new());
        for (sample, &f) in samples.iter().zip(&self.fold_of) {
            if f == fold { &mut test } else { &mut train }.push(sample.clone());
        }
        (train, test)
    }
}

/// For each class, the indices of its samples in a seeded random order.
fn shuffled_classes<T: Real, const I: usize, const C: usize>(
    samples: &[Sample<T, I, Class<C>>],
    seed: u64,
) -> Vec<Vec<usize>> {
    let mut by_class = vec![Vec::new(); C];
    for (i, (_, class)) in samples.iter().enumerate() {
        by_class[class.index()].push(i);
    }
    let mut rng = Rng::new(seed);
    for indices in &mut by_class {
        rng.shuffle(indices);
    }
    by_class
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `counts[c]` samples of class `c`, whose single feature is their position.
    fn labelled<const C: usize>(counts: [usize; C]) -> Vec<Sample<f64, 1, Class<C>>> {
        let mut samples = Vec::new();
        for (c, &n) in counts.iter().enumerate() {
            for _ in 0..n {
                samples.push(([samples.len() as f64], Class::new(c).unwrap()));
            }
        }
        // Interleave the classes, as a file might.
        Rng::new(99).shuffle(&mut samples);
        samples
    }

    fn class_counts<const C: usize>(samples: &[Sample<f64, 1, Class<C>>]) -> [usize; C] {
        let mut counts = [0; C];
        for s in samples {
            counts[s.1.index()] += 1;
        }
        counts
    }

    #[test]
    fn a_split_keeps_class_shares_and_the_total() {
        let samples = labelled([50, 30, 7, 13]);
        let (train, test) = stratified_split(&samples, 0.25, 1);
        assert_eq!(test.len(), 25); // 100 × 0.25
        assert_eq!(train.len(), 75);
        // Exact shares 12.5, 7.5, 1.75, 3.25: floors 12, 7, 1, 3 (23), and the two largest
        // remainders (1.75's, then 12.5's before 7.5's) get one more.
        assert_eq!(class_counts(&test), [13, 7, 2, 3]);
        let mut all: Vec<f64> = train.iter().chain(&test).map(|s| s.0[0]).collect();
        all.sort_by(f64::total_cmp);
        assert_eq!(
            all,
            (0..100).map(f64::from).collect::<Vec<_>>(),
            "a partition of the samples"
        );
    }

    #[test]
    fn a_split_is_determined_by_its_seed_and_keeps_the_order() {
        let samples = labelled([40, 40, 40]);
        let first = stratified_split(&samples, 0.3, 5);
        assert_eq!(first, stratified_split(&samples, 0.3, 5));
        assert_ne!(first.1, stratified_split(&samples, 0.3, 6).1);
        let position = |s: &Sample<f64, 1, Class<3>>| samples.iter().position(|t| t == s).unwrap();
        let positions: Vec<usize> = first.1.iter().map(position).collect();
        assert!(positions.is_sorted());
    }

    #[test]
    fn extreme_fractions_put_everything_on_one_side() {
        let samples = labelled([3, 4]);
        assert_eq!(stratified_split(&samples, 0.0, 0).1.len(), 0);
        assert_eq!(stratified_split(&samples, 1.0, 0).0.len(), 0);
    }

    #[test]
    #[should_panic(expected = "the test fraction 1.5 is not within [0, 1]")]
    fn a_fraction_above_one_panics() {
        stratified_split(&labelled([2, 2]), 1.5, 0);
    }

    #[test]
    fn folds_are_stratified_balanced_and_seeded() {
        let samples = labelled([23, 11, 6]);
        let folds = Folds::stratified(&samples, 5, 3);
        assert_eq!(folds, Folds::stratified(&samples, 5, 3));
        assert_ne!(folds, Folds::stratified(&samples, 5, 4));
        let mut seen = vec![0; samples.len()];
        for i in 0..5 {
            let (train, test) = folds.split(i, &samples);
            assert_eq!(train.len() + test.len(), 40);
            assert_eq!(test.len(), 8);
            for (count, total) in class_counts(&test).into_iter().zip([23, 11, 6]) {
                assert!(
                    count == total / 5 || count == total / 5 + 1,
                    "fold {i}: {count} of {total}"
                );
            }
            for s in &test {
                seen[s.0[0] as usize] += 1;
            }
        }
        assert!(seen.iter().all(|&n| n == 1), "each sample in exactly one test fold");
    }
}
