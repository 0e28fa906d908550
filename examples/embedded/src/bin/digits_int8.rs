//! The digits classifier quantised to `int8` and compiled in (`AsConst` of an `Int8Network`,
//! generated on the host by `tests/embedded.rs`): 4,810 weights in 4.7 KiB of flash instead of
//! 19 KiB.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use static_nn_embedded::{DigitsInt8, board, digits_test, print_int8_outputs};

include!("../digits_int8.rs");

#[entry]
fn main() -> ! {
    board::measured((), |()| ());
    print_int8_outputs("digits-int8", &DIGITS_INT8, digits_test());
    board::finish(true)
}
