//! Every `int8` kernel the device has (on the Cortex-M4F the DSP extension's `smlad` kernel and
//! the portable loop) on random layers of nine shapes, parameters anywhere in their ranges
//! (`src/kernel_check.rs`). One line per shape: its name, the number of kernels, the cases on
//! which they disagreed and a hash of the outputs, which `tests/embedded.rs` compares with the
//! host's. Exits with status 1 if any kernel disagreed.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use static_nn::quantised::Int8Kernel;
use static_nn_embedded::board::{self, Line};
use static_nn_embedded::kernel_check::{CASES, SHAPES};

#[entry]
fn main() -> ! {
    let mut agree = true;
    for (seed, (name, check)) in (1..).zip(SHAPES) {
        let checked = check(seed, CASES);
        agree &= checked.disagreements == 0;
        Line::new("int8-kernels")
            .text(" ")
            .text(name)
            .decimal(Int8Kernel::available().count() as u32)
            .decimal(checked.disagreements)
            .hex(checked.hash)
            .send();
    }
    board::finish(agree)
}
