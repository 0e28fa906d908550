//! Standardisation: zero mean and unit variance per feature, fitted on the training set.

use nalgebra::SVector;

use crate::Sample;
use crate::{Dense, Real};

/// Per-feature standardisation `x' = (x − mean) / scale` (scikit-learn's `StandardScaler`).
///
/// Fit it on the training set only, then apply it to every set: statistics taken from the test
/// set would leak it into training and make the held-out score optimistic. For deployment,
/// [`Standardiser::fold_into`] moves the transformation into the first dense layer, so that
/// the shipped network takes raw inputs.
///
/// ```
/// use static_nn::data::{parse_csv, stratified_split, Header, Standardiser};
///
/// let iris_csv = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv"));
/// let iris = parse_csv::<f32, 4, 3>(iris_csv, Header::Counts).unwrap();
/// let (mut train, mut test) = stratified_split(&iris.samples, 0.2, 0);
/// let standardiser = Standardiser::fit(&train);
/// standardiser.apply(&mut train);
/// standardiser.apply(&mut test);
/// let mean = train.iter().map(|s| s.0[2]).sum::<f32>() / train.len() as f32;
/// assert!(mean.abs() < 1e-5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Standardiser<T, const I: usize> {
    /// The mean of each feature over the samples it was fitted on.
    pub mean: SVector<T, I>,
    /// Their standard deviation (population, divided by `n`, as scikit-learn's); 1 where it
    /// is 0, so that a constant feature becomes 0 rather than NaN.
    pub scale: SVector<T, I>,
}

impl<T: Real, const I: usize> Standardiser<T, I> {
    /// The mean and standard deviation of each feature of `samples`, accumulated in `f64`.
    ///
    /// # Panics
    /// If `samples` is empty.
    pub fn fit<Y>(samples: &[Sample<T, I, Y>]) -> Self {
        assert!(!samples.is_empty(), "cannot fit a standardiser on no samples");
        let n = samples.len() as f64;
        let mut mean = [0.0_f64; I];
        for (x, _) in samples {
            for (m, v) in mean.iter_mut().zip(x) {
                *m += v.to_f64();
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        // Two passes: the sum of squared deviations does not cancel as E[x²] − E[x]² can.
        let mut variance = [0.0_f64; I];
        for (x, _) in samples {
            for ((s, v), m) in variance.iter_mut().zip(x).zip(&mean) {
                let d = v.to_f64() - m;
                *s += d * d;
            }
        }
        Self {
            mean: SVector::from_fn(|i, _| T::of(mean[i])),
            scale: SVector::from_fn(|i, _| {
                // libm's: `f64::sqrt` is not in `core`.
                let deviation = libm::sqrt(variance[i] / n);
                T::of(if deviation > 0.0 { deviation } else { 1.0 })
            }),
        }
    }

    /// One sample's features, standardised.
    pub fn transform(&self, x: &[T; I]) -> [T; I] {
        core::array::from_fn(|i| (x[i] - self.mean[i]) / self.scale[i])
    }

    /// Standardises the features of every sample in place.
    pub fn apply<Y>(&self, samples: &mut [Sample<T, I, Y>]) {
        for (x, _) in samples {
            *x = self.transform(x);
        }
    }

    /// Folds the standardisation into the dense layer that reads the standardised features,
    /// so that it computes the same outputs from raw features:
    /// `W (x − m)/s + b = (W / s) x + (b − (W / s) m)`, dividing column `i` of `W` by `s_i`.
    ///
    /// ```
    /// use static_nn::data::Standardiser;
    /// use static_nn::{Dense, Init, Layer, Parameters, Rng};
    /// use static_nn::nalgebra::{Vector2, Vector3};
    ///
    /// let samples = [([1.0, 10.0], ()), ([3.0, 30.0], ()), ([2.0, 50.0], ())];
    /// let standardiser = Standardiser::<f64, 2>::fit(&samples);
    /// let layer = Dense::<f64, 2, 3>::build(Init::PyTorch, &mut Rng::new(0));
    /// let mut folded = layer.clone();
    /// standardiser.fold_into(&mut folded);
    /// let raw = [2.5, 20.0];
    /// let expected: Vector3<f64> = layer.forward(&Vector2::from(standardiser.transform(&raw)));
    /// assert!((folded.forward(&Vector2::from(raw)) - expected).norm() < 1e-12);
    /// ```
    pub fn fold_into<const O: usize>(&self, layer: &mut Dense<T, I, O>) {
        for (mut column, &s) in layer.weight.column_iter_mut().zip(self.scale.iter()) {
            column /= s;
        }
        layer.bias -= layer.weight * self.mean;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Class, Init, Layer, Parameters, Rng};
    use nalgebra::Vector2;

    #[test]
    fn fits_population_statistics_and_maps_constant_features_to_zero() {
        let samples = [([1.0, 7.0], ()), ([2.0, 7.0], ()), ([6.0, 7.0], ())];
        let s = Standardiser::<f64, 2>::fit(&samples);
        assert_eq!(s.mean, Vector2::new(3.0, 7.0));
        // Deviations −2, −1, 3: variance 14/3 (divided by n, not n − 1).
        assert!((s.scale[0] - (14.0_f64 / 3.0).sqrt()).abs() < 1e-15);
        assert_eq!(s.scale[1], 1.0);
        assert_eq!(s.transform(&[3.0, 7.0]), [0.0, 0.0]);
    }

    #[test]
    fn fitted_on_the_training_set_only() {
        let class = Class::<2>::new(0).unwrap();
        let mut train = [([0.0_f32], class), ([2.0], class), ([4.0], class), ([6.0], class)];
        let mut test = [([10.0_f32], class), ([12.0], class)];
        let s = Standardiser::fit(&train);
        s.apply(&mut train);
        s.apply(&mut test);
        // Training statistics (mean 3, deviation √5), not the test set's or the union's.
        let d = 5.0_f64.sqrt() as f32;
        assert_eq!(s.mean[0], 3.0);
        assert_eq!(s.scale[0], d);
        assert_eq!(train.map(|x| x.0[0]), [-3.0 / d, -1.0 / d, 1.0 / d, 3.0 / d]);
        assert_eq!(test.map(|x| x.0[0]), [7.0 / d, 9.0 / d]);
        assert_eq!(test[0].1, class);
    }

    #[test]
    fn folding_gives_the_same_outputs_on_raw_features() {
        let samples: Vec<([f64; 2], ())> = (0..20).map(|i| ([i as f64, 100.0 - 3.0 * i as f64], ())).collect();
        let s = Standardiser::fit(&samples);
        let layer = Dense::<f64, 2, 4>::build(Init::HeUniform, &mut Rng::new(3));
        let mut folded = layer.clone();
        s.fold_into(&mut folded);
        for (x, ()) in &samples {
            let expected = layer.forward(&Vector2::from(s.transform(x)));
            assert!((folded.forward(&Vector2::from(*x)) - expected).norm() < 1e-12);
        }
    }

    #[test]
    #[should_panic(expected = "cannot fit a standardiser on no samples")]
    fn fitting_nothing_panics() {
        Standardiser::<f32, 3>::fit::<()>(&[]);
    }
}
