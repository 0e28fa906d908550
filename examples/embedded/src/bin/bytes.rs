//! Iris with the weights embedded as bytes and loaded at start-up: validated (magic, version,
//! shapes, checksum, finite values), then copied into a network on the stack. No allocator.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use static_nn::bytemuck::Zeroable;
use static_nn::format;
use static_nn_embedded::{Iris, board, iris_test, print_outputs};

static WEIGHTS: &[u8] = include_bytes!("../../iris.snn");

#[entry]
fn main() -> ! {
    board::measured((), |()| ());
    let mut net = Iris::zeroed();
    let loaded = board::measured(WEIGHTS, |weights| format::load(&mut net, weights).is_ok());
    if loaded {
        print_outputs("iris-bytes", &net, iris_test());
    }
    board::finish(loaded)
}
