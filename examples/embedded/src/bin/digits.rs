//! The digits classifier, 64-64-10 (4,810 weights, 19 KiB), both ways: loaded from bytes into
//! a network on the stack, and compiled in. The load is measured first, so that the host's
//! instruction counter has its figures before the long printing.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use static_nn::bytemuck::Zeroable;
use static_nn::format;
use static_nn_embedded::{Digits, board, digits_test, print_outputs};

static WEIGHTS: &[u8] = include_bytes!("../../digits.snn");

include!("../digits_net.rs");

#[entry]
fn main() -> ! {
    board::measured((), |()| ());
    let mut net = Digits::zeroed();
    let loaded = board::measured(WEIGHTS, |weights| format::load(&mut net, weights).is_ok());
    print_outputs("digits-constant", &DIGITS, digits_test());
    if loaded {
        print_outputs("digits-bytes", &net, digits_test());
    }
    board::finish(loaded)
}
