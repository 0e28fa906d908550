//! The benchmark suite's smallest workload, W1 (2-16-16-1 with tanh, `benches/training.rs`),
//! built on the device from a seed, on eight inputs: its instruction count per inference is
//! the figure to compare with the host's W1 timings.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use static_nn::{Init, Parameters, Rng};
use static_nn_embedded::{W1, board, print_outputs, w1_inputs};

#[entry]
fn main() -> ! {
    board::measured((), |()| ());
    let net = W1::build(Init::PyTorch, &mut Rng::new(1));
    print_outputs("w1", &net, w1_inputs());
    board::finish(true)
}
