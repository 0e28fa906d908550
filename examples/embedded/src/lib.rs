//! An iris classifier for a Cortex-M4F with no heap: what both firmware binaries share.
//!
//! `src/bin/bytes.rs` embeds `iris.snn` with `include_bytes!` and loads it at start-up
//! (`format::load`: checked, copied, no allocation); `src/bin/constant.rs` includes
//! `src/iris_net.rs`, the same weights generated as a Rust `static` (nothing happens at run
//! time). `cargo run --release --example embed` at the repository root writes both files.
#![no_std]

use core::panic::PanicInfo;

use static_nn::nalgebra::SMatrix;
use static_nn::{Dense, Layer, Relu};

/// Four measurements in centimetres, sixteen ReLU units, three classes.
pub type Iris = (Dense<f32, 4, 16>, Relu, Dense<f32, 16, 3>);

/// A few flowers (sepal length, sepal width, petal length, petal width), one per class, and
/// their species.
pub const FLOWERS: [([f32; 4], usize); 3] = [
    ([5.1, 3.5, 1.4, 0.2], 0),
    ([6.4, 3.2, 4.5, 1.5], 1),
    ([6.3, 3.3, 6.0, 2.5], 2),
];

/// The most likely species of one flower.
pub fn classify(net: &Iris, measurements: [f32; 4]) -> usize {
    let scores = net.forward(&SMatrix::<f32, 4, 1>::from(measurements));
    scores.argmax().0
}

/// How many of [`FLOWERS`] the network gets right; `black_box` keeps the compiler from
/// evaluating it at build time, so the firmware really runs inference.
pub fn correct(net: &Iris) -> usize {
    FLOWERS
        .iter()
        .filter(|(x, class)| classify(net, core::hint::black_box(*x)) == *class)
        .count()
}

/// A real device would reset or signal an error; here it stops.
#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    loop {}
}
