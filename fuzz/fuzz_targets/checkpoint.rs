//! `format::load_checkpoint` with Adam, a plateau schedule and the workspace: any input, as it
//! is and with its checksum recomputed, is refused with everything untouched, or gives a sound
//! state.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nalgebra::SMatrix;
use static_nn::format;
use static_nn::optim::{PlateauConfig, ReduceLrOnPlateau};
use static_nn::prelude::*;
use static_nn_fuzz::{Net, bits, sound, target, with_checksum};

fuzz_target!(|data: &[u8]| {
    load(data);
    load(&with_checksum(data));
});

fn load(data: &[u8]) {
    let mut net = target();
    let mut adam = Adam::<f64, Net>::new(AdamConfig::default());
    let mut extra = (
        ReduceLrOnPlateau::<f64>::new(0.1, PlateauConfig::default()),
        Workspace::<f64, Net, SMatrix<f64, 2, 4>>::new(),
    );
    let before = (bits(&net), adam.steps(), adam.learning_rate().to_bits(), extra.0);
    match format::load_checkpoint(&mut net, &mut adam, &mut extra, data) {
        Err(_) => assert_eq!((bits(&net), adam.steps(), adam.learning_rate().to_bits(), extra.0), before),
        Ok(()) => assert!(sound(&net) && extra.0.lr.is_finite() && extra.0.lr >= 0.0 && !extra.0.best.is_nan()),
    }
}
