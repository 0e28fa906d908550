//! Hostile inputs: what an attacker or a careless user can hand the loaders. Every loader either
//! refuses with a typed error and leaves its target bit-identical, or accepts a state from which
//! the next guarded step is finite or refused.

use static_nn::format::{self, Error, Loader, Name, Number};
use static_nn::optim::{PlateauConfig, ReduceLrOnPlateau, Schedule, StepLr};
use static_nn::prelude::*;

type Normed = (Dense<f64, 2, 3>, BatchNorm<f64, 3>, Tanh, Dense<f64, 3, 1>);

fn normed(seed: u64) -> Normed {
    Normed::build(Init::PyTorch, &mut Rng::new(seed))
}

fn negative_variance() -> Error {
    Error::OutOfRange {
        tensor: Name::from_bytes(b"1.running_var"),
        index: 1,
        value: Number::real(-0.25),
        expected: "≥ 0",
    }
}

#[test]
fn a_negative_running_variance_is_refused_by_every_loader() {
    let mut poisoned = normed(1);
    poisoned.1.running_var[1] = -0.25;
    let sgd = Sgd::<f64, Normed>::new(SgdConfig::with_lr(0.1));

    let mut net = normed(2);
    let before = net.clone();
    let weights = format::to_vec(&poisoned).unwrap();
    assert_eq!(format::load(&mut net, &weights), Err(negative_variance()));
    assert_eq!(
        Loader::default().allow_non_finite().load(&mut net, &weights),
        Err(negative_variance())
    );
    let checkpoint = format::checkpoint_to_vec(&poisoned, &sgd, &()).unwrap();
    let mut resumed = Sgd::new(SgdConfig::with_lr(0.1));
    assert_eq!(
        format::load_checkpoint(&mut net, &mut resumed, &mut (), &checkpoint),
        Err(negative_variance())
    );
    #[cfg(feature = "safetensors")]
    {
        let exported = format::safetensors::export(&poisoned).unwrap();
        assert_eq!(
            format::safetensors::import(&mut net, &exported),
            Err(negative_variance())
        );
    }
    assert_eq!(net, before);
    assert_eq!(
        negative_variance().to_string(),
        "1.running_var holds -0.25 at index 1; it must be ≥ 0"
    );
}

#[test]
fn a_plateau_schedule_with_a_nan_or_negative_rate_is_refused_at_load() {
    let net = normed(1);
    let sgd = Sgd::<f64, Normed>::new(SgdConfig::with_lr(0.1));
    for (lr, best, tensor, value) in [
        (f64::NAN, 1.0, "extra.lr_bits", f64::NAN),
        (-1.0, 1.0, "extra.lr_bits", -1.0),
        (f64::INFINITY, 1.0, "extra.lr_bits", f64::INFINITY),
        (0.1, f64::NAN, "extra.best_bits", f64::NAN),
        (0.1, f64::NEG_INFINITY, "extra.best_bits", f64::NEG_INFINITY),
    ] {
        let mut plateau = ReduceLrOnPlateau::new(0.1, PlateauConfig::default());
        plateau.lr = lr;
        plateau.best = best;
        let bytes = format::checkpoint_to_vec(&net, &sgd, &plateau).unwrap();
        let mut target = (normed(2), Sgd::new(SgdConfig::with_lr(0.5)));
        let mut restored = ReduceLrOnPlateau::new(0.2, PlateauConfig::default());
        let before = (target.0.clone(), restored);
        let error = format::load_checkpoint(&mut target.0, &mut target.1, &mut restored, &bytes).unwrap_err();
        let Error::OutOfRange {
            tensor: name,
            value: found,
            ..
        } = error
        else {
            panic!("{error:?}");
        };
        assert_eq!(
            (name, found),
            (Name::from_bytes(tensor.as_bytes()), Number::real(value))
        );
        assert_eq!(
            (target.0, restored, target.1.learning_rate()),
            (before.0, before.1, 0.5)
        );
    }
}

#[test]
fn a_schedule_counter_at_its_largest_loads_and_steps() {
    let net = normed(1);
    let sgd = Sgd::<f64, Normed>::new(SgdConfig::with_lr(0.1));
    let mut schedule = StepLr::new(0.1_f64, 3, 0.5);
    schedule.steps = u64::MAX;
    let bytes = format::checkpoint_to_vec(&net, &sgd, &schedule).unwrap();
    let mut restored = StepLr::new(0.1_f64, 3, 0.5);
    let (mut target, mut optimizer) = (normed(2), Sgd::new(SgdConfig::with_lr(0.1)));
    format::load_checkpoint(&mut target, &mut optimizer, &mut restored, &bytes).unwrap();
    restored.step(0.0);
    assert_eq!(restored.steps, u64::MAX);
    assert!(restored.learning_rate().is_finite());
}
