//! The UCI optical digits (`data/digits.csv`, see `data/README.md`) for the examples: 8×8
//! images as 64 pixels scaled from 0..16 to 0..1, and the digit.

use std::error::Error;

use nalgebra::SMatrix;
use static_nn::Class;
use static_nn::data::{Header, read_csv};

/// Pixels per image.
pub const FEATURES: usize = 64;
/// Digits.
pub const CLASSES: usize = 10;

/// One image and its digit.
pub type Sample = (SMatrix<f32, FEATURES, 1>, Class<CLASSES>);

/// Loads the crate's `data/digits.csv` with the library's CSV loader (line-numbered errors).
pub fn load() -> Result<Vec<Sample>, Box<dyn Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv");
    let data = read_csv::<f32, FEATURES, CLASSES>(path, Header::None)?;
    let scaled = data
        .samples
        .into_iter()
        .map(|(pixels, label)| (SMatrix::from_iterator(pixels.iter().map(|p| p / 16.0)), label));
    Ok(scaled.collect())
}
