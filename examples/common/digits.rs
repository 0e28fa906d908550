//! The UCI optical digits (`data/digits.csv`, see `data/README.md`) for the examples: 8×8
//! images as 64 pixels scaled from 0..16 to 0..1, and the digit.

use std::error::Error;

use nalgebra::SMatrix;
use static_nn::Class;

/// Pixels per image.
pub const FEATURES: usize = 64;
/// Digits.
pub const CLASSES: usize = 10;

/// One image and its digit.
pub type Sample = (SMatrix<f32, FEATURES, 1>, Class<CLASSES>);

/// Reads `pixel_1,...,pixel_64,digit` lines from the crate's `data/digits.csv`.
pub fn load() -> Result<Vec<Sample>, Box<dyn Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv");
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut samples = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let fields = line
            .split(',')
            .map(str::parse::<f32>)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{path}:{}: {e}", number + 1))?;
        let [pixels @ .., digit] = fields.as_slice() else {
            unreachable!("split yields at least one field")
        };
        if pixels.len() != FEATURES {
            return Err(format!("{path}:{}: {} pixels, expected {FEATURES}", number + 1, pixels.len()).into());
        }
        let label = Class::try_from(*digit as usize).map_err(|e| format!("{path}:{}: {e}", number + 1))?;
        samples.push((SMatrix::from_iterator(pixels.iter().map(|p| p / 16.0)), label));
    }
    Ok(samples)
}
