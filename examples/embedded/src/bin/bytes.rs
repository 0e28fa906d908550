//! Weights embedded as bytes and loaded at start-up: validated (magic, version, shapes,
//! checksum, finite values), then copied into a network on the stack. No allocator.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use static_nn::bytemuck::Zeroable;
use static_nn::format;
use static_nn_embedded::{FLOWERS, Iris, correct};

static WEIGHTS: &[u8] = include_bytes!("../../iris.snn");

#[entry]
fn main() -> ! {
    let mut net = Iris::zeroed();
    let loaded = format::load(&mut net, WEIGHTS).is_ok();
    let all_right = loaded && correct(&net) == FLOWERS.len();
    core::hint::black_box(all_right);
    loop {}
}
