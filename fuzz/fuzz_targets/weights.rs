//! `format::load`: any input, as it is and with its checksum recomputed, is refused with the
//! network untouched, or gives a sound network.
#![no_main]

use libfuzzer_sys::fuzz_target;
use static_nn::format;
use static_nn_fuzz::{bits, sound, target, with_checksum};

fuzz_target!(|data: &[u8]| {
    for bytes in [data.to_vec(), with_checksum(data)] {
        let mut net = target();
        let before = bits(&net);
        match format::load(&mut net, &bytes) {
            Err(_) => assert_eq!(bits(&net), before),
            Ok(()) => assert!(sound(&net)),
        }
    }
});
