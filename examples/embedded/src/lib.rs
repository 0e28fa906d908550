//! What the firmware binaries in `src/bin/` share: the networks' types, the data sets
//! (generated from `data/*.csv` by `build.rs`), the loop that prints a network's outputs, the
//! training code, and the board support in [`board`].
//!
//! Every firmware prints its results over semihosting as lines of a tag, a CSV row and the
//! hexadecimal bits of each value, then the RAM figures, and exits with its status;
//! `tests/embedded.rs` at the repository root runs them in QEMU and compares every line with
//! the same computation on the host.
#![no_std]
#![deny(unsafe_code)]

pub mod board;
pub mod kernel_check;
pub mod training;

use static_nn::nalgebra::SMatrix;
use static_nn::quantised::{Int8Dense, Int8Layer, Int8Network, Int8Relu};
use static_nn::{Dense, Layer, Relu, Tanh};

use board::{Line, measured};

include!(concat!(env!("OUT_DIR"), "/data.rs"));

/// Four measurements in centimetres, sixteen ReLU units, three classes.
pub type Iris = (Dense<f32, 4, 16>, Relu, Dense<f32, 16, 3>);

/// [`Iris`] quantised to `int8` (TFLite's arithmetic), its ReLU folded into the first layer.
pub type IrisInt8 = Int8Network<(Int8Dense<4, 16>, Int8Relu, Int8Dense<16, 3>), 4>;

/// [`Digits`] quantised to `int8`.
pub type DigitsInt8 = Int8Network<(Int8Dense<64, 64>, Int8Relu, Int8Dense<64, 10>), 64>;

/// 8×8 grey levels (0 to 16), 64 ReLU units, ten digits.
pub type Digits = (Dense<f32, 64, 64>, Relu, Dense<f32, 64, 10>);

/// The benchmarks' W1: two inputs, two tanh layers of sixteen, one output.
pub type W1 = (Dense<f32, 2, 16>, Tanh, Dense<f32, 16, 16>, Tanh, Dense<f32, 16, 1>);

/// Eight points of the square [-1, 1]², numbered 0 to 7: `(i / 4 - 1, 1 - i / 8)` for point `i`.
pub fn w1_inputs() -> impl Iterator<Item = (u16, [f32; 2])> {
    (0..8_u16).map(|i| (i, [f32::from(i) / 4.0 - 1.0, 1.0 - f32::from(i) / 8.0]))
}

/// Runs `net` on every input and prints one line per sample: `tag`, the CSV row and the
/// output's bits. The first inference is measured.
pub fn print_outputs<N, const I: usize, const K: usize>(
    tag: &str,
    net: &N,
    inputs: impl IntoIterator<Item = (u16, [f32; I])>,
) where
    N: Layer<f32, SMatrix<f32, I, 1>, Output = SMatrix<f32, K, 1>>,
{
    for (i, (row, x)) in inputs.into_iter().enumerate() {
        let x = SMatrix::<f32, I, 1>::from(x);
        let y = if i == 0 {
            measured(x, |x| net.forward(&x))
        } else {
            net.forward(&core::hint::black_box(x))
        };
        Line::new(tag).decimal(u32::from(row)).floats(y.iter().copied()).send();
    }
}

/// [`print_outputs`] for an `int8` network: each sample is encoded, run in `int8` and its
/// outputs decoded ([`Int8Network::predict`]); the first is measured.
pub fn print_int8_outputs<N, const I: usize, const K: usize>(
    tag: &str,
    net: &Int8Network<N, I>,
    inputs: impl IntoIterator<Item = (u16, [f32; I])>,
) where
    N: Int8Layer<SMatrix<i8, I, 1>, Output = SMatrix<i8, K, 1>>,
{
    for (i, (row, x)) in inputs.into_iter().enumerate() {
        let y: [f32; K] = if i == 0 {
            measured(x, |x| net.predict(&x))
        } else {
            net.predict(&core::hint::black_box(x))
        };
        Line::new(tag).decimal(u32::from(row)).floats(y).send();
    }
}

/// The held-out iris flowers, as the networks take them.
pub fn iris_test() -> impl Iterator<Item = (u16, [f32; 4])> {
    IRIS_TEST.iter().copied()
}

/// The held-out digits, grey levels converted to `f32` (exactly: they are small integers).
pub fn digits_test() -> impl Iterator<Item = (u16, [f32; 64])> {
    DIGITS_TEST.iter().map(|(row, pixels)| (*row, pixels.map(f32::from)))
}
