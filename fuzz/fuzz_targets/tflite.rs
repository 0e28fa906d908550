//! `format::tflite::read`: any input is refused with an error, or gives a network whose
//! encodings are usable and which runs on every input. Seed the corpus with
//! `tests/fixtures/sine.tflite`, whose layer types these are.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nalgebra::SMatrix;
use static_nn::format::tflite;
use static_nn::quantised::{Int8Dense, Int8Layer};

type Sine = (Int8Dense<1, 16>, Int8Dense<16, 16>, Int8Dense<16, 1>);

fuzz_target!(|data: &[u8]| {
    if let Ok(net) = tflite::read::<Sine, 1>(data) {
        assert!(net.input.scale.is_finite() && net.input.scale > 0.0);
        assert!(net.output.scale.is_finite() && net.output.scale > 0.0);
        for q in -128..=127_i8 {
            let y = net.network.forward(&SMatrix::<i8, 1, 1>::new(q));
            assert!(net.output.dequantise(y[0]).is_finite());
        }
    }
});
