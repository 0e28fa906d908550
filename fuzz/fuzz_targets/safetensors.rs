//! `format::safetensors::load`: any input is refused with the network untouched, or gives a
//! sound network.
#![no_main]

use libfuzzer_sys::fuzz_target;
use static_nn::format::safetensors;
use static_nn_fuzz::{bits, sound, target};

fuzz_target!(|data: &[u8]| {
    let mut net = target();
    let before = bits(&net);
    match safetensors::load(&mut net, data) {
        Err(_) => assert_eq!(bits(&net), before),
        Ok(()) => assert!(sound(&net)),
    }
});
