//! Iris quantised to `int8` with the network compiled in (`AsConst` of an `Int8Network`,
//! generated on the host by `tests/embedded.rs`): integer weights in flash, integer arithmetic
//! on the device, outputs decoded to `f32` for the comparison with the host.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use static_nn_embedded::{IrisInt8, board, iris_test, print_int8_outputs};

include!("../iris_int8.rs");

#[entry]
fn main() -> ! {
    board::measured((), |()| ());
    print_int8_outputs("iris-int8", &IRIS_INT8, iris_test());
    board::finish(true)
}
