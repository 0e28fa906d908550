//! Why quantisation can fail.

use core::fmt;

/// Why a network could not be quantised.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum QuantiseError {
    /// No calibration samples were given.
    NoCalibrationData,
    /// A calibration input, a weight or an intermediate value is NaN or infinite.
    NonFinite,
    /// [`Ranges::Percentile`](super::Ranges::Percentile) outside `(50, 100]`.
    Percentile(f32),
    /// A [`Softmax`](crate::Softmax) whose input scale is `2^-26` or less: its logits span
    /// less than `256 · 2^-26`, and TFLite's softmax refuses such a scale
    /// ([`Int8Softmax::new`](super::Int8Softmax::new)).
    SoftmaxInputScale(f32),
}

impl fmt::Display for QuantiseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoCalibrationData => f.write_str("no calibration samples: ranges need at least one"),
            Self::NonFinite => f.write_str("a calibration input, weight or intermediate value is not finite"),
            Self::Percentile(p) => write!(f, "percentile {p} is outside (50, 100]"),
            Self::SoftmaxInputScale(s) => {
                write!(
                    f,
                    "softmax input scale {s} is not above 2^-26, which TFLite's int8 softmax needs"
                )
            }
        }
    }
}

impl core::error::Error for QuantiseError {}
