//! How calibration values become a tensor's range.

use alloc::vec::Vec;

use super::QuantiseError;

/// The rule that turns the values a tensor took on the calibration data into the range its
/// `int8` encoding covers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ranges {
    /// The smallest and largest value seen (TFLite's converter).
    MinMax,
    /// The `100 − p` and `p` percentiles (nearest rank), for `p` in `(50, 100]`: a few outliers
    /// no longer stretch the scale for every other value, at the price of saturating them.
    Percentile(f32),
}

impl Ranges {
    /// The range of `values` (reordered in place). Empty or non-finite values are errors.
    pub(crate) fn range(&self, values: &mut [f32]) -> Result<(f32, f32), QuantiseError> {
        if values.is_empty() {
            return Err(QuantiseError::NoCalibrationData);
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err(QuantiseError::NonFinite);
        }
        match *self {
            Ranges::MinMax => Ok(values.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            })),
            Ranges::Percentile(p) => {
                if !(p > 50.0 && p <= 100.0) {
                    return Err(QuantiseError::Percentile(p));
                }
                values.sort_unstable_by(f32::total_cmp);
                let last = (values.len() - 1) as f32;
                let upper = libm::roundf(last * p / 100.0) as usize;
                let lower = libm::roundf(last * (100.0 - p) / 100.0) as usize;
                Ok((values[lower.min(values.len() - 1)], values[upper.min(values.len() - 1)]))
            }
        }
    }
}

/// Every value of every tensor of every calibration output, as `f32`.
pub(crate) fn values_of<T: crate::Real, Y: crate::Tensors<T>>(outputs: &[Y]) -> Vec<f32> {
    outputs
        .iter()
        .flat_map(|y| y.tensors().flat_map(|t| t.iter().map(|v| v.to_f64() as f32)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_and_percentiles() {
        let mut values: Vec<f32> = (0..=100).map(|v| v as f32).collect();
        values.push(1e6);
        assert_eq!(Ranges::MinMax.range(&mut values.clone()), Ok((0.0, 1e6)));
        assert_eq!(Ranges::Percentile(99.0).range(&mut values), Ok((1.0, 100.0)));
        assert_eq!(
            Ranges::Percentile(40.0).range(&mut values),
            Err(QuantiseError::Percentile(40.0))
        );
        assert_eq!(Ranges::MinMax.range(&mut []), Err(QuantiseError::NoCalibrationData));
        assert_eq!(Ranges::MinMax.range(&mut [f32::NAN]), Err(QuantiseError::NonFinite));
    }
}
