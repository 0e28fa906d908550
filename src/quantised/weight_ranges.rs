//! How a layer's real weights become each output channel's `int8` scale.

/// The rule that picks each output channel's weight scale (symmetric, zero point 0, values in
/// `[-127, 127]`).
///
/// [`MaxAbs`](Self::MaxAbs) is what TFLite's converter and PyTorch's default per-channel
/// observer (`PerChannelMinMaxObserver`, symmetric) do. A few large weights then set the step
/// for every other weight of their row, even when they multiply inputs that are almost always
/// zero (in a network trained on images, the weights of an always-blank pixel never shrink);
/// [`MinimiseError`](Self::MinimiseError) clips them instead when that changes the row's
/// output less on the calibration data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WeightRanges {
    /// `scale = max |w| / 127`: no weight is clipped.
    #[default]
    MaxAbs,
    /// The clipping threshold `t` in `{k · max |w| / 100 : k = 1, …, 100}` whose
    /// `scale = t / 127` gives the least expected squared error of the row's output on the
    /// calibration inputs `x`, `Σ_i E[x_i²] (w_i − scale · clamp(round(w_i / scale), −127, 127))²`
    /// (each weight's rounding error, weighted by the mean square of the input it multiplies;
    /// the largest `t` of equals): weights beyond `t` saturate.
    MinimiseError,
}

impl WeightRanges {
    /// The weight scale of a row (1 for an all-zero row, as TFLite's converter), given the
    /// mean square of each input on the calibration data.
    pub(crate) fn scale(self, row: &[f32], input_power: &[f64]) -> f32 {
        let largest = row.iter().fold(0.0f32, |m, w| m.max(w.abs()));
        if largest == 0.0 {
            return 1.0;
        }
        match self {
            WeightRanges::MaxAbs => largest / 127.0,
            WeightRanges::MinimiseError => {
                let mut best = (f64::INFINITY, largest / 127.0);
                for percent in (1..=100u8).rev() {
                    let scale = largest * f32::from(percent) / 100.0 / 127.0;
                    let error = squared_error(row, input_power, scale);
                    if error < best.0 {
                        best = (error, scale);
                    }
                }
                best.1
            }
        }
    }
}

/// `Σ_i power_i (w_i − scale · q(w_i))²` with `q(w) = clamp(round(w / scale), −127, 127)`, the
/// rounding the conversion applies.
fn squared_error(row: &[f32], input_power: &[f64], scale: f32) -> f64 {
    let inverse = 1.0 / scale;
    row.iter()
        .zip(input_power)
        .map(|(&w, &power)| {
            let q = libm::roundf(w * inverse).clamp(-127.0, 127.0);
            let e = f64::from(w) - f64::from(scale) * f64::from(q);
            power * e * e
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_abs_keeps_every_weight_and_minimise_error_clips_where_inputs_are_quiet() {
        let mut row: Vec<f32> = (0..64).map(|i| (i as f32 - 31.5) / 40.0).collect();
        let mut power = vec![1.0; 64];
        let max_abs = WeightRanges::MaxAbs.scale(&row, &power);
        assert_eq!(max_abs, 31.5 / 40.0 / 127.0);
        assert_eq!(WeightRanges::MinimiseError.scale(&row, &power), max_abs);

        // An outlier on an input as loud as the others is kept: clipping it costs more.
        row[7] = 20.0;
        assert_eq!(WeightRanges::MinimiseError.scale(&row, &power), 20.0 / 127.0);
        // On an input that is almost always zero it is clipped, and the row's error drops.
        power[7] = 1e-6;
        let clipped = WeightRanges::MinimiseError.scale(&row, &power);
        assert!(clipped < 2.0 / 127.0, "{clipped}");
        assert!(squared_error(&row, &power, clipped) < squared_error(&row, &power, 20.0 / 127.0));

        assert_eq!(WeightRanges::MinimiseError.scale(&[0.0; 4], &[1.0; 4]), 1.0);
        assert_eq!(WeightRanges::MinimiseError.scale(&[3.0, -1.0], &[0.0; 2]), 3.0 / 127.0);
    }
}
